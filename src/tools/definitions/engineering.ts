import { z } from "zod";
import {
  AppError,
  EngineeringAnswerInput,
  EngineeringStartInput,
  Id,
  Run,
  TestVerdict,
} from "../../contracts/index.js";
import { engine } from "../engine.js";
import { journaled } from "../journal.js";
import { assertProject } from "../permissions.js";
import { defineTool } from "../tool.js";

export const engineeringStart = defineTool({
  name: "engineering.start",
  group: "engineering",
  summary:
    "Start engineering for a project: a brief builds it (first time), a changeRequest changes it on a branch merged when its tests pass.",
  input: EngineeringStartInput,
  output: Run,
  async handler(input, ctx) {
    await assertProject(ctx, input.projectId);
    return (await engine()).requestEngineering(journaled(ctx), input);
  },
});

export const engineeringAnswer = defineTool({
  name: "engineering.answer",
  group: "engineering",
  summary:
    "Answer the question a blocked engineering run asked (its result's question): queues the run that continues the work with every answer given so far. Returns the new run.",
  input: EngineeringAnswerInput,
  output: Run,
  async handler(input, ctx) {
    const run = await ctx.store.runs.get(input.runId);
    try {
      await assertProject(ctx, run.projectId);
    } catch {
      // Someone else's run is answered as if it did not exist.
      throw AppError.notFound("engineering run", input.runId);
    }
    return (await engine()).answerEngineering(journaled(ctx), input);
  },
});

export const engineeringStatus = defineTool({
  name: "engineering.status",
  group: "engineering",
  summary:
    "Where an engineering run is (the project's latest, or one by id): status, stage, attempt, every test verdict, the result and the deploy run its green commit started (deployRun, null when none).",
  input: z
    .object({
      projectId: Id.optional().describe("project UUID: its latest engineering run"),
      runId: Id.optional().describe("run UUID"),
    })
    .refine((i) => (i.projectId === undefined) !== (i.runId === undefined), {
      path: ["projectId"],
      message: "give exactly one of projectId or runId",
    }),
  output: z.object({
    run: Run,
    tests: z.array(TestVerdict),
    deployRun: Run.nullable().describe("the deploy run this run's green commit started, or null"),
  }),
  async handler(input, ctx) {
    let run: Run | undefined;
    if (input.runId !== undefined) {
      run = await ctx.store.runs.get(input.runId);
      if (run.kind !== "engineering") throw AppError.notFound("engineering run", input.runId);
    } else if (input.projectId !== undefined) {
      await assertProject(ctx, input.projectId);
      await ctx.store.projects.get(input.projectId);
      const page = await ctx.store.runs.list({
        projectId: input.projectId,
        kind: "engineering",
        limit: 1,
        offset: 0,
      });
      run = page.items[0];
      if (!run)
        throw new AppError("not_found", "no_engineering_run", "the project has no engineering run yet");
    }
    if (!run) throw new AppError("invalid", "invalid_input", "give projectId or runId");
    try {
      await assertProject(ctx, run.projectId);
    } catch {
      throw AppError.notFound("engineering run", run.id);
    }
    const events = await ctx.store.runEvents.list(run.id, { limit: 5000 });
    const tests = events.filter((e) => e.type === "engineering.tested").map((e) => TestVerdict.parse(e.data));
    const deployRun = run.status === "succeeded" ? await (await engine()).deployRunOf(ctx.store, run) : null;
    return { run, tests, deployRun };
  },
});
