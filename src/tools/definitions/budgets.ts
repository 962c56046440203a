import { z } from "zod";
import { BudgetGrant, Id, Run, SpendLine } from "../../contracts/index.js";
import { engine } from "../engine.js";
import { journaled } from "../journal.js";
import { assertAdmin, assertProject } from "../permissions.js";
import { defineTool } from "../tool.js";

export const runSpend = defineTool({
  name: "run.spend",
  group: "runs",
  summary:
    "What a run spent on models, per agent (role, backend, model, calls, tokens, USD), and its budget.",
  input: z.object({ runId: Id.describe("run UUID") }),
  output: z.object({ run: Run, spentOn: z.array(SpendLine) }),
  async handler(input, ctx) {
    const run = await ctx.store.runs.get(input.runId);
    await assertProject(ctx, run.projectId);
    return { run, spentOn: await (await engine()).spendOf(ctx.store, run.id) };
  },
});

export const runGrantBudget = defineTool({
  name: "run.grant_budget",
  group: "admin",
  summary:
    "Give a run more model budget (USD). A run paused awaiting_approval on its budget resumes where it stopped.",
  input: BudgetGrant,
  output: Run,
  handler: async (input, ctx) => {
    // The `admin` group alone is not enough: a worker token issued with it must not reach other projects' runs.
    assertAdmin(ctx.principal, "run.grant_budget");
    return (await engine()).grantBudget(journaled(ctx), input);
  },
});

export const runCancel = defineTool({
  name: "run.cancel",
  group: "admin",
  summary:
    "Stop a run that is queued, paused awaiting approval, or an engineering run under way (its agents are stopped); it ends cancelled with what it spent. A deploy under way ends by itself.",
  input: z.object({
    runId: Id.describe("run UUID"),
    reason: z.string().trim().min(1).max(500).default("cancelled by an admin").describe("why"),
  }),
  output: Run,
  handler: async (input, ctx) => {
    assertAdmin(ctx.principal, "run.cancel");
    return (await engine()).cancelRun(journaled(ctx), input);
  },
});
