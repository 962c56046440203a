import type { ModelRequest, ModelTurn } from "../../contracts/index.js";
import type { Logger, Metrics } from "../../observability/index.js";
import type { Store } from "../../store/index.js";
import { estimateCostUsd } from "../pricing.js";
import type { ModelCallOptions, ModelProvider } from "./provider.js";

/** Whom a call is for: its usage is recorded against these. */
export interface ModelCallOwner {
  projectId: string | null;
  runId: string | null;
}

/** Where usage goes: a TokenUsage row, the run's totals and the Prometheus counters. */
export interface MeteringDeps {
  store: Store;
  metrics: Metrics;
  logger: Logger;
}

/**
 * A provider whose every call is recorded like a worker's: tokens and an estimated cost as
 * TokenUsage (backend `api`, or `scripted` at no cost), added to the run, and counted in metrics.
 * The record is written beside the answer, not before it: the caller (a person waiting for a reply)
 * does not wait for the bookkeeping. `flush()` waits for what is still being written.
 */
export class MeteredProvider implements ModelProvider {
  private readonly writing = new Set<Promise<void>>();

  constructor(
    private readonly inner: ModelProvider,
    private readonly deps: MeteringDeps,
    private readonly owner: () => ModelCallOwner,
  ) {}

  get kind() {
    return this.inner.kind;
  }

  get defaultModel() {
    return this.inner.defaultModel;
  }

  async complete(request: ModelRequest, options?: ModelCallOptions): Promise<ModelTurn> {
    const started = Date.now();
    const turn = await this.inner.complete(request, options);
    // Owner read now; the write after what the caller does next with the answer.
    const owner = this.owner();
    const write = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.record(turn, owner, started))
      .catch((error) =>
        this.deps.logger.error(
          { err: error, model: turn.model, usage: turn.usage },
          "could not record model usage",
        ),
      )
      .finally(() => this.writing.delete(write));
    this.writing.add(write);
    return turn;
  }

  /** Resolves once every call's usage so far is recorded (shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.writing]);
  }

  private async record(turn: ModelTurn, owner: ModelCallOwner, started: number): Promise<void> {
    const { projectId, runId } = owner;
    const backend = turn.provider === "scripted" ? "scripted" : "api";
    const estimate =
      turn.provider === "scripted"
        ? { costUsd: 0, costSource: "unknown" as const }
        : estimateCostUsd(turn.model, turn.usage);
    await this.deps.store.tokenUsage.record({
      workerId: null,
      projectId,
      runId,
      backend,
      model: turn.model,
      ...turn.usage,
      costUsd: estimate.costUsd,
      costSource: estimate.costSource,
    });
    if (runId) {
      await this.deps.store.runs.addUsage(runId, {
        tokensIn: turn.usage.inputTokens + turn.usage.cacheReadTokens + turn.usage.cacheWriteTokens,
        tokensOut: turn.usage.outputTokens,
        costUsd: estimate.costUsd,
      });
    }
    const labels = { backend, model: turn.model };
    this.deps.metrics.agentTokens.inc({ ...labels, kind: "input" }, turn.usage.inputTokens);
    this.deps.metrics.agentTokens.inc({ ...labels, kind: "output" }, turn.usage.outputTokens);
    this.deps.metrics.agentTokens.inc({ ...labels, kind: "cache_read" }, turn.usage.cacheReadTokens);
    this.deps.metrics.agentTokens.inc({ ...labels, kind: "cache_write" }, turn.usage.cacheWriteTokens);
    this.deps.metrics.agentCostUsd.inc({ ...labels, source: estimate.costSource }, estimate.costUsd);
    this.deps.logger.debug(
      { provider: turn.provider, model: turn.model, ...turn.usage, ms: Date.now() - started, runId },
      "model call",
    );
  }
}
