import { z } from "zod";
import { CostSource, WorkerReport } from "./agent.js";
import { Id, Slug, Timestamp } from "./ids.js";
import { DeploymentStatus, ProjectStatus, RunStatus, ServerStatus, WorkerState } from "./status.js";

/** A person who may talk to the system (Telegram and/or web login). */
export const UserRole = z.enum(["admin", "user"]);
export const User = z.object({
  id: Id,
  telegramId: z.string().regex(/^\d+$/).nullable(),
  webLogin: z.string().min(1).max(100).nullable(),
  name: z.string().min(1).max(200),
  role: UserRole,
  isAllowed: z.boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type User = z.infer<typeof User>;
export const UserCreate = z
  .object({
    telegramId: z.string().regex(/^\d+$/, "digits only").nullable().default(null),
    webLogin: z.string().min(1).max(100).nullable().default(null),
    name: z.string().trim().min(1).max(200),
    role: UserRole.default("user"),
    isAllowed: z.boolean().default(true),
  })
  .refine((u) => u.telegramId !== null || u.webLogin !== null, {
    message: "a user needs a telegramId or a webLogin",
    path: ["telegramId"],
  });
export type UserCreate = z.input<typeof UserCreate>;
export const UserUpdate = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  role: UserRole.optional(),
  isAllowed: z.boolean().optional(),
});
export type UserUpdate = z.infer<typeof UserUpdate>;

/** A piece of software the system builds and runs for its owner. */
export const Project = z.object({
  id: Id,
  slug: Slug,
  name: z.string().min(1).max(200),
  description: z.string().max(10_000),
  ownerId: Id.nullable(),
  template: z.string().nullable(),
  templateVersion: z.string().nullable(),
  repositoryUrl: z.string().nullable(),
  /** What agents starting a fresh session are told about the project so far. */
  summary: z.string().max(20_000),
  status: ProjectStatus,
  /** Model spend allowed per run of this project (USD), instead of what the agent configs give. */
  runBudgetUsd: z.number().positive().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Project = z.infer<typeof Project>;
export const ProjectCreate = z.object({
  name: z.string().trim().min(1).max(200),
  slug: Slug.optional().describe("defaults to a slug made from the name"),
  description: z.string().max(10_000).default(""),
  ownerId: Id.nullable().default(null),
  template: z.string().min(1).max(100).nullable().default(null),
  templateVersion: z.string().min(1).max(100).nullable().default(null),
});
export type ProjectCreate = z.input<typeof ProjectCreate>;
export const ProjectUpdate = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  description: z.string().max(10_000).optional(),
  template: z.string().min(1).max(100).nullable().optional(),
  templateVersion: z.string().min(1).max(100).nullable().optional(),
  repositoryUrl: z.string().nullable().optional(),
  summary: z.string().max(20_000).optional(),
  runBudgetUsd: z.number().positive().max(100_000).nullable().optional(),
});
export type ProjectUpdate = z.infer<typeof ProjectUpdate>;

/** Capacity a server offers (or a template needs). */
export const Capacity = z.object({
  cpuCores: z.number().positive(),
  memoryMb: z.number().int().positive(),
  diskMb: z.number().int().positive(),
});
export type Capacity = z.infer<typeof Capacity>;

