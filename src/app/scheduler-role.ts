import { sessionCleanupJob } from "../auth/index.js";
import type { Bus } from "../bus/index.js";
import type { Config } from "../config/index.js";
import { AppError } from "../contracts/index.js";
import type { ServerService } from "../deploy/index.js";
import type { Logger, Metrics } from "../observability/index.js";
import { gcJob, type Job, type Scheduler } from "../scheduler/index.js";
import type { Store } from "../store/index.js";
import { nodeRpcStream, workerRecordsGcJob } from "../workers/index.js";
import { CONSUMED_BUS_STREAMS } from "./metrics.js";

/** What a cluster-wide job may use: the parts every process shares. */
export interface ClusterJobDeps {
  config: Config;
  store: Store;
  bus: Bus;
  logger: Logger;
  servers: ServerService;
  /** Counts what the cluster-wide garbage collection removes. */
  metrics?: Metrics;
}

/**
 * Every periodic job that concerns the whole deployment, not one process: each is a `leader` job,
 * run by one process with the `scheduler` role at a time (the holder of its lease), and taken over
 * by another when that one dies. A new cluster-wide job is one line here.
 *
 * Not here, on purpose: the heartbeat, a workers node's sweep of its own sandboxes and an engine's
 * supervision of its own releases (each process's own), and the engine's run recovery scans
 * (they start the runs they find in the scanning engine, so they stay with the `engine` role).
 */
export function clusterJobs(deps: ClusterJobDeps): Job[] {
  return [
    // Registered deploy servers, re-checked over SSH.
    deps.servers.healthCheckJob(deps.config.deploy.serverCheckIntervalMs),
    // Web sessions that ended over a day ago, deleted.
    sessionCleanupJob(deps.store),
    // Bus messages dead-lettered long ago, from every stream consumers read: the shared ones and
    // each workers node's own (nodes are the heartbeats of processes that ran the role).
    gcJob({
      name: "gc.dead-letters",
      kind: "dead_letters",
      scope: "leader",
      intervalMs: deps.config.gc.intervalMs,
      logger: deps.logger,
      metrics: deps.metrics ?? null,
      collect: async () => {
        let removed = 0;
        const nodes = (await deps.store.instances.list()).filter((i) => i.roles.includes("workers"));
        for (const stream of [...CONSUMED_BUS_STREAMS, ...nodes.map((n) => nodeRpcStream(n.id))]) {
          removed += await deps.bus.dropDeadLetters(stream, deps.config.gc.deadLetterAgeMs);
        }
        return removed;
      },
    }),
    // Records of workers that ended long ago (their token usage stays).
    workerRecordsGcJob({
      store: deps.store,
      logger: deps.logger,
      metrics: deps.metrics,
      intervalMs: deps.config.gc.intervalMs,
      ageMs: deps.config.gc.workerRecordAgeMs,
    }),
  ];
}

/** The `scheduler` role of a process: registers the cluster-wide jobs on its scheduler. */
export function startSchedulerRole(deps: ClusterJobDeps & { scheduler: Scheduler }): { jobs: string[] } {
  const jobs = clusterJobs(deps);
  for (const job of jobs) {
    // Two scheduler processes would both run an every-process job: cluster-wide work must lead.
    if (job.scope !== "leader") {
      throw new AppError("internal", "internal", `cluster-wide job "${job.name}" must be a leader job`, {
        details: [{ path: "scope", message: "leader" }],
      });
    }
    deps.scheduler.add(job);
  }
  return { jobs: jobs.map((job) => job.name) };
}
