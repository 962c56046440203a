/**
 * Drizzle schema: the single description of every table. Migrations under `./migrations` are
 * generated from it by drizzle-kit (`npm run db:generate`); never edit the SQL by hand.
 * Only type imports from `contracts`, so drizzle-kit can load this file on its own.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import type {
  AgentBackend,
  AgentRole,
  ApiToken,
  Capacity,
  DeploymentStatus,
  ProcessRole,
  ProjectStatus,
  RunEventType,
  RunKind,
  RunStatus,
  SecretAuditAction,
  SecretMeta,
  ServerStatus,
  TokenUsage,
  ToolGroup,
  User,
  WorkerBackend,
  WorkerReport,
  WorkerRuntime,
  WorkerState,
} from "../contracts/index.js";
import { id, type Json, optionalStamp, stamp } from "./schema-columns.js";

export * from "./schema-chat.js";
export * from "./schema-checkpoints.js";

export const users = pgTable("users", {
  id: id(),
  telegramId: text("telegram_id").unique("users_telegram_id_unique"),
  webLogin: text("web_login").unique("users_web_login_unique"),
  name: text("name").notNull(),
  role: text("role").$type<User["role"]>().notNull().default("user"),
  isAllowed: boolean("is_allowed").notNull().default(true),
  createdAt: stamp("created_at"),
  updatedAt: stamp("updated_at"),
});

export const projects = pgTable(
  "projects",
  {
    id: id(),
    slug: text("slug").notNull().unique("projects_slug_unique"),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    ownerId: uuid("owner_id").references(() => users.id, { onDelete: "set null" }),
    template: text("template"),
    templateVersion: text("template_version"),
    repositoryUrl: text("repository_url"),
    summary: text("summary").notNull().default(""),
    status: text("status").$type<ProjectStatus>().notNull().default("draft"),
    /** Overrides the run budget the agent configs give (USD per run); null: theirs. */
    runBudgetUsd: doublePrecision("run_budget_usd"),
    /** The health monitor starts an engineering run when the live release stays down. */
    autoRepair: boolean("auto_repair").notNull().default(false),
    createdAt: stamp("created_at"),
    updatedAt: stamp("updated_at"),
  },
  (t) => [index("projects_owner_idx").on(t.ownerId)],
);

export const servers = pgTable("servers", {
  id: id(),
  handle: text("handle").notNull().unique("servers_handle_unique"),
  host: text("host").notNull(),
  sshPort: integer("ssh_port").notNull().default(22),
  sshUser: text("ssh_user").notNull().default("root"),
  // Encrypted by the secrets vault; repositories only ever report whether it is set.
  sshKeyCiphertext: text("ssh_key_ciphertext"),
  capacity: jsonb("capacity").$type<Capacity>(),
  status: text("status").$type<ServerStatus>().notNull().default("pending"),
  lastHealthCheckAt: optionalStamp("last_health_check_at"),
  lastError: text("last_error"),
  createdAt: stamp("created_at"),
  updatedAt: stamp("updated_at"),
});