/** A machine projects are deployed to. The SSH key is stored encrypted and never leaves the store. */
export const Server = z.object({
  id: Id,
  handle: Slug,
  host: z.string().min(1).max(255),
  sshPort: z.number().int().min(1).max(65535),
  sshUser: z.string().min(1).max(64),
  hasSshKey: z.boolean(),
  capacity: Capacity.nullable(),
  status: ServerStatus,
  lastHealthCheckAt: Timestamp.nullable(),
  lastError: z.string().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Server = z.infer<typeof Server>;
export const ServerCreate = z.object({
  handle: Slug,
  host: z.string().trim().min(1).max(255),
  sshPort: z.number().int().min(1).max(65535).default(22),
  sshUser: z.string().trim().min(1).max(64).default("root"),
  capacity: Capacity.nullable().default(null),
});
export type ServerCreate = z.input<typeof ServerCreate>;

/** One port on one server held by one project service; unique per server and port. */
export const PortAllocation = z.object({
  id: Id,
  serverId: Id,
  port: z.number().int().min(1).max(65535),
  projectId: Id,
  service: z.string().min(1).max(100),
  createdAt: Timestamp,
});
export type PortAllocation = z.infer<typeof PortAllocation>;
export const PortAllocationCreate = z.object({
  serverId: Id,
  port: z.number().int().min(1).max(65535),
  projectId: Id,
  service: z.string().trim().min(1).max(100).default("app"),
});
export type PortAllocationCreate = z.input<typeof PortAllocationCreate>;

export const RunKind = z.enum(["engineering", "deploy", "provision"]);
export type RunKind = z.infer<typeof RunKind>;

/** One execution of a pipeline for a project. A terminal run always carries a result. */
export const Run = z.object({
  id: Id,
  projectId: Id,
  kind: RunKind,
  status: RunStatus,
  stage: z.string().nullable(),
  attempt: z.number().int().min(0),
  iteration: z.number().int().min(0),
  input: z.record(z.string(), z.unknown()),
  result: z.record(z.string(), z.unknown()).nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  tokensIn: z.number().int().min(0),
  tokensOut: z.number().int().min(0),
  costUsd: z.number().min(0),
  /** What the run may spend on models (USD); reaching it pauses the run `awaiting_approval`. */
  budgetUsd: z.number().positive().nullable(),
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
});
export type Run = z.infer<typeof Run>;
export const RunCreate = z.object({
  projectId: Id,
  kind: RunKind,
  input: z.record(z.string(), z.unknown()).default({}),
});
export type RunCreate = z.input<typeof RunCreate>;

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
]);
export type RunEventType = z.infer<typeof RunEventType>;

/** Append-only record of something that happened in a run. `seq` orders events globally. */
export const RunEvent = z.object({
  seq: z.number().int().positive(),
  runId: Id,
  at: Timestamp,
  type: RunEventType,
  data: z.record(z.string(), z.unknown()),
});
export type RunEvent = z.infer<typeof RunEvent>;
export const RunEventCreate = RunEvent.pick({ runId: true, type: true, data: true });
export type RunEventCreate = z.infer<typeof RunEventCreate>;

export const AgentBackend = z.enum(["claude-code", "factory-droid", "codex", "api", "scripted"]);
export type AgentBackend = z.infer<typeof AgentBackend>;
/**
 * What runs in a worker's sandbox: one of the agent backends, or `none`: a sandbox without an
 * agent, only `exec` runs in it (the Tester's checkout).
 */
export const WorkerBackend = z.enum([...AgentBackend.options, "none"]);
export type WorkerBackend = z.infer<typeof WorkerBackend>;
export const WorkerRuntime = z.enum(["process", "docker"]);
export type WorkerRuntime = z.infer<typeof WorkerRuntime>;
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

/** Immutable record of one deploy attempt. */
export const Deployment = z.object({
  id: Id,
  projectId: Id,
  runId: Id.nullable(),
  serverId: Id.nullable(),
  commitSha: z.string().regex(/^[0-9a-f]{7,64}$/),
  release: z.string().min(1),
  url: z.string().nullable(),
  status: DeploymentStatus,
  healthCheck: z.record(z.string(), z.unknown()).nullable(),
  logsExcerpt: z.string().nullable(),
  createdAt: Timestamp,
  finishedAt: Timestamp.nullable(),
});
export type Deployment = z.infer<typeof Deployment>;
export const DeploymentCreate = Deployment.pick({ projectId: true, commitSha: true, release: true }).extend({
  runId: Id.nullable().default(null),
  serverId: Id.nullable().default(null),
});
export type DeploymentCreate = z.input<typeof DeploymentCreate>;

