import { z } from "zod";
import { AppError, Id, PageQuery, pageOf, Run, RunKind, RunStatus } from "../../contracts/index.js";
import { assertProject, projectScope } from "../permissions.js";
import { defineTool } from "../tool.js";

export const runGet = defineTool({
  name: "run.get",
  group: "runs",
  summary: "Show one run: status, stage, counters, result and error.",
  input: z.object({ id: Id.describe("run UUID") }),
  output: Run,
  async handler(input, ctx) {
    const run = await ctx.store.runs.get(input.id);
    try {
      assertProject(ctx.principal, run.projectId);
    } catch {
      throw AppError.notFound("run", input.id);
    }
    return run;
  },
});

export const runList = defineTool({
  name: "run.list",
  group: "runs",
  summary: "List runs, newest first, optionally of one project, kind or status.",
  input: PageQuery.extend({
    projectId: Id.optional(),
    kind: RunKind.optional(),
    status: RunStatus.optional(),
  }),
  output: pageOf(Run),
  async handler(input, ctx) {
    const scope = projectScope(ctx.principal);
    if (scope !== undefined) {
      if (input.projectId !== undefined) assertProject(ctx.principal, input.projectId);
      return ctx.store.runs.list({ ...input, projectId: scope });
    }
    return ctx.store.runs.list(input);
  },
});
