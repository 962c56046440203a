import { z } from "zod";
import { Deployment } from "./deployments.js";
import { Timestamp } from "./ids.js";
import { RunKind } from "./runs.js";
import { ProjectStatus, RunStatus, WorkerState } from "./status.js";

const Count = z.number().int().nonnegative();

/** Tokens and dollars over a period; `estimatedCostUsd` is the part priced by our own table. */
export const SpendTotals = z.object({
  costUsd: z.number().nonnegative(),
  estimatedCostUsd: z.number().nonnegative(),
  inputTokens: Count,
  outputTokens: Count,
  calls: Count,
});
export type SpendTotals = z.infer<typeof SpendTotals>;

/** Runs created in a period, by kind and status (a run still going counts under its status now). */
export const RunCounts = z.array(z.object({ kind: RunKind, status: RunStatus, count: Count }));
export type RunCounts = z.infer<typeof RunCounts>;

/**
 * What the admin dashboard shows at a glance. Periods are calendar periods in UTC: `today` since
 * midnight, `week` the last 7 days, `month` since the first of the month.
 */
export const DashboardSummary = z.object({
  generatedAt: Timestamp,
  projects: z.array(z.object({ status: ProjectStatus, count: Count })),
  runs: z.object({ today: RunCounts, week: RunCounts }),
  workers: z.array(z.object({ state: WorkerState, count: Count })),
  spend: z.object({ today: SpendTotals, month: SpendTotals }),
  /** The newest deployments that failed or were rolled back in the last 7 days, newest first. */
  failingDeployments: z.array(
    Deployment.pick({
      id: true,
      projectId: true,
      runId: true,
      commitSha: true,
      status: true,
      createdAt: true,
    }).extend({ projectSlug: z.string() }),
  ),
  /** Messages dead-lettered per bus stream (only streams with some). */
  deadLetters: z.array(z.object({ stream: z.string(), count: Count })),
});
export type DashboardSummary = z.infer<typeof DashboardSummary>;

/** What the admin pages follow live; each names the records whose change it announces. */
export const LiveTopic = z.enum([
  "projects",
  "runs",
  "deployments",
  "workers",
  "users",
  "servers",
  "pool",
  "spend",
  "settings",
]);
export type LiveTopic = z.infer<typeof LiveTopic>;

/**
 * A fingerprint per topic of what the store holds (counts and latest change times): two reads
 * that differ on a topic mean its records changed in between.
 */
export const ChangeMarks = z.record(LiveTopic, z.string());
export type ChangeMarks = z.infer<typeof ChangeMarks>;

/** One event of the admin stream: the topics whose records changed since the last one. */
export const LiveChange = z.object({ topics: z.array(LiveTopic).min(1) });
export type LiveChange = z.infer<typeof LiveChange>;
