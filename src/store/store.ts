import type {
  AgentBackend,
  AgentConfig,
  AgentConfigUpdate,
  AgentConfigVersion,
  AgentConfigVersionSummary,
  AgentRole,
  ApiToken,
  BotIdentity,
  Capacity,
  ChangeMarks,
  Deployment,
  DeploymentCreate,
  DeploymentStatus,
  HealthTransition,
  HealthTransitionCreate,
  Incident,
  IncidentCreate,
  IncidentStatus,
  Page,
  PageQuery,
  PortAllocation,
  PortAllocationCreate,
  Project,
  ProjectCreate,
  ProjectStatus,
  ProjectUpdate,
  Run,
  RunCreate,
  RunEvent,
  RunEventCreate,
  RunKind,
  RunStatus,
  RuntimeSettingKey,
  RuntimeSettingsUpdate,
  SecretAuditEntry,
  SecretMeta,
  Server,
  ServerCreate,
  ServerStatus,
  SpendReport,
  SpendTotals,
  StoredSetting,
  TokenUsage,
  TokenUsageCreate,
  ToolGroup,
  User,
  UserCreate,
  UserUpdate,
  WebSession,
  Worker,
  WorkerCreate,
  WorkerReport,
  WorkerState,
} from "../contracts/index.js";
import type { SecretRedactor } from "../observability/index.js";
import type { BotPoolRepository } from "./bot-pool-repository.js";
import type { ConversationRepository } from "./chat-repository.js";
import type { CheckpointRepository } from "./checkpoint-repository.js";
import type { InstanceRepository, JobLeaseRepository, ReleaseOwnerRepository } from "./coordination.js";
import type { VaultRepository } from "./vault-repository.js";

/**
 * Repositories return contract objects (validated shapes, ISO timestamps) and throw `AppError`:
 * `not_found` for an unknown id, `conflict` for a unique-key clash or an illegal status move.
 */
export interface UserRepository {
  create(input: UserCreate): Promise<User>;
  get(id: string): Promise<User>;
  findByTelegramId(telegramId: string): Promise<User | null>;
  findByWebLogin(webLogin: string): Promise<User | null>;
  list(page: PageQuery): Promise<Page<User>>;
  update(id: string, patch: UserUpdate): Promise<User>;
}

export interface ProjectRepository {
  create(input: ProjectCreate): Promise<Project>;
  get(id: string): Promise<Project>;
  findBySlug(slug: string): Promise<Project | null>;
  /**
   * Newest first; `q` keeps projects whose name or slug contains it (any case), `status` those in
   * it, `ownerId` one owner's.
   */
  list(page: PageQuery & { ownerId?: string; q?: string; status?: ProjectStatus }): Promise<Page<Project>>;
  update(id: string, patch: ProjectUpdate): Promise<Project>;
  /** Moves the status through `ProjectStatusMachine`; throws `conflict` on an illegal move. */
  setStatus(id: string, to: ProjectStatus): Promise<Project>;
}

export interface ServerRepository {
  create(input: ServerCreate): Promise<Server>;
  get(id: string): Promise<Server>;
  findByHandle(handle: string): Promise<Server | null>;
  list(page: PageQuery): Promise<Page<Server>>;
  setStatus(id: string, to: ServerStatus, lastError?: string | null): Promise<Server>;
  /** Stores (or clears, with null) the vault-encrypted SSH key; `Server` only says `hasSshKey`. */
  setSshKey(id: string, ciphertext: string | null): Promise<Server>;
  /** The encrypted SSH key for the deploy driver to decrypt, or null when none is set. */
  getSshKeyCiphertext(id: string): Promise<string | null>;
  /** Records the capacity a server check measured (or clears it, with null). */
  setCapacity(id: string, capacity: Capacity | null): Promise<Server>;
  /**
   * Every stored SSH key ciphertext (all servers) written at or after `changedSince` (all when
   * absent), oldest first: the redactor learns the keys from them.
   */
  listSshKeyCiphertexts(opts: { changedSince?: string }): Promise<StoredCiphertext[]>;
}

