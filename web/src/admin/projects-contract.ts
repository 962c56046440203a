/**
 * Projects, runs, their events, deployments and secrets as the admin pages read them (REST and the
 * tool door): plain types, since the server validates and these pages only show what they are sent.
 */

/** A page of a list, newest first, with the total count. */
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export const PROJECT_STATUSES = [
  "draft",
  "building",
  "deploying",
  "live",
  "blocked",
  "failed",
  "stopped",
  "archived",
] as const;

export const RUN_KINDS = ["engineering", "deploy", "provision"] as const;
export const RUN_STATUSES = [
  "queued",
  "running",
  "awaiting_approval",
  "succeeded",
  "failed",
  "blocked",
  "cancelled",
] as const;

/** Statuses after which a run never changes again. */
export const TERMINAL_RUN_STATUSES: readonly string[] = ["succeeded", "failed", "blocked", "cancelled"];

export interface AdminProject {
  id: string;
  slug: string;
  name: string;
  description: string;
  ownerId: string | null;
  template: string | null;
  templateVersion: string | null;
  repositoryUrl: string | null;
  status: string;
  runBudgetUsd: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface AdminRun {
  id: string;
  projectId: string;
  kind: string;
  status: string;
  stage: string | null;
  attempt: number;
  iteration: number;
  input: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  budgetUsd: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** The OpenTelemetry trace the run was started in; null when tracing was off. */
  traceId: string | null;
}

/** One stored run event: `type` names the shape of `data` (see the API's run event contract). */
export interface AdminRunEvent {
  runId: string;
  seq: number;
  at: string;
  type: string;
  data: Record<string, unknown>;
}

export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
  runner: string;
}

/** The data of an `engineering.tested` event: the Tester's verdict on one commit. */
export interface TestVerdictData {
  iteration: number;
  commit: string;
  passed: boolean;
  reason: string | null;
  counts: TestCounts | null;
  acceptanceCounts: TestCounts | null;
  exitCode: number | null;
  outputTail: string;
  durationMs: number;
}

export interface AdminDeployment {
  id: string;
  projectId: string;
  runId: string | null;
  serverId: string | null;
  commitSha: string;
  release: string;
  url: string | null;
  status: string;
  /** What the health gate recorded: kind, ok, attempts, elapsedMs, and a reason when red. */
  healthCheck: Record<string, unknown> | null;
  logsExcerpt: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface ProjectSecrets {
  projectId: string;
  secrets: { key: string; kind: string; isFilled: boolean; updatedAt: string }[];
  missing: string[];
}

export interface SpendLine {
  role: string | null;
  workerId: string | null;
  backend: string;
  model: string;
  calls: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
}

export interface RunSpend {
  run: AdminRun;
  spentOn: SpendLine[];
}

export interface AdminWorker {
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
  report: { status: string; summary: string; commit: string | null } | null;
  createdAt: string;
}
