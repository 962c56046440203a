import type {
  AgentBackend,
  AgentConfig,
  AgentConfigUpdate,
  AgentRole,
  ApiToken,
  Capacity,
  Deployment,
  DeploymentCreate,
  DeploymentStatus,
  Instance,
  InstanceBeat,
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
  SecretMeta,
  Server,
  ServerCreate,
  ServerStatus,
  TokenUsage,
  TokenUsageCreate,
  ToolGroup,
  User,
  UserCreate,
  UserUpdate,
  Worker,
  WorkerCreate,
  WorkerReport,
  WorkerState,
} from "../contracts/index.js";
import type { SecretRedactor } from "../observability/index.js";

/**
 * Repositories return contract objects (validated shapes, ISO timestamps) and throw `AppError`:
 * `not_found` for an unknown id, `conflict` for a unique-key clash or an illegal status move.
 */
export interface UserRepository {
  create(input: UserCreate): Promise<User>;
  get(id: string): Promise<User>;
  findByTelegramId(telegramId: string): Promise<User | null>;
  list(page: PageQuery): Promise<Page<User>>;
  update(id: string, patch: UserUpdate): Promise<User>;
}

export interface ProjectRepository {
  create(input: ProjectCreate): Promise<Project>;
  get(id: string): Promise<Project>;
  findBySlug(slug: string): Promise<Project | null>;
  list(page: PageQuery & { ownerId?: string }): Promise<Page<Project>>;
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
  list(page: PageQuery & { projectId?: string; state?: WorkerState }): Promise<Page<Worker>>;
  setState(id: string, to: WorkerState): Promise<Worker>;
  touch(id: string, change: { sessionId?: string | null; contextTokens?: number }): Promise<Worker>;
  /** Records (or, with null, clears) the worker's report; stamps reportedAt and activity. */
  setReport(id: string, report: WorkerReport | null): Promise<Worker>;
}

export interface DeploymentRepository {
  create(input: DeploymentCreate): Promise<Deployment>;
  get(id: string): Promise<Deployment>;
  /** Newest first; `status` keeps only deployments in it (e.g. `healthy`: what serves now). */
  list(page: PageQuery & { projectId?: string; status?: DeploymentStatus }): Promise<Page<Deployment>>;
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
}

export interface AgentConfigRepository {
  /** Rows for every role; missing ones are seeded from shipped defaults at migration time. */
  list(): Promise<AgentConfig[]>;
  get(node: AgentRole): Promise<AgentConfig>;
  update(node: AgentRole, patch: AgentConfigUpdate): Promise<AgentConfig>;
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
  list(): Promise<ApiToken[]>;
  revoke(id: string): Promise<ApiToken>;
  /** Revokes every live token bound to a worker; returns how many. */
  revokeForWorker(workerId: string): Promise<number>;
  markUsed(id: string): Promise<void>;
  countActiveAdmins(): Promise<number>;
}

/** One serialized value: `type` names the serde encoding, `value` its bytes (null for an empty channel). */
export interface CheckpointBlob {
  channel: string;
  version: string;
  type: string;
  value: Uint8Array | null;
}

/** One pending write of a task against a checkpoint; `idx` < 0 marks a special channel (upserted). */
export interface CheckpointWrite {
  taskId: string;
  idx: number;
  channel: string;
  type: string;
  value: Uint8Array;
  taskPath: string;
}

/** Where a checkpoint lives: thread, namespace ("" for the root graph) and id. */
export interface CheckpointKey {
  threadId: string;
  checkpointNs: string;
  checkpointId: string;
}

/** A stored checkpoint with the channel values its versions point at and its pending writes. */
export interface StoredCheckpoint extends CheckpointKey {
  parentCheckpointId: string | null;
  type: string;
  checkpoint: Uint8Array;
  metadata: Record<string, unknown>;
  /** Only the channels whose version has a stored value. */
  channelValues: CheckpointBlob[];
  /** In no particular order; the saver sorts them as LangGraph requires. */
  pendingWrites: CheckpointWrite[];
  createdAt: string;
}

/** Filters of `CheckpointRepository.list`; every field narrows, none required. */
export interface CheckpointQuery {
  threadId?: string;
  checkpointNs?: string;
  checkpointId?: string;
  /** Only checkpoints whose id sorts before this one. */
  beforeId?: string;
  /** Metadata containment (`@>`): every key must be present with an equal JSON value. */
  metadata?: Record<string, unknown>;
  limit?: number;
}

/**
 * Primitive storage for LangGraph checkpoints (the engine's saver holds the LangGraph logic and the
 * serialization; this repository stores bytes). Checkpoint ids sort by time (uuid6), so "latest" and
 * "before" are byte-order comparisons of ids. All reads return newest first.
 */
