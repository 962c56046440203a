import type { Bus, Subscription } from "../bus/index.js";
import { RunStatus, RunStatusMachine } from "../contracts/index.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";

/** What feeds the run metrics: the bus the journals publish on and the run kind lookup. */
export interface RunMetricsFeed {
  metrics: Metrics;
  bus: Pick<Bus, "tail">;
  /** The run events stream (the journal's `RUN_EVENTS_STREAM`). */
  stream: string;
  /** The kind of a run (engineering, deploy, ...), read once per finished run. */
  runKind: (runId: string) => Promise<string>;
  logger: Logger;
}

/**
 * Counts run events and finished runs as they are published, by tailing the run events stream:
 * live counters of the process serving `/metrics` (they start at zero with it, as counters do).
 * Every process that follows counts every event, so follow in one role only (the API).
 */
export function followRunEvents(feed: RunMetricsFeed): Subscription {
  const { metrics, logger } = feed;
  return feed.bus.tail(feed.stream, async (envelope) => {
    metrics.runEvents.inc({ type: envelope.type });
    if (envelope.type !== "run.status_changed") return;
    const event = envelope.payload as { runId?: unknown; data?: { to?: unknown } } | null;
    const to = RunStatus.safeParse(event?.data?.to);
    if (!to.success || !RunStatusMachine.isTerminal(to.data) || typeof event?.runId !== "string") return;
    let kind = "unknown";
    try {
      kind = await feed.runKind(event.runId);
    } catch (err) {
      logger.warn({ err, runId: event.runId }, "run metrics: could not read the run's kind");
    }
    metrics.runsFinished.inc({ kind, status: to.data });
  });
}