export const portAllocations = pgTable(
  "port_allocations",
  {
    id: id(),
    serverId: uuid("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    port: integer("port").notNull(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    service: text("service").notNull(),
    createdAt: stamp("created_at"),
  },
  (t) => [
    unique("port_allocations_server_port_unique").on(t.serverId, t.port),
    index("port_allocations_project_idx").on(t.projectId),
  ],
);

export const runs = pgTable(
  "runs",
  {
    id: id(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    kind: text("kind").$type<RunKind>().notNull(),
    status: text("status").$type<RunStatus>().notNull().default("queued"),
    stage: text("stage"),
    attempt: integer("attempt").notNull().default(0),
    iteration: integer("iteration").notNull().default(0),
    input: jsonb("input").$type<Json>().notNull().default({}),
    result: jsonb("result").$type<Json>(),
    error: jsonb("error").$type<{ code: string; message: string }>(),
    tokensIn: integer("tokens_in").notNull().default(0),
    tokensOut: integer("tokens_out").notNull().default(0),
    costUsd: doublePrecision("cost_usd").notNull().default(0),
    /** What the run may spend on models (USD), raised by grants; null: no budget. */
    budgetUsd: doublePrecision("budget_usd"),
    /** The OpenTelemetry trace the run was started in; null when nothing was traced. */
    traceId: text("trace_id"),
    createdAt: stamp("created_at"),
    startedAt: optionalStamp("started_at"),
    finishedAt: optionalStamp("finished_at"),
    /** Which engine process executes the run, until when; an expired lease lets another take over. */
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: optionalStamp("lease_expires_at"),
  },
  (t) => [
    index("runs_project_idx").on(t.projectId, t.createdAt),
    index("runs_status_idx").on(t.status),
    // A green engineering run starts one deploy, whichever engine (or replay) asks first.
    uniqueIndex("runs_deploy_source_unique")
      .on(sql`(${t.input}->>'sourceRunId')`)
      .where(sql`${t.kind} = 'deploy' and ${t.input}->>'sourceRunId' is not null`),
  ],
);

export const runEvents = pgTable(
  "run_events",
  {
    seq: bigserial("seq", { mode: "number" }).primaryKey(),
    runId: uuid("run_id")
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    at: stamp("at"),
    type: text("type").$type<RunEventType>().notNull(),
    data: jsonb("data").$type<Json>().notNull().default({}),
  },
  (t) => [index("run_events_run_seq_idx").on(t.runId, t.seq)],
);

export const workers = pgTable(
  "workers",
  {
    id: id(),
    role: text("role").$type<AgentRole>().notNull(),
    backend: text("backend").$type<WorkerBackend>().notNull(),
    runtime: text("runtime").$type<WorkerRuntime>().notNull(),
    state: text("state").$type<WorkerState>().notNull().default("starting"),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    runId: uuid("run_id").references(() => runs.id, { onDelete: "set null" }),
    sessionId: text("session_id"),
    contextTokens: integer("context_tokens").notNull().default(0),
    lastActivityAt: stamp("last_activity_at"),
    labels: jsonb("labels").$type<Record<string, string>>().notNull().default({}),
    report: jsonb("report").$type<WorkerReport>(),
    reportedAt: optionalStamp("reported_at"),
    expiresAt: optionalStamp("expires_at"),
    createdAt: stamp("created_at"),
    updatedAt: stamp("updated_at"),
  },
  (t) => [index("workers_project_idx").on(t.projectId), index("workers_state_idx").on(t.state)],
);

export const deployments = pgTable(
  "deployments",
  {
    id: id(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    runId: uuid("run_id").references(() => runs.id, { onDelete: "set null" }),
    serverId: uuid("server_id").references(() => servers.id, { onDelete: "set null" }),
    commitSha: text("commit_sha").notNull(),
    release: text("release").notNull(),
    url: text("url"),
    status: text("status").$type<DeploymentStatus>().notNull().default("pending"),
    healthCheck: jsonb("health_check").$type<Json>(),
    logsExcerpt: text("logs_excerpt"),
    createdAt: stamp("created_at"),
    finishedAt: optionalStamp("finished_at"),
  },
  (t) => [index("deployments_project_idx").on(t.projectId, t.createdAt)],
);

/**
 * What the health monitor saw of each project's serving release, changes only (up -> down -> up):
 * enough to tell the uptime over a day. Old rows go with the monitor's own pruning.
 */
export const healthTransitions = pgTable(
  "health_transitions",
  {
    id: id(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    deploymentId: uuid("deployment_id").references(() => deployments.id, { onDelete: "set null" }),
    isUp: boolean("is_up").notNull(),
    reason: text("reason"),
    at: stamp("at"),
  },
  (t) => [index("health_transitions_project_idx").on(t.projectId, t.at)],
);

/**
 * A live release that stayed down after the monitor's restarts, until it answers again. At most one
 * open incident per project (the partial unique index), so a second opening finds the first.
 */
export const incidents = pgTable(
  "incidents",
  {
    id: id(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    deploymentId: uuid("deployment_id").references(() => deployments.id, { onDelete: "set null" }),
    reason: text("reason").notNull(),
    logsExcerpt: text("logs_excerpt").notNull().default(""),
    restarts: integer("restarts").notNull().default(0),
    repairRunId: uuid("repair_run_id").references(() => runs.id, { onDelete: "set null" }),
    repairStartedAt: optionalStamp("repair_started_at"),
    openedAt: stamp("opened_at"),
    closedAt: optionalStamp("closed_at"),
  },
  (t) => [
    index("incidents_project_idx").on(t.projectId, t.openedAt),
    uniqueIndex("incidents_one_open_per_project").on(t.projectId).where(sql`${t.closedAt} is null`),
  ],
);

export const secrets = pgTable(
  "secrets",
  {
    id: id(),
    // null = the admin-managed pool (e.g. spare bot tokens), not a project.
    projectId: uuid("project_id").references(() => projects.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    kind: text("kind").$type<SecretMeta["kind"]>().notNull(),
    ciphertext: text("ciphertext").notNull(),
    length: integer("length").notNull(),
    createdBy: text("created_by"),
    // A Telegram bot token's bot, as `getMe` named it when the token was checked: public, and what
    // tells two projects apart that would run the same bot.
    botId: text("bot_id"),
    botUsername: text("bot_username"),
    createdAt: stamp("created_at"),
    updatedAt: stamp("updated_at"),
  },
  // NULLS NOT DISTINCT so two pool secrets (project_id null) cannot share a key.
  (t) => [
    unique("secrets_project_key_unique").on(t.projectId, t.key).nullsNotDistinct(),
    index("secrets_bot_idx").on(t.botId),
  ],
);

/**
 * Pre-registered Telegram bots admins add for people who have no token of their own. A row with
 * `project_id` null is free; taking one sets it in the same statement that finds it.
 */
export const botPool = pgTable(
  "bot_pool",
  {
    id: id(),
    botId: text("bot_id").notNull(),
    botUsername: text("bot_username").notNull(),
    ciphertext: text("ciphertext").notNull(),
    length: integer("length").notNull(),
    projectId: uuid("project_id").references(() => projects.id, { onDelete: "set null" }),
    addedBy: text("added_by"),
    createdAt: stamp("created_at"),
    updatedAt: stamp("updated_at"),
    takenAt: optionalStamp("taken_at"),
  },
  (t) => [
    uniqueIndex("bot_pool_bot_unique").on(t.botId),
    uniqueIndex("bot_pool_project_unique").on(t.projectId),
  ],
);

/** Projects that asked for a pool bot while the pool was empty, served oldest first when one is added. */
export const botPoolWaits = pgTable("bot_pool_waits", {
  projectId: uuid("project_id")
    .primaryKey()
    .references(() => projects.id, { onDelete: "cascade" }),
  since: stamp("since"),
});

/**
 * One row: a known text sealed with the vault key the stored secrets are sealed with, so a process
 * started with another key is refused before it reads garbage or seals with the wrong key.
 */
export const vaultCheck = pgTable("vault_check", {
  id: integer("id").primaryKey(),
  keyId: text("key_id").notNull(),
  ciphertext: text("ciphertext").notNull(),
  /** The key a rotation in progress seals with (its id), null when none is under way. */
  rotatingTo: text("rotating_to"),
  updatedAt: stamp("updated_at"),
});

/** Who did what to which secret (never the value). */
export const secretAudit = pgTable(
  "secret_audit",
  {
    id: id(),
    projectId: uuid("project_id"),
    key: text("key").notNull(),
    // `hold`: taken out of a conversation, kept for it until a project adopts it (`projectId` null).
    action: text("action").$type<SecretAuditAction>().notNull(),
    actor: text("actor"),
    at: stamp("at"),
  },
  (t) => [index("secret_audit_project_idx").on(t.projectId, t.at)],
);

export const agentConfigs = pgTable("agent_configs", {
  node: text("node").$type<AgentRole>().primaryKey(),
  backend: text("backend").$type<AgentBackend>().notNull(),
  model: text("model").notNull(),
  prompt: text("prompt").notNull(),
  maxTurns: integer("max_turns").notNull(),
  budgetUsd: doublePrecision("budget_usd").notNull(),
  timeoutMs: integer("timeout_ms").notNull(),
  /** The saved version this row holds (`agent_config_versions`); 1 is the shipped default. */
  version: integer("version").notNull().default(1),
  updatedAt: stamp("updated_at"),
});

/** Every saved version of every node's config, never rewritten: a restore adds a version. */
export const agentConfigVersions = pgTable(
  "agent_config_versions",
  {
    node: text("node").$type<AgentRole>().notNull(),
    version: integer("version").notNull(),
    backend: text("backend").$type<AgentBackend>().notNull(),
    model: text("model").notNull(),
    prompt: text("prompt").notNull(),
    maxTurns: integer("max_turns").notNull(),
    budgetUsd: doublePrecision("budget_usd").notNull(),
    timeoutMs: integer("timeout_ms").notNull(),
    /** The saving token's name and kind (`shipped default` for version 1). */
    createdBy: text("created_by").notNull(),
    createdAt: stamp("created_at"),
  },
  (t) => [primaryKey({ columns: [t.node, t.version] })],
);

/** Run-time settings an admin changed (`RuntimeSettings`); a missing key means the environment's value. */
export const settings = pgTable("settings", {
  key: text("key").primaryKey(),
  value: jsonb("value").notNull(),
  updatedBy: text("updated_by").notNull(),
  updatedAt: stamp("updated_at"),
});

export const tokenUsage = pgTable(
  "token_usage",
  {
    id: id(),
    workerId: uuid("worker_id").references(() => workers.id, { onDelete: "set null" }),
    projectId: uuid("project_id").references(() => projects.id, { onDelete: "set null" }),
    runId: uuid("run_id").references(() => runs.id, { onDelete: "set null" }),
    backend: text("backend").$type<AgentBackend>().notNull(),
    model: text("model").notNull(),
    inputTokens: integer("input_tokens").notNull().default(0),
    outputTokens: integer("output_tokens").notNull().default(0),
    cacheReadTokens: integer("cache_read_tokens").notNull().default(0),
    cacheWriteTokens: integer("cache_write_tokens").notNull().default(0),
    costUsd: doublePrecision("cost_usd").notNull().default(0),
    costSource: text("cost_source").$type<TokenUsage["costSource"]>().notNull(),
    createdAt: stamp("created_at"),
  },
  (t) => [index("token_usage_project_idx").on(t.projectId), index("token_usage_run_idx").on(t.runId)],
);

export const apiTokens = pgTable("api_tokens", {
  id: id(),
  name: text("name").notNull(),
  kind: text("kind").$type<ApiToken["kind"]>().notNull(),
  tokenHash: text("token_hash").notNull().unique("api_tokens_token_hash_unique"),
  projectId: uuid("project_id").references(() => projects.id, { onDelete: "cascade" }),
  role: text("role").$type<AgentRole>(),
  workerId: uuid("worker_id").references(() => workers.id, { onDelete: "cascade" }),
  /** The person a `user` token acts for; their tokens go with them. */
  userId: uuid("user_id").references(() => users.id, { onDelete: "cascade" }),
  groups: jsonb("groups").$type<ToolGroup[]>().notNull().default([]),
  createdAt: stamp("created_at"),
  revokedAt: optionalStamp("revoked_at"),
  lastUsedAt: optionalStamp("last_used_at"),
});

/**
 * The heartbeat of each running orchestrator process (an engine, a workers node, an API): a lease
 * it renews while alive, judged by the database's clock so machines need not agree on the time.
 */
export const instances = pgTable("instances", {
  id: text("id").primaryKey(),
  roles: jsonb("roles").$type<ProcessRole[]>().notNull(),
  /** New at every start of the process: a changed value means it restarted. */
  incarnation: text("incarnation").notNull(),
  host: text("host").notNull(),
  pid: integer("pid").notNull(),
  probeUrl: text("probe_url"),
  startedAt: stamp("started_at"),
  heartbeatAt: stamp("heartbeat_at"),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
});

/**
 * Who supervises each project's `local` release: the engine instance (id and incarnation) that
 * started it, where, under which pid and on which port. Engines compare-and-set `version` to take a
 * project, so two cannot both hold one; a live owner that lost a project to another engine clears
 * `handover_*` once it has stopped its copy.
 */
export const releaseOwners = pgTable("release_owners", {
  projectId: uuid("project_id")
    .primaryKey()
    .references(() => projects.id, { onDelete: "cascade" }),
  /** The release that should run; null after a teardown (nothing should). */
  release: text("release"),
  port: integer("port"),
  /** Null when nobody supervises it (its engine stopped cleanly): any engine may adopt it at once. */
  ownerId: text("owner_id"),
  ownerIncarnation: text("owner_incarnation"),
  host: text("host"),
  /** The leader of the release's process group now; null between restarts or when stopped. */
  pid: integer("pid"),
  /** The previous owner, still alive when the project was taken, that must stop its copy. */
  handoverId: text("handover_id"),
  handoverIncarnation: text("handover_incarnation"),
  /** Raised by every change of ownership: the value a compare-and-set expects. */
  version: integer("version").notNull().default(1),
  updatedAt: stamp("updated_at"),
});

/**
 * How far each durable subscriber of run events has read: every event up to `seq` is handled. A
 * subscriber replays from here after a restart (its handler is idempotent), so nothing is lost.
 */
export const eventCursors = pgTable("event_cursors", {
  subscriber: text("subscriber").primaryKey(),
  seq: bigint("seq", { mode: "number" }).notNull().default(0),
  updatedAt: stamp("updated_at"),
});

/**
 * Leadership of a scheduled job when several processes run the scheduler: one holder at a time,
 * until its lease expires (judged by the database's clock).
 */
export const jobLeases = pgTable("job_leases", {
  job: text("job").primaryKey(),
  holder: text("holder").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  updatedAt: stamp("updated_at"),
});

/**
 * Sign-ins to the web app (see `WebSession`): the hash of the cookie's secret, the token it acts
 * as, and when it ends (judged by the database's clock). A revoked token's sessions go with it.
 */
export const webSessions = pgTable(
  "web_sessions",
  {
    id: id(),
    secretHash: text("secret_hash").notNull().unique("web_sessions_secret_hash_unique"),
    tokenId: uuid("token_id")
      .notNull()
      .references(() => apiTokens.id, { onDelete: "cascade" }),
    /** Echoed by the page in `x-csrf-token` on every write; useless without the cookie. */
    csrfToken: text("csrf_token").notNull(),
    createdAt: stamp("created_at"),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    revokedAt: optionalStamp("revoked_at"),
  },
  (t) => [index("web_sessions_expires_idx").on(t.expiresAt)],
);