export const SecretKind = z.enum(["user", "infra", "computed"]);
/** What may be said about a secret: never its value. */
export const SecretMeta = z.object({
  id: Id,
  projectId: Id.nullable(),
  key: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
  kind: SecretKind,
  isFilled: z.boolean(),
  length: z.number().int().min(0),
  createdBy: z.string().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type SecretMeta = z.infer<typeof SecretMeta>;

/**
 * How a stored secret is named wherever it is found (a redactor's label, a model request the
 * gateway blocked): the project's id (or the pool) and the key, never the value.
 */
export function secretLabel(projectId: string | null, key: string): string {
  return projectId ? `project ${projectId} ${key}` : `pool ${key}`;
}

/** How one agent node (po, architect, developer, ...) runs. */
export const AgentConfig = z.object({
  node: AgentRole,
  backend: AgentBackend,
  model: z.string().min(1).max(200),
  prompt: z.string().max(100_000),
  maxTurns: z.number().int().min(1).max(500),
  budgetUsd: z.number().positive().max(1000),
  timeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(24 * 3600 * 1000),
  updatedAt: Timestamp,
});
export type AgentConfig = z.infer<typeof AgentConfig>;
export const AgentConfigUpdate = AgentConfig.omit({ node: true, updatedAt: true }).partial();
export type AgentConfigUpdate = z.infer<typeof AgentConfigUpdate>;

/** Tokens and cost of one agent invocation. */
export const TokenUsage = z.object({
  id: Id,
  workerId: Id.nullable(),
  projectId: Id.nullable(),
  runId: Id.nullable(),
  backend: AgentBackend,
  model: z.string(),
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  cacheReadTokens: z.number().int().min(0),
  cacheWriteTokens: z.number().int().min(0),
  costUsd: z.number().min(0),
  costSource: CostSource,
  createdAt: Timestamp,
});
export type TokenUsage = z.infer<typeof TokenUsage>;
export const TokenUsageCreate = TokenUsage.omit({ id: true, createdAt: true });
export type TokenUsageCreate = z.infer<typeof TokenUsageCreate>;

/** Tool permission groups; a scoped token or role names the groups it may use. */
export const ToolGroup = z.enum([
  "projects",
  "runs",
  "workers",
  "engineering",
  "deploy",
  "servers",
  "secrets",
  "admin",
]);
export type ToolGroup = z.infer<typeof ToolGroup>;

/** An API bearer token: admin (everything) or worker (one project, some tool groups). Hash only. */
export const ApiTokenKind = z.enum(["admin", "worker"]);
export const ApiToken = z.object({
  id: Id,
  name: z.string().min(1).max(100),
  kind: ApiTokenKind,
  projectId: Id.nullable(),
  role: AgentRole.nullable(),
  /** Set for a worker's own token: reports and progress are attributed to this worker. */
  workerId: Id.nullable(),
  groups: z.array(ToolGroup),
  createdAt: Timestamp,
  revokedAt: Timestamp.nullable(),
  lastUsedAt: Timestamp.nullable(),
});
export type ApiToken = z.infer<typeof ApiToken>;

/** The roles a process can take (`up` takes them all). */
export const ProcessRole = z.enum(["api", "workers", "engine"]);
export type ProcessRole = z.infer<typeof ProcessRole>;

/**
 * A running orchestrator process, as its heartbeat in the store shows it: other processes learn
 * from it whether it is alive (`alive`: its lease has not expired by the database's clock) and
 * whether it restarted (`incarnation` changes at every start). Workers nodes keep their id across
 * restarts; engines take a new one each start.
 */
export const Instance = z.object({
  id: z.string().min(1).max(100),
  roles: z.array(ProcessRole).min(1),
  incarnation: z.string().min(1).max(100),
  host: z.string().max(255),
  pid: z.number().int().nonnegative(),
  startedAt: Timestamp,
  heartbeatAt: Timestamp,
  expiresAt: Timestamp,
  alive: z.boolean(),
  /** Where its `/health` answers, when it listens. */
  probeUrl: z.string().nullable(),
});
export type Instance = z.infer<typeof Instance>;
export const InstanceBeat = z.object({
  id: z.string().min(1).max(100),
  roles: z.array(ProcessRole).min(1),
  incarnation: z.string().min(1).max(100),
  host: z.string().max(255),
  pid: z.number().int().nonnegative(),
  ttlMs: z.number().int().positive(),
  probeUrl: z.string().nullable().default(null),
});
export type InstanceBeat = z.input<typeof InstanceBeat>;
