import type { Bus, TailSubscription } from "../bus/index.js";
import { RunEvent, RunStatusMachine } from "../contracts/index.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";

/** What feeds the run metrics: the bus the journals publish on and the run kind lookup. */
export interface RunMetricsFeed {
  metrics: Metrics;
  bus: Pick<Bus, "tail">;
  /** The run events stream (the journal's `RUN_EVENTS_STREAM`). */
  stream: string;
  /** The kind of a run (engineering, deploy, ...), read once for a run first seen mid-way. */
  runKind: (runId: string) => Promise<string>;
  logger: Logger;
}

/** The deploy stage in which the health gate runs (the devops graph's SmokeTest). */
export const HEALTH_GATE_STAGE = "smoke";
/** The stage a deploy enters when its release failed to start or failed its gate. */
const ROLLBACK_STAGE = "rollback";
/** Runs followed at once; beyond it the oldest is forgotten (its stage then goes untimed). */
const MAX_TRACKED_RUNS = 10_000;
/** Stage names are code constants; anything else is counted under `other` to bound the labels. */
const STAGE_NAME = /^[a-z][a-z0-9_]{0,39}$/;

/** What this process knows of one run under way: its kind and the stage it is in since when. */
interface TrackedRun {
  kind: string | null;
  stage: { name: string; since: number } | null;
}

/**
 * Follows the run events stream and feeds the run metrics: events by type, runs started and
 * finished, the time spent in each stage (from `run.stage_changed` to the next stage or the run's
 * terminal status, by the times the store gave the events) and the deploy health gates (the
 * `smoke` stage: passed when the run then succeeds, failed when it goes to `rollback`). These are
 * live counters of the process serving `/metrics`: they start at zero with it, as counters do, and
 * a stage it did not see begin is not timed. Every process that follows counts every event, so
 * follow in one role only (the API).
 */
export function followRunEvents(feed: RunMetricsFeed): TailSubscription {
  const { metrics, logger } = feed;
  const runs = new Map<string, TrackedRun>();

  const track = (runId: string): TrackedRun => {
    let run = runs.get(runId);
    if (!run) {
      run = { kind: null, stage: null };
      runs.set(runId, run);
      if (runs.size > MAX_TRACKED_RUNS) {
        const oldest = runs.keys().next().value;
        if (oldest !== undefined) runs.delete(oldest);
      }
    }
    return run;
  };
  const kindOf = async (runId: string, run: TrackedRun): Promise<string> => {
    if (run.kind) return run.kind;
    try {
      run.kind = await feed.runKind(runId);
    } catch (err) {
      logger.warn({ err, runId }, "run metrics: could not read the run's kind");
      return "unknown";
    }
    return run.kind;
  };
  /** Ends the stage the run is in at `at`: its duration, and the gate's result if it was the gate. */
  const endStage = (run: TrackedRun, kind: string, at: number, gate: "passed" | "failed" | "aborted") => {
    const stage = run.stage;
    if (!stage) return;
    const seconds = Math.max(0, (at - stage.since) / 1000);
    metrics.stageDuration.observe({ kind, stage: stage.name }, seconds);
    if (kind === "deploy" && stage.name === HEALTH_GATE_STAGE) {
      metrics.healthGates.inc({ result: gate });
      metrics.healthGateDuration.observe({ result: gate }, seconds);
    }
    run.stage = null;
  };

  return feed.bus.tail(feed.stream, async (envelope) => {
    metrics.runEvents.inc({ type: envelope.type });
    const parsed = RunEvent.safeParse(envelope.payload);
    if (!parsed.success) return;
    const event = parsed.data;
    const at = Date.parse(event.at);
    switch (event.type) {
      case "run.created": {
        track(event.runId).kind = event.data.kind;
        return;
      }
      case "run.stage_changed": {
        const run = track(event.runId);
        const kind = await kindOf(event.runId, run);
        const name = STAGE_NAME.test(event.data.stage) ? event.data.stage : "other";
        endStage(run, kind, at, name === ROLLBACK_STAGE ? "failed" : "aborted");
        run.stage = { name, since: at };
        return;
      }
      case "run.status_changed": {
        const { from, to } = event.data;
        const isStart = from === "queued" && to === "running";
        const isEnd = RunStatusMachine.isTerminal(to);
        if (!isStart && !isEnd) return;
        const run = track(event.runId);
        const kind = await kindOf(event.runId, run);
        if (isStart) metrics.runsStarted.inc({ kind });
        if (!isEnd) return;
        endStage(run, kind, at, to === "succeeded" ? "passed" : "aborted");
        metrics.runsFinished.inc({ kind, status: to });
        runs.delete(event.runId);
        return;
      }
      default:
        return;
    }
  });
}
