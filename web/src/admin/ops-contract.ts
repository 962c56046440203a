/**
 * The API's shapes the operations pages read (workers, users, servers and ports, the bot pool):
 * plain types, since the server validates and these pages only read what they are sent.
 */

/** One page of a list, with the total so the pages can page through. */
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export const WORKER_STATES = ["starting", "running", "paused", "stopped", "failed", "gone"] as const;
export const AGENT_ROLES = ["po", "architect", "developer", "tester", "devops"] as const;

export interface WorkerReport {
  status: string;
  summary: string;
  question?: string | null;
  commit?: string | null;
}

export interface Worker {
  id: string;
  role: string;
  backend: string;
  runtime: string;
  state: string;
  projectId: string;
  runId: string | null;
  sessionId: string | null;
  contextTokens: number;
  lastActivityAt: string;
  labels: Record<string, string>;
  report: WorkerReport | null;
  reportedAt: string | null;
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A worker as the process managing it sees it (`GET /api/workers/:id`). */
export interface WorkerStatus extends Worker {
  hasSandbox: boolean;
  isBusy: boolean;
}

export interface UsageTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  /** The part priced by the orchestrator's own table: an estimate, not a provider's figure. */
  estimatedCostUsd: number;
}

/** `GET /api/workers/:id/usage`. */
export interface WorkerUsage {
  workerId: string;
  contextTokens: number;
  total: UsageTotals;
  byModel: (UsageTotals & { backend: string; model: string })[];
}

export interface User {
  id: string;
  telegramId: string | null;
  webLogin: string | null;
  name: string;
  role: "admin" | "user";
  isAllowed: boolean;
  createdAt: string;
  updatedAt: string;
}

/** `PATCH /api/users/:id`. */
export interface UserUpdate {
  name?: string;
  role?: "admin" | "user";
  isAllowed?: boolean;
}

export interface Capacity {
  cpuCores: number;
  memoryMb: number;
  diskMb: number;
}

export interface Server {
  id: string;
  handle: string;
  host: string;
  sshPort: number;
  sshUser: string;
  hasSshKey: boolean;
  capacity: Capacity | null;
  status: string;
  lastHealthCheckAt: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

/** `POST /api/servers` and `POST /api/servers/:id/check`: the server as stored and what was measured. */
export interface ServerCheck {
  server: Server;
  facts: Record<string, unknown> | null;
}

/** What registering a server takes; the key goes to the vault and never comes back. */
export interface ServerRegistration {
  handle: string;
  host: string;
  sshPort: number;
  sshUser: string;
  privateKey: string;
}

export interface PortAllocation {
  id: string;
  serverId: string;
  port: number;
  projectId: string;
  service: string;
  createdAt: string;
}

/** A bot of the pool: its token only ever masked. */
export interface PoolBot {
  id: string;
  botId: string;
  botUsername: string;
  masked: string;
  projectId: string | null;
  addedBy: string | null;
  createdAt: string;
  takenAt: string | null;
}

export interface ProjectRef {
  id: string;
  slug: string;
  name: string;
}
