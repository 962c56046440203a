import { z } from "zod";
import { AgentRole } from "./workers.js";

/** What one agent of a run spent on models: role, backend and model, calls, tokens and USD. */
export const SpendLine = z.object({
  role: AgentRole.nullable(),
  workerId: z.uuid().nullable(),
  backend: z.string(),
  model: z.string(),
  calls: z.number().int().min(0),
  tokensIn: z.number().int().min(0),
  tokensOut: z.number().int().min(0),
  costUsd: z.number().min(0),
});
export type SpendLine = z.infer<typeof SpendLine>;

/** `run.grant_budget`: USD added to a run's model budget. */
export const BudgetGrant = z.object({
  runId: z.uuid().describe("run UUID"),
  addUsd: z.number().positive().max(10_000).describe("USD to add to the run's budget"),
});
export type BudgetGrant = z.infer<typeof BudgetGrant>;