export interface CheckpointRepository {
  /** Stores (or replaces) a checkpoint and, in the same transaction, the new channel values. */
  put(input: {
    key: CheckpointKey;
    parentCheckpointId: string | null;
    type: string;
    checkpoint: Uint8Array;
    channelVersions: Record<string, string>;
    metadata: Record<string, unknown>;
    blobs: CheckpointBlob[];
  }): Promise<void>;
  /** The checkpoint with this id, or the latest of thread+namespace when `checkpointId` is absent. */
  get(threadId: string, checkpointNs: string, checkpointId?: string): Promise<StoredCheckpoint | null>;
  list(query: CheckpointQuery): Promise<StoredCheckpoint[]>;
  /** Writes with idx >= 0 are kept from the first attempt (insert-or-ignore); idx < 0 are replaced. */
  putWrites(key: CheckpointKey, writes: CheckpointWrite[]): Promise<void>;
  /** Pending writes of one checkpoint, optionally only of one channel. */
  writes(key: CheckpointKey, channel?: string): Promise<CheckpointWrite[]>;
  /** Removes every checkpoint, value and write of a thread (all namespaces). */
  deleteThread(threadId: string): Promise<void>;
}

/** How a store is opened, beside where its data lives. */
export interface StoreOptions {
  /**
   * Masks secrets in everything the store writes; the process's one redactor, so every writer in
   * every process redacts. Without one, only API-token-shaped strings are masked.
   */
  redactor?: SecretRedactor;
}

/** Everything persistent, behind one object the composition root builds from a driver. */
/** Heartbeats of running processes: who is alive, and who restarted. */
export interface InstanceRepository {
  /** Records that the process is alive for `ttlMs` more (creating its record the first time). */
  beat(input: InstanceBeat): Promise<Instance>;
  get(id: string): Promise<Instance | null>;
  /** Every process with a record, alive or not, by id. */
  list(): Promise<Instance[]>;
  /** A clean stop: removes the record, if it is still this incarnation's. */
  end(id: string, incarnation: string): Promise<void>;
}

/** An orchestrator process as an owner: its instance id and the incarnation that holds the thing. */
export interface OwnerRef {
  id: string;
  incarnation: string;
}

/** Who supervises a project's `local` release (see `ReleaseOwnerRepository`). */
export interface ReleaseOwner {
  projectId: string;
  /** The release that should run; null after a teardown (nothing should run). */
  release: string | null;
  port: number | null;
  /** The engine supervising it; null when it was given up at a clean stop (adoptable at once). */
  owner: OwnerRef | null;
  /** The machine the owner runs it on (where its pid means something). */
  host: string | null;
  /** The leader of the release's process group now; null between restarts or when stopped. */
  pid: number | null;
  /** The previous owner, alive when the project was taken from it, until it has stopped its copy. */
  handover: OwnerRef | null;
  /** Raised by every change of ownership; `claim` compares it. */
  version: number;
  updatedAt: string;
}

/** What a `claim` writes: the new owner, where, what should run, and who must still hand over. */
export interface ReleaseClaim {
  owner: OwnerRef;
  host: string;
  release: string | null;
  port: number | null;
  handover: OwnerRef | null;
}

/**
 * Ownership of local releases among engine processes (principle "ownership is recorded"): one
 * record per project, changed only by compare-and-set, so two engines can never both hold one.
 */
export interface ReleaseOwnerRepository {
  get(projectId: string): Promise<ReleaseOwner | null>;
  /** Every record, by project id. */
  list(): Promise<ReleaseOwner[]>;
  /**
   * Takes the project when its record is still the one the caller read (`seen`, same version), or
   * still absent (`seen` null); the pid starts empty. Null when another writer changed it first.
   */
  claim(projectId: string, seen: ReleaseOwner | null, next: ReleaseClaim): Promise<ReleaseOwner | null>;
  /** Records the release's new pid while `owner` still holds the project; false when it does not. */
  setPid(projectId: string, owner: OwnerRef, pid: number | null): Promise<boolean>;
  /** The previous owner says it stopped its copy: clears the handover mark if it names `from`. */
  ackHandover(projectId: string, from: OwnerRef): Promise<boolean>;
  /** Gives the project up (no owner, no pid; release and port stay): only `owner`'s own. */
  relinquish(projectId: string, owner: OwnerRef): Promise<boolean>;
}

/**
 * Leadership of scheduled jobs among processes: one holder per job at a time, each lease judged by
 * the database's clock so processes whose clocks differ agree on who leads.
 */
export interface JobLeaseRepository {
  /**
   * Takes the job's lease for `ttlMs` when it is free, expired or already `holder`'s (a renewal).
   * True when `holder` holds it now.
   */
  tryAcquire(job: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up at once, only if `holder` holds it, so another process can take over. */
  release(job: string, holder: string): Promise<void>;
  /** The current holder of an unexpired lease, or null. */
  holder(job: string): Promise<string | null>;
}

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
  readonly secrets: SecretRepository;
  readonly agentConfigs: AgentConfigRepository;
  readonly tokenUsage: TokenUsageRepository;
  readonly apiTokens: ApiTokenRepository;
  readonly checkpoints: CheckpointRepository;
  readonly instances: InstanceRepository;
  readonly releaseOwners: ReleaseOwnerRepository;
  readonly jobLeases: JobLeaseRepository;
  /** Checks the database answers (used by `/health`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
