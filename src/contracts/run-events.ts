import { z } from "zod";
import { WorkerReport } from "./agent.js";
import { SpendLine } from "./budget.js";
import { TestVerdict } from "./engineering.js";
import { Id, Timestamp } from "./ids.js";
import { RunKind } from "./runs.js";
import { RunStatus, WorkerState } from "./status.js";
import { AgentRole, WorkerBackend } from "./workers.js";

/** Closed set of run event types; the UI, SSE and notifications switch on these. */
export const RunEventType = z.enum([
  "run.created",
  "run.status_changed",
  "run.stage_changed",
  "run.log",
  "worker.state_changed",
  "worker.progress",
  "worker.report",
  "engineering.tested",
  "deploy.succeeded",
  "deploy.failed",
  "deploy.blocked",
  "engineering.acceptance_revised",
  /** A stage redone on a fresh worker because the workers node holding its worker was lost. */
  "engineering.stage_retried",
  "llm.request_blocked",
  "run.budget_exhausted",
  "run.budget_granted",
  /** A worker's turn ran on this saved version of its node's config ("developer v3"). */
  "agent_config.used",
  /** The health monitor found the run's live release down after its restarts (an incident opened). */
  "deploy.incident_opened",
  /** The release of an open incident answers again (the incident closed). */
  "deploy.incident_closed",
]);
export type RunEventType = z.infer<typeof RunEventType>;

const RunError = z.object({ code: z.string(), message: z.string() });

/** Typed payloads, one per event type; the journal's writers build exactly these. */
export const RunCreatedData = z.object({
  kind: RunKind,
  /** Engineering runs: building a new project or changing an existing one. */
  mode: z.enum(["build", "change"]).optional(),
  /** Deploy runs: what the run does. */
  action: z.enum(["deploy", "rollback", "teardown"]).optional(),
});
export const RunStatusChangedData = z.object({
  from: RunStatus,
  to: RunStatus,
  error: RunError.optional(),
});
export const RunStageChangedData = z.object({
  stage: z.string(),
  /** Developer stage: the developer -> tester round this stage starts. */
  iteration: z.number().int().min(0).optional(),
  /** Acceptance revision stage: which revision this is. */
  revision: z.number().int().min(0).optional(),
});
export const RunLogData = z.object({
  message: z.string(),
  commit: z.string().optional(),
  branch: z.string().optional(),
  ports: z.record(z.string(), z.number().int()).optional(),
  revision: z.number().int().min(0).optional(),
  test: z.string().optional(),
});
export const WorkerStateChangedData = z.object({ workerId: Id, from: WorkerState, to: WorkerState });
/** Progress from the agent's output stream, or from the `progress` tool. */
export const WorkerProgressData = z.discriminatedUnion("source", [
  z.object({ workerId: Id, source: z.literal("stream"), kind: z.string(), text: z.string() }),
  z.object({
    workerId: Id,
    source: z.literal("tool"),
    step: z.string(),
    percent: z.number().int().min(0).max(100).nullable(),
    note: z.string().nullable(),
  }),
]);
export const WorkerReportData = z.object({ workerId: Id, ...WorkerReport.shape });
export const EngineeringTestedData = z.object({
  iteration: z.number().int().min(0),
  ...TestVerdict.shape,
});
/** The terminal event of a deploy run, for the chat and the UI. */
export const DeployOutcomeData = z.object({
  projectId: Id,
  commit: z.string().nullable(),
  url: z.string().nullable(),
  botUsername: z.string().nullable(),
  missing: z.array(z.string()),
  /** Why it failed or is blocked; null when it succeeded. */
  reason: z.string().nullable(),
  restoredPrevious: z.boolean(),
});
export const AcceptanceRevisedData = z.object({
  revision: z.number().int().min(0),
  commit: z.string(),
  previousCommit: z.string(),
  test: z.string(),
  reason: z.string(),
  answer: z.string(),
  files: z.array(z.string()),
});
export const StageRetriedData = z.object({
  stage: z.string(),
  node: z.string(),
  workerId: Id.nullable(),
  reason: z.string(),
  retry: z.number().int().min(1),
  maxRetries: z.number().int().min(0),
});
export const LlmRequestBlockedData = z.object({
  workerId: Id,
  role: AgentRole,
  backend: WorkerBackend,
  provider: z.enum(["anthropic", "openai"]),
  /** Names of the secrets found and where in the request (never values). */
  secrets: z.array(z.object({ secret: z.string(), where: z.string() })),
});
export const BudgetExhaustedData = z.object({
  budgetUsd: z.number().min(0),
  spentUsd: z.number().min(0),
  stage: z.string().nullable(),
  spentOn: z.array(SpendLine),
});
export const BudgetGrantedData = z.object({
  addUsd: z.number(),
  budgetUsd: z.number().min(0),
  spentUsd: z.number().min(0),
});