/** A vault ciphertext and when it was last written (ISO), for readers that follow changes. */
export interface StoredCiphertext {
  ciphertext: string;
  updatedAt: string;
  /** Which secret it is (`project <id> KEY`, `pool KEY`, `server <handle> SSH key`): never its value. */
  label: string;
}

export interface PortAllocationRepository {
  /** Atomic: a second allocation of the same server+port throws `conflict`. */
  allocate(input: PortAllocationCreate): Promise<PortAllocation>;
  get(id: string): Promise<PortAllocation>;
  list(page: PageQuery & { serverId?: string; projectId?: string }): Promise<Page<PortAllocation>>;
  release(id: string): Promise<void>;
  /** Releases every port of a project (on one server when `serverId` is given); returns how many. */
  releaseForProject(projectId: string, serverId?: string): Promise<number>;
}

export interface RunTransition {
  stage?: string | null;
  result?: Record<string, unknown> | null;
  error?: { code: string; message: string } | null;
}

export interface RunRepository {
  create(input: RunCreate): Promise<Run>;
  get(id: string): Promise<Run>;
  list(page: PageQuery & { projectId?: string; kind?: RunKind; status?: RunStatus }): Promise<Page<Run>>;
  /**
   * Moves the status through `RunStatusMachine` (compare-and-set on the current status) and stamps
   * started/finished times. A terminal status requires a `result`; `failed`/`blocked` an `error` too.
   */
  transition(id: string, to: RunStatus, change?: RunTransition): Promise<Run>;
  /**
   * `transition`, and in the same transaction the events `eventsOf` makes from the status left:
   * a run is never moved (ended) without its events, whatever stops the process in between.
   */
  transitionWithEvents(
    id: string,
    to: RunStatus,
    change: RunTransition,
    eventsOf: (from: RunStatus) => RunEventCreate[],
  ): Promise<{ run: Run; events: RunEvent[] }>;
  setStage(id: string, stage: string | null): Promise<Run>;
  incrementIteration(id: string): Promise<Run>;
  /** Sets the iteration counter to an exact value (idempotent when a stage is replayed). */
  setIteration(id: string, iteration: number): Promise<Run>;
  /**
   * Takes (or renews) the right to execute a queued or running run for `ttlMs`: true when `owner`
   * now holds it, false when another owner's lease is still valid or the run is terminal.
   */
  claimLease(id: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up (only `owner`'s own). */
  releaseLease(id: string, owner: string): Promise<void>;
  /** Queued or running runs of `kind` whose lease is free or expired, oldest first. */
  listClaimable(kind: RunKind, limit: number): Promise<Run[]>;
  addUsage(id: string, usage: { tokensIn: number; tokensOut: number; costUsd: number }): Promise<Run>;
  /** Sets the run's model budget (USD); null removes it. */
  setBudget(id: string, budgetUsd: number | null): Promise<Run>;
}

export interface RunEventRepository {
  append(input: RunEventCreate): Promise<RunEvent>;
  /** Events of one run with `seq` greater than `afterSeq`, oldest first. */
  list(runId: string, opts: { afterSeq?: number; limit?: number }): Promise<RunEvent[]>;
  /** Events of every run with `seq` greater than `afterSeq`, oldest first: what a subscriber replays. */
  listAfter(afterSeq: number, limit: number): Promise<RunEvent[]>;
}

/** How far each durable run event subscriber has handled the event log (its `seq`). */
export interface EventCursorRepository {
  /** The subscriber's cursor; 0 when it has none yet. */
  get(subscriber: string): Promise<number>;
  /** Moves the cursor forward to `seq`; a smaller `seq` leaves it where it is. */
  advance(subscriber: string, seq: number): Promise<void>;
}

export interface WorkerRepository {
  create(input: WorkerCreate): Promise<Worker>;
  get(id: string): Promise<Worker>;
  list(
    page: PageQuery & { projectId?: string; state?: WorkerState; role?: AgentRole },
  ): Promise<Page<Worker>>;
  setState(id: string, to: WorkerState): Promise<Worker>;
  touch(id: string, change: { sessionId?: string | null; contextTokens?: number }): Promise<Worker>;
  /** Records (or, with null, clears) the worker's report; stamps reportedAt and activity. */
  setReport(id: string, report: WorkerReport | null): Promise<Worker>;
  /**
   * Deletes the records of workers that ended (a terminal state) more than `olderThanMs` ago by the
   * database's clock; returns how many. Their token usage stays, without the worker.
   */
  deleteEnded(olderThanMs: number): Promise<number>;
}

export interface DeploymentRepository {
  create(input: DeploymentCreate): Promise<Deployment>;
  get(id: string): Promise<Deployment>;
  /** Newest first; `status` keeps only deployments in it (e.g. `healthy`: what serves now). */
  list(page: PageQuery & { projectId?: string; status?: DeploymentStatus }): Promise<Page<Deployment>>;
  /** The newest deployment of every project whose newest one is `healthy` (what should serve), oldest first, at most `limit`. */
  serving(limit: number): Promise<Deployment[]>;
  finish(
    id: string,
    to: DeploymentStatus,
    change: {
      url?: string | null;
      healthCheck?: Record<string, unknown> | null;
      logsExcerpt?: string | null;
    },
  ): Promise<Deployment>;
}

export interface SecretRepository {
  /** Stores (or replaces) a ciphertext; returns metadata only. */
  put(input: {
    projectId: string | null;
    key: string;
    kind: SecretMeta["kind"];
    ciphertext: string;
    length: number;
    createdBy: string | null;
    /** A checked bot token's bot (null, or absent, for any other value). */
    bot?: BotIdentity | null;
  }): Promise<SecretMeta>;
  /**
   * Stores a ciphertext only when the project has no secret under `key` yet (insert-or-ignore on
   * the unique project+key), so concurrent writers of a generated value never replace each other:
   * `isCreated` says whether this call's value landed; otherwise the stored one stands.
   */
  putIfAbsent(input: {
    projectId: string | null;
    key: string;
    kind: SecretMeta["kind"];
    ciphertext: string;
    length: number;
    createdBy: string | null;
  }): Promise<{ meta: SecretMeta; isCreated: boolean }>;
  listMeta(projectId: string | null): Promise<SecretMeta[]>;
  getCiphertext(projectId: string | null, key: string): Promise<string | null>;
  /**
   * Ciphertexts of every secret (all projects and the pool) written at or after `changedSince`
   * (all when absent), oldest first: the redactor learns the values from them.
   */
  listCiphertexts(opts: { changedSince?: string }): Promise<StoredCiphertext[]>;
  remove(projectId: string | null, key: string): Promise<void>;
  /** The projects whose stored secret runs the bot `botId` (by its checked identity). */
  projectsWithBot(botId: string): Promise<{ projectId: string; key: string }[]>;

  /** Holds a ciphertext for a conversation that has no project to keep it yet (replaces one of that key). */
  hold(input: { conversationId: string; key: string; ciphertext: string; length: number }): Promise<void>;
  /** What a conversation holds, by key. */
  listHeld(conversationId: string): Promise<{ key: string; ciphertext: string; length: number }[]>;
  /** Drops held secrets of a conversation (once a project adopted them). */
  removeHeld(conversationId: string, keys: readonly string[]): Promise<void>;

  /**
   * Audit rows, newest first: all of them, one project's (`projectId`), or those of the projects an
   * owner has (`ownerId`; rows of no project are then left out). Never a value.
   */
  listAudit(
    query: Partial<PageQuery> & { projectId?: string; ownerId?: string },
  ): Promise<Page<SecretAuditEntry>>;
  /** One `read` audit row per key, by `actor` (a deploy reading a project's secrets to write its environment). */
  recordRead(projectId: string, keys: readonly string[], actor: string): Promise<void>;
}

export interface AgentConfigRepository {
  /** Rows for every role; missing ones are seeded from shipped defaults at migration time. */
  list(): Promise<AgentConfig[]>;
  get(node: AgentRole): Promise<AgentConfig>;
  /**
   * Saves the node's config with `patch` applied as its next version, by `actor` (a token's name
   * and kind), in one transaction with the history row.
   */
  update(node: AgentRole, patch: AgentConfigUpdate, actor: string): Promise<AgentConfig>;
  /** Every saved version of a node, newest first, without prompts. */
  listVersions(node: AgentRole): Promise<AgentConfigVersionSummary[]>;
  /** One saved version in full; `not_found` naming `version` when the node has no such version. */
  getVersion(node: AgentRole, version: number): Promise<AgentConfigVersion>;
  /** Saves an old version's fields again as the node's next version (history is never rewritten). */
  restore(node: AgentRole, version: number, actor: string): Promise<AgentConfig>;
}

/** What the health monitor saw of each project's serving release: changes only. */
export interface HealthTransitionRepository {
  record(input: HealthTransitionCreate): Promise<HealthTransition>;
  /** The project's newest transition (its state now, as the monitor last saw it), or null. */
  last(projectId: string): Promise<HealthTransition | null>;
  /** The transitions of the last `windowMs`, oldest first, after the last one before the window (if any). */
  window(projectId: string, windowMs: number): Promise<HealthTransition[]>;
  /** Deletes transitions older than `olderThanMs`, except each project's newest; returns how many. */
  prune(olderThanMs: number): Promise<number>;
}

/** Incidents of live releases that stayed down (see `Incident`). */
export interface IncidentRepository {
  /**
   * Opens the project's incident, or finds the one already open (at most one per project):
   * `isCreated` says which. The reason and the logs are redacted before they are kept.
   */
  open(input: IncidentCreate): Promise<{ incident: Incident; isCreated: boolean }>;
  get(id: string): Promise<Incident>;
  /** The project's open incident, or null. */
  openFor(projectId: string): Promise<Incident | null>;
  /** Closes it now; `isClosed` is false when it was closed already (a replay changes nothing). */
  close(id: string): Promise<{ incident: Incident; isClosed: boolean }>;
  /** Records how many restarts the monitor tried in all for it. */
  setRestarts(id: string, restarts: number): Promise<Incident>;
  /** Records the engineering run started to repair it; `conflict` when it has one already. */
  setRepair(id: string, runId: string): Promise<Incident>;
  /** Repair runs started for the project's incidents in the last `windowMs`. */
  repairsSince(projectId: string, windowMs: number): Promise<number>;
  /** Newest first; by project, by owner (their projects'), by status. */
  list(
    query: Partial<PageQuery> & { projectId?: string; ownerId?: string; status?: IncidentStatus },
  ): Promise<Page<Incident>>;
}

/** Run-time settings an admin stored over the environment's defaults (see `RuntimeSettings`). */
export interface SettingsRepository {
  /** Every stored value, in no particular order. */
  list(): Promise<StoredSetting[]>;
  /** The stored value of one key, or null when the environment's default is in force. */
  get(key: RuntimeSettingKey): Promise<number | null>;
  /** Sets the given keys (a `null` value removes the stored one), by `actor`, in one transaction. */
  update(patch: RuntimeSettingsUpdate, actor: string): Promise<StoredSetting[]>;
}

/** Tokens and cost summed over the usage rows of one worker, backend and model. */
export interface UsageSummary {
  workerId: string | null;
  backend: AgentBackend;
  model: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  /** The part of `costUsd` priced from the price table (cost source `estimated`), not reported. */
  estimatedCostUsd: number;
}

export interface TokenUsageRepository {
  record(input: TokenUsageCreate): Promise<TokenUsage>;
  list(page: PageQuery & { projectId?: string; runId?: string }): Promise<Page<TokenUsage>>;
  /** Sums of the rows of a run or of a worker (at least one filter), per worker, backend and model. */
  summarize(filter: { runId?: string; workerId?: string }): Promise<UsageSummary[]>;
}

export interface ApiTokenRepository {
  create(input: {
    name: string;
    kind: ApiToken["kind"];
    tokenHash: string;
    projectId: string | null;
    role: AgentRole | null;
    workerId?: string | null;
    /** Required for (and only for) a `user` token. */
    userId?: string | null;
    groups: ToolGroup[];
  }): Promise<ApiToken>;
  /** The live (not revoked) token with this hash, or null. */
  findActiveByHash(tokenHash: string): Promise<ApiToken | null>;
  /** The live (not revoked) token with this id, or null. */
  findActiveById(id: string): Promise<ApiToken | null>;
  list(): Promise<ApiToken[]>;
  revoke(id: string): Promise<ApiToken>;
  /** Revokes every live token bound to a worker; returns how many. */
  revokeForWorker(workerId: string): Promise<number>;
  markUsed(id: string): Promise<void>;
  countActiveAdmins(): Promise<number>;
}

/** Counts and sums behind the admin dashboard (`since`: an ISO timestamp). */
export interface StatsRepository {
  projectsByStatus(): Promise<{ status: ProjectStatus; count: number }[]>;
  /** Runs created since `since`, by kind and their status now. */
  runsByKindAndStatus(since: string): Promise<{ kind: RunKind; status: RunStatus; count: number }[]>;
  workersByState(): Promise<{ state: WorkerState; count: number }[]>;
  /** Token usage recorded since `since`; `estimatedCostUsd` is the part priced by the price table. */
  spendSince(since: string): Promise<SpendTotals>;
  /**
   * Token usage of the UTC days `from`..`to` (both included, `YYYY-MM-DD`): per day (every day of
   * the period), per project, per owner and per backend and model, each summed by the database.
   */
  spend(period: { from: string; to: string }): Promise<Omit<SpendReport, "generatedAt">>;
  /** Deployments created since `since` that failed or were rolled back, newest first. */
  failingDeployments(
    since: string,
    limit: number,
  ): Promise<
    (Pick<Deployment, "id" | "projectId" | "runId" | "commitSha" | "status" | "createdAt"> & {
      projectSlug: string;
    })[]
  >;
  /** A fingerprint per live topic; compare two reads to learn which topics changed (see `ChangeMarks`). */
  changeMarks(): Promise<ChangeMarks>;
}

/** Sign-ins to the web app (see `WebSession`). */
export interface WebSessionRepository {
  /** Stores a session that ends `ttlMs` from now by the database's clock. */
  create(input: {
    secretHash: string;
    tokenId: string;
    csrfToken: string;
    ttlMs: number;
  }): Promise<WebSession>;
  /** The session with this secret's hash if it is neither revoked nor expired, with its CSRF value. */
  findLive(secretHash: string): Promise<{ session: WebSession; csrfToken: string } | null>;
  /** Ends a session (signing out); ending it twice keeps the first time. */
  revoke(id: string): Promise<void>;
  /** Deletes sessions that expired or were revoked more than `olderThanMs` ago; returns how many. */
  deleteEnded(olderThanMs: number): Promise<number>;
}

export type * from "./chat-repository.js";
export type * from "./checkpoint-repository.js";
export type * from "./coordination.js";
export type * from "./vault-repository.js";

/** How a store is opened, beside where its data lives. */
export interface StoreOptions {
  /**
   * Masks secrets in everything the store writes; the process's one redactor, so every writer in
   * every process redacts. Without one, only API-token-shaped strings are masked.
   */
  redactor?: SecretRedactor;
}

/** Everything persistent, behind one object the composition root builds from a driver. */
export interface Store {
  readonly driver: "pglite" | "postgres";
  readonly users: UserRepository;
  readonly projects: ProjectRepository;
  readonly servers: ServerRepository;
  readonly ports: PortAllocationRepository;
  readonly runs: RunRepository;
  readonly runEvents: RunEventRepository;
  readonly eventCursors: EventCursorRepository;
  readonly workers: WorkerRepository;
  readonly deployments: DeploymentRepository;
  readonly healthTransitions: HealthTransitionRepository;
  readonly incidents: IncidentRepository;
  readonly secrets: SecretRepository;
  readonly botPool: BotPoolRepository;
  readonly agentConfigs: AgentConfigRepository;
  readonly settings: SettingsRepository;
  readonly tokenUsage: TokenUsageRepository;
  readonly apiTokens: ApiTokenRepository;
  readonly webSessions: WebSessionRepository;
  readonly stats: StatsRepository;
  readonly checkpoints: CheckpointRepository;
  readonly instances: InstanceRepository;
  readonly releaseOwners: ReleaseOwnerRepository;
  readonly jobLeases: JobLeaseRepository;
  readonly conversations: ConversationRepository;
  /** The vault's key check, and the sealed rows a key rotation re-seals. */
  readonly vault: VaultRepository;
  /** Checks the database answers (used by `/health`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
