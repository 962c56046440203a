import type { GcKind } from "../contracts/index.js";
import type { Logger, Metrics } from "../observability/index.js";
import type { Job, JobScope } from "./job.js";

/** One garbage collection as a scheduler job: what it removes, how often, and where it runs. */
export interface GcJobSpec {
  /** Job name (`gc.<what>`), unique per scheduler. */
  name: string;
  kind: GcKind;
  intervalMs: number;
  /** `leader` for cluster-wide state (store, bus, servers); `every-process` for a node's own disk. */
  scope: JobScope;
  /**
   * One collection: removes what is garbage now and returns how many things it removed. Must be
   * idempotent (a second process or a second run finds nothing left to remove) and never touch
   * what is live.
   */
  collect(signal: AbortSignal): Promise<number>;
  /** Counts each finished collection (`orchestrator_gc_*`); none in tests that do not look. */
  metrics?: Pick<Metrics, "recordGc"> | null;
  logger: Logger;
}

/**
 * Wraps a collection as a `Job`: counts what it removed in the metrics and logs it when it removed
 * something. A failure is thrown on, so the scheduler logs it and `/health` shows it; the counts
 * then stay as they were (the last-run gauge tells how stale they are).
 */
export function gcJob(spec: GcJobSpec): Job {
  return {
    name: spec.name,
    intervalMs: spec.intervalMs,
    scope: spec.scope,
    run: async (signal) => {
      const removed = await spec.collect(signal);
      spec.metrics?.recordGc(spec.kind, removed);
      if (removed > 0) spec.logger.info({ job: spec.name, kind: spec.kind, removed }, "garbage collected");
    },
  };
}
