import { z } from "zod";
import { WorkerReport } from "./agent.js";
import { Id, Timestamp } from "./ids.js";
import { WorkerState } from "./status.js";

/** The agent programs (or in-process model) a worker can run. */
export const AgentBackend = z.enum(["claude-code", "factory-droid", "codex", "api", "scripted"]);
export type AgentBackend = z.infer<typeof AgentBackend>;
/**
 * What runs in a worker's sandbox: one of the agent backends, or `none`: a sandbox without an
 * agent, only `exec` runs in it (the Tester's checkout).
 */
export const WorkerBackend = z.enum([...AgentBackend.options, "none"]);
export type WorkerBackend = z.infer<typeof WorkerBackend>;
/** Where a worker's sandbox lives: a local process or a Docker container. */
export const WorkerRuntime = z.enum(["process", "docker"]);
export type WorkerRuntime = z.infer<typeof WorkerRuntime>;
/** The roles agents play in the pipeline; agent configs and worker tokens are keyed by them. */
export const AgentRole = z.enum(["po", "architect", "developer", "tester", "devops"]);
export type AgentRole = z.infer<typeof AgentRole>;

/** An agent running for one role on one project, in a sandbox. */
export const Worker = z.object({
  id: Id,
  role: AgentRole,
  backend: WorkerBackend,
  runtime: WorkerRuntime,
  state: WorkerState,
  projectId: Id,
  runId: Id.nullable(),
  sessionId: z.string().nullable(),
  contextTokens: z.number().int().min(0),
  lastActivityAt: Timestamp,
  labels: z.record(z.string(), z.string()),
  /** The last report, cleared when a new turn starts. */
  report: WorkerReport.nullable(),
  reportedAt: Timestamp.nullable(),
  /** Hard end of life: the sweeper terminates the worker after this, whatever its state. */
  expiresAt: Timestamp.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Worker = z.infer<typeof Worker>;
export const WorkerCreate = Worker.pick({ role: true, backend: true, runtime: true, projectId: true }).extend(
  {
    runId: Id.nullable().default(null),
    labels: z.record(z.string(), z.string()).default({}),
    expiresAt: Timestamp.nullable().default(null),
  },
);
export type WorkerCreate = z.input<typeof WorkerCreate>;

/** Tokens and cost summed over a worker's model calls (one backend and model, or all of them). */
export const UsageTotals = z.object({
  calls: z.number().int().min(0),
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  cacheReadTokens: z.number().int().min(0),
  cacheWriteTokens: z.number().int().min(0),
  costUsd: z.number().min(0),
  /** The part of `costUsd` priced from the orchestrator's table: an estimate, not a provider's figure. */
  estimatedCostUsd: z.number().min(0),
});
export type UsageTotals = z.infer<typeof UsageTotals>;

/**
 * What a worker has used, for the admin pages: its context size as its last turn left it (the
 * worker record's `contextTokens`), and the token usage rows recorded for it, summed per backend and
 * model and in all.
 */
export const WorkerUsage = z.object({
  workerId: Id,
  contextTokens: z.number().int().min(0),
  total: UsageTotals,
  byModel: z.array(UsageTotals.extend({ backend: AgentBackend, model: z.string() })),
});
export type WorkerUsage = z.infer<typeof WorkerUsage>;
