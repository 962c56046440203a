import type { AgentBackend, AgentResult, TokenCounts } from "../contracts/index.js";
import { estimateCostUsd } from "../llm/index.js";
import type { Metrics } from "../observability/index.js";
import type { Store } from "../store/index.js";

/**
 * Records what one invocation used: a TokenUsage row, the Prometheus counters and the run's totals.
 * Where the backend reports no cost, the price table estimates it. A CLI Product Owner's turn has
 * no worker, project or run.
 */
export async function recordUsage(
  deps: { store: Store; metrics: Pick<Metrics, "agentTokens" | "agentCostUsd"> },
  worker: { id: string | null; projectId: string | null; runId: string | null; backend: AgentBackend },
  result: Omit<AgentResult, "report">,
): Promise<{ costUsd: number; costSource: AgentResult["costSource"] }> {
  const model = result.model ?? "unknown";
  let { costUsd, costSource } = result;
  if (costSource !== "provider") ({ costUsd, costSource } = estimateCostUsd(model, result.usage));
  await deps.store.tokenUsage.record({
    workerId: worker.id,
    projectId: worker.projectId,
    runId: worker.runId,
    backend: worker.backend,
    model,
    ...result.usage,
    costUsd,
    costSource,
  });
  const labels = { backend: worker.backend, model };
  deps.metrics.agentTokens.inc({ ...labels, kind: "input" }, result.usage.inputTokens);
  deps.metrics.agentTokens.inc({ ...labels, kind: "output" }, result.usage.outputTokens);
  deps.metrics.agentTokens.inc({ ...labels, kind: "cache_read" }, result.usage.cacheReadTokens);
  deps.metrics.agentTokens.inc({ ...labels, kind: "cache_write" }, result.usage.cacheWriteTokens);
  deps.metrics.agentCostUsd.inc({ ...labels, source: costSource }, costUsd);
  if (worker.runId) {
    await deps.store.runs.addUsage(worker.runId, {
      tokensIn: result.usage.inputTokens + result.usage.cacheReadTokens + result.usage.cacheWriteTokens,
      tokensOut: result.usage.outputTokens,
      costUsd,
    });
  }
  return { costUsd, costSource };
}

/** The reminder turn's result with the first turn's usage added, so accounting totals stay whole. */
export function sumUsage(
  last: Omit<AgentResult, "report">,
  first: Omit<AgentResult, "report">,
): Omit<AgentResult, "report"> {
  return {
    ...last,
    usage: {
      inputTokens: last.usage.inputTokens + first.usage.inputTokens,
      outputTokens: last.usage.outputTokens + first.usage.outputTokens,
      cacheReadTokens: last.usage.cacheReadTokens + first.usage.cacheReadTokens,
      cacheWriteTokens: last.usage.cacheWriteTokens + first.usage.cacheWriteTokens,
    },
    costUsd: last.costUsd + first.costUsd,
    turns: last.turns + first.turns,
    durationMs: last.durationMs + first.durationMs,
  };
}

/** What the model gateway has recorded for one worker so far: tokens and cost. */
export interface MeteredTotals {
  usage: TokenCounts;
  costUsd: number;
  /** The model of the last summarized row, for the turn's result. */
  model: string | null;
}

/** Sums the gateway's rows of a worker (across models). */
export async function meteredTotals(store: Store, workerId: string): Promise<MeteredTotals> {
  const rows = await store.tokenUsage.summarize({ workerId });
  const totals: MeteredTotals = {
    usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    costUsd: 0,
    model: null,
  };
  for (const row of rows) {
    totals.usage.inputTokens += row.inputTokens;
    totals.usage.outputTokens += row.outputTokens;
    totals.usage.cacheReadTokens += row.cacheReadTokens;
    totals.usage.cacheWriteTokens += row.cacheWriteTokens;
    totals.costUsd += row.costUsd;
    if (row.model !== "unknown") totals.model = row.model;
  }
  return totals;
}

/**
 * A turn's usage as the model gateway counted it: the worker's totals after the turn less those
 * before. The gateway already wrote the rows, the run's totals and the metrics, so nothing is
 * recorded again; the CLI's own figures are replaced by these exact ones.
 */
export function meteredTurn(
  before: MeteredTotals,
  after: MeteredTotals,
): { usage: TokenCounts; costUsd: number; costSource: AgentResult["costSource"]; model: string | null } {
  const diff = (key: keyof TokenCounts) => Math.max(0, after.usage[key] - before.usage[key]);
  return {
    usage: {
      inputTokens: diff("inputTokens"),
      outputTokens: diff("outputTokens"),
      cacheReadTokens: diff("cacheReadTokens"),
      cacheWriteTokens: diff("cacheWriteTokens"),
    },
    costUsd: Math.max(0, Math.round((after.costUsd - before.costUsd) * 1_000_000) / 1_000_000),
    costSource: "metered",
    model: after.model,
  };
}
