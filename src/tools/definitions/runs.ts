import { z } from "zod";
import { AppError, Id, PageQuery, pageOf, Run, RunKind, RunStatus } from "../../contracts/index.js";
import { assertProject, listScope } from "../permissions.js";
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
      await assertProject(ctx, run.projectId);
    } catch {
      throw AppError.notFound("run", input.id);
    }
    return run;
  },
});

export const runList = defineTool({
  name: "run.list",
  group: "runs",
  summary: "List runs, newest first, optionally of one project (required for a user token), kind or status.",
  input: PageQuery.extend({
    projectId: Id.optional(),
    kind: RunKind.optional(),
    status: RunStatus.optional(),
  }),
  output: pageOf(Run),
  async handler(input, ctx) {
    const scope = listScope(ctx.principal);
    if (scope && "projectId" in scope) {
      if (input.projectId !== undefined) await assertProject(ctx, input.projectId);
      return ctx.store.runs.list({ ...input, projectId: scope.projectId });
    }
    if (scope && "ownerId" in scope) {
      // Runs are listed one owned project at a time.
      if (input.projectId === undefined) {
        throw new AppError("invalid", "invalid_input", "give the projectId whose runs to list", {
          details: [{ path: "projectId", message: "required for a user token" }],
        });
      }
      await assertProject(ctx, input.projectId);
    }
    return ctx.store.runs.list(input);
  },
});
