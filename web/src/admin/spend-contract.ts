/** The Spend page's answer (`GET /api/admin/spend`), as the page reads it. */

/**
 * Tokens and dollars of a set of agent calls. `estimatedCostUsd` is the part of `costUsd` priced by
 * the orchestrator's own price table (not reported by the provider); `unpricedCalls` had no price.
 */
export interface SpendFigures {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  estimatedCostUsd: number;
  unpricedCalls: number;
}

export interface SpendReport {
  /** UTC days, `YYYY-MM-DD`, both included. */
  from: string;
  to: string;
  generatedAt: string;
  totals: SpendFigures;
  days: (SpendFigures & { day: string })[];
  projects: (SpendFigures & { projectId: string | null; slug: string | null; name: string | null })[];
  users: (SpendFigures & { userId: string | null; name: string | null })[];
  models: (SpendFigures & { backend: string; model: string })[];
}