export const AgentConfigUsedData = z.object({
  node: AgentRole,
  version: z.number().int().min(1),
  workerId: Id,
  backend: WorkerBackend,
  model: z.string(),
});

/** An incident of the release a deploy run made live, opened by the health monitor. */
export const IncidentOpenedData = z.object({
  incidentId: Id,
  projectId: Id,
  deploymentId: Id.nullable(),
  reason: z.string(),
  restarts: z.number().int().min(0),
  /** The engineering run started to repair it, or null (auto-repair off or its day's bound reached). */
  repairRunId: Id.nullable(),
});
/** The release of an incident answers again. */
export const IncidentClosedData = z.object({
  incidentId: Id,
  projectId: Id,
  deploymentId: Id.nullable(),
  /** How long it was down, from the incident's opening (seconds). */
  downSeconds: z.number().int().min(0),
});

function eventOf<T extends RunEventType, D extends z.ZodType>(type: T, data: D) {
  return z.object({ runId: Id, type: z.literal(type), data });
}

const RunCreated = eventOf("run.created", RunCreatedData);
const RunStatusChanged = eventOf("run.status_changed", RunStatusChangedData);
const RunStageChanged = eventOf("run.stage_changed", RunStageChangedData);
const RunLog = eventOf("run.log", RunLogData);
const WorkerStateChanged = eventOf("worker.state_changed", WorkerStateChangedData);
const WorkerProgressed = eventOf("worker.progress", WorkerProgressData);
const WorkerReported = eventOf("worker.report", WorkerReportData);
const EngineeringTested = eventOf("engineering.tested", EngineeringTestedData);
const DeploySucceeded = eventOf("deploy.succeeded", DeployOutcomeData);
const DeployFailed = eventOf("deploy.failed", DeployOutcomeData);
const DeployBlocked = eventOf("deploy.blocked", DeployOutcomeData);
const AcceptanceRevised = eventOf("engineering.acceptance_revised", AcceptanceRevisedData);
const StageRetried = eventOf("engineering.stage_retried", StageRetriedData);
const LlmRequestBlocked = eventOf("llm.request_blocked", LlmRequestBlockedData);
const BudgetExhausted = eventOf("run.budget_exhausted", BudgetExhaustedData);
const BudgetGranted = eventOf("run.budget_granted", BudgetGrantedData);
const AgentConfigUsed = eventOf("agent_config.used", AgentConfigUsedData);
const IncidentOpened = eventOf("deploy.incident_opened", IncidentOpenedData);
const IncidentClosed = eventOf("deploy.incident_closed", IncidentClosedData);

/** What a writer hands the journal: the run, the type and that type's payload. */
export const RunEventCreate = z.discriminatedUnion("type", [
  RunCreated,
  RunStatusChanged,
  RunStageChanged,
  RunLog,
  WorkerStateChanged,
  WorkerProgressed,
  WorkerReported,
  EngineeringTested,
  DeploySucceeded,
  DeployFailed,
  DeployBlocked,
  AcceptanceRevised,
  StageRetried,
  LlmRequestBlocked,
  BudgetExhausted,
  BudgetGranted,
  AgentConfigUsed,
  IncidentOpened,
  IncidentClosed,
]);
export type RunEventCreate = z.input<typeof RunEventCreate>;

/** `seq` orders events globally (it may skip numbers); `at` is when the store recorded it. */
const Stored = { seq: z.number().int().positive(), at: Timestamp };

/** Append-only record of something that happened in a run, as stored and read back. */
export const RunEvent = z.discriminatedUnion("type", [
  RunCreated.extend(Stored),
  RunStatusChanged.extend(Stored),
  RunStageChanged.extend(Stored),
  RunLog.extend(Stored),
  WorkerStateChanged.extend(Stored),
  WorkerProgressed.extend(Stored),
  WorkerReported.extend(Stored),
  EngineeringTested.extend(Stored),
  DeploySucceeded.extend(Stored),
  DeployFailed.extend(Stored),
  DeployBlocked.extend(Stored),
  AcceptanceRevised.extend(Stored),
  StageRetried.extend(Stored),
  LlmRequestBlocked.extend(Stored),
  BudgetExhausted.extend(Stored),
  BudgetGranted.extend(Stored),
  AgentConfigUsed.extend(Stored),
  IncidentOpened.extend(Stored),
  IncidentClosed.extend(Stored),
]);
export type RunEvent = z.infer<typeof RunEvent>;

/** The stored event of one type, narrowed (for subscribers that filter by type). */
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;

// Every type in the enum has exactly one payload schema.
type Missing = Exclude<RunEventType, RunEventCreate["type"]>;
const everyTypeHasAPayload: [Missing] extends [never] ? true : Missing = true;
void everyTypeHasAPayload;
