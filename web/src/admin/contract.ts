/**
 * The admin API as the admin pages see it (`/api/admin/*` and the REST resources): plain types,
 * since the server validates and these pages only read what they are sent.
 */

export interface SpendTotals {
  costUsd: number;
  /** The part priced by the orchestrator's own table: an estimate, not a provider's figure. */
  estimatedCostUsd: number;
  inputTokens: number;
  outputTokens: number;
  calls: number;
}

export interface RunCount {
  kind: string;
  status: string;
  count: number;
}

export interface DashboardSummary {
  generatedAt: string;
  projects: { status: string; count: number }[];
  runs: { today: RunCount[]; week: RunCount[] };
  workers: { state: string; count: number }[];
  spend: { today: SpendTotals; month: SpendTotals };
  failingDeployments: {
    id: string;
    projectId: string;
    runId: string | null;
    commitSha: string;
    status: string;
    createdAt: string;
    projectSlug: string;
  }[];
  deadLetters: { stream: string; count: number }[];
}

/** What the admin change stream names (`LiveTopic` on the server). */
export type LiveTopic =
  | "projects"
  | "runs"
  | "deployments"
  | "workers"
  | "users"
  | "servers"
  | "pool"
  | "spend"
  | "settings";
