import { z } from "zod";

/**
 * Where a cost figure comes from: the provider's (or its CLI's) own figure, our price table on a
 * CLI's token counts, our price table on exact token counts read at the model gateway, or nowhere.
 */
export const CostSource = z.enum(["provider", "estimated", "metered", "unknown"]);
export type CostSource = z.infer<typeof CostSource>;

/** Why a headless turn ended. `completed` is the only reason a turn can be `ok`. */
export const StopReason = z.enum(["completed", "max_turns", "budget", "timeout", "no_report", "error"]);
export type StopReason = z.infer<typeof StopReason>;

/**
 * A worker's final word through the `report` tool: it stopped because the work is complete, it is
 * blocked (with a question for a person) or it failed. The commit is what a tester will check.
 */
export const WorkerReport = z
  .object({
    status: z.enum(["complete", "blocked", "failed"]),
    summary: z.string().trim().min(1).max(10_000),
    question: z.string().trim().min(1).max(2_000).nullable().default(null),
    commit: z
      .string()
      .regex(/^[0-9a-f]{7,64}$/, "a git commit SHA")
      .nullable()
      .default(null),
    /** Set on a `blocked` report whose question is about an acceptance test: that test's path. */
    acceptanceTest: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .nullish()
      .describe("when blocked because an acceptance test is wrong: its path (the architect answers)"),
  })
  .refine((r) => r.status !== "blocked" || r.question !== null, {
    path: ["question"],
    message: "a blocked report must ask its question",
  })
  .refine((r) => !r.acceptanceTest || r.status === "blocked", {
    path: ["acceptanceTest"],
    message: "only a blocked report names an acceptance test",
  });
export type WorkerReport = z.infer<typeof WorkerReport>;

/** A worker that goes on working says where it is through the `progress` tool. */
export const WorkerProgress = z.object({
  step: z.string().trim().min(1).max(200),
  percent: z.number().int().min(0).max(100).nullable().default(null),
  note: z.string().max(2_000).nullable().default(null),
});
export type WorkerProgress = z.infer<typeof WorkerProgress>;

export const TokenCounts = z.object({
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  cacheReadTokens: z.number().int().min(0),
  cacheWriteTokens: z.number().int().min(0),
});
export type TokenCounts = z.infer<typeof TokenCounts>;

/** The normalized outcome of one headless agent invocation, whatever the backend. */
export const AgentResult = z.object({
  ok: z.boolean(),
  stopReason: StopReason,
  finalText: z.string(),
  sessionId: z.string().nullable(),
  model: z.string().nullable(),
  usage: TokenCounts,
  costUsd: z.number().min(0),
  costSource: CostSource,
  turns: z.number().int().min(0),
  durationMs: z.number().int().min(0),
  report: WorkerReport.nullable(),
  /** Set when `ok` is false: a stable code and the agent's (or runtime's) own message. */
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
export type AgentResult = z.infer<typeof AgentResult>;
