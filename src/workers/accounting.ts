import type { AgentResult, Worker } from "../contracts/index.js";
import type { Metrics } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { estimateCostUsd } from "./pricing.js";

/**
 * Records what one invocation used: a TokenUsage row, the Prometheus counters and the run's totals.
 * Where the backend reports no cost, the price table estimates it.
 */
export async function recordUsage(
  deps: { store: Store; metrics: Pick<Metrics, "agentTokens" | "agentCostUsd"> },
  worker: Worker,
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
