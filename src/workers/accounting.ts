import type { AgentBackend, AgentResult, Worker } from "../contracts/index.js";
import type { Metrics } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { estimateCostUsd } from "./pricing.js";

/**
 * Records what one invocation used: a TokenUsage row, the Prometheus counters and the run's totals.
 * Where the backend reports no cost, the price table estimates it.
 */
export async function recordUsage(
  deps: { store: Store; metrics: Pick<Metrics, "agentTokens" | "agentCostUsd"> },
  worker: Pick<Worker, "id" | "projectId" | "runId"> & { backend: AgentBackend },
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
