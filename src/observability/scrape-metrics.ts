import type { Bus } from "../bus/index.js";
import {
  type Page,
  type Run,
  RunKind,
  type RunStatus,
  RunStatusMachine,
  type Worker,
  WorkerState,
  WorkerStateMachine,
} from "../contracts/index.js";
import type { Metrics, ScrapeCollector } from "./metrics.js";

/** The store reads the scrape-time collectors make; the store's repositories satisfy it as they are. */
export interface MetricsStore {
  runs: {
    list(page: { kind?: RunKind; status?: RunStatus; limit: number; offset: number }): Promise<Page<Run>>;
  };
  workers: { list(page: { state?: WorkerState; limit: number; offset: number }): Promise<Page<Worker>> };
}

/** A deployed project's release and what its recorded checks say of it. */
export interface DeployedService {
  /** The project's slug: the one per-project label the metrics carry. */
  project: string;
  state: "live" | "down" | "unknown";
}

/** Rows read per page when a collector walks a list. */
const PAGE = 200;
/** Live workers walked at most per state for their activity (beyond it the oldest may be missed). */
const MAX_WORKER_PAGES = 10;
/** Run statuses that are not an end. */
const IN_PROGRESS = RunStatusMachine.values.filter((s) => !RunStatusMachine.isTerminal(s));
/** Worker states whose activity age is exported (a stuck worker shows in one of them). */
const LIVE_WORKER_STATES = WorkerStateMachine.values.filter((s) => !WorkerStateMachine.isTerminal(s));

/** `orchestrator_runs_in_progress{kind,status}`: runs queued, running or awaiting approval. */
export function runsInProgressCollector(
  metrics: Metrics,
  store: Pick<MetricsStore, "runs">,
): ScrapeCollector {
  const gauge = metrics.runsInProgress;
  return {
    name: "runs",
    async collect() {
      const counts: { kind: RunKind; status: RunStatus; total: number }[] = [];
      for (const kind of RunKind.options) {
        for (const status of IN_PROGRESS) {
          const { total } = await store.runs.list({ kind, status, limit: 1, offset: 0 });
          counts.push({ kind, status, total });
        }
      }
      gauge.reset();
      for (const { kind, status, total } of counts) gauge.set({ kind, status }, total);
    },
    clear: () => gauge.reset(),
  };
}

/**
 * `orchestrator_workers{state}` (records by state) and
 * `orchestrator_worker_oldest_activity_age_seconds{state}` for the live states: a worker that has
 * done nothing for long while `running` or `starting` is stuck (a turn ends within its timeout).
 */
export function workersCollector(
  metrics: Metrics,
  store: Pick<MetricsStore, "workers">,
  now: () => number = Date.now,
): ScrapeCollector {
  return {
    name: "workers",
    async collect() {
      const totals: { state: WorkerState; total: number }[] = [];
      for (const state of WorkerState.options) {
        const { total } = await store.workers.list({ state, limit: 1, offset: 0 });
        totals.push({ state, total });
      }
      const ages: { state: WorkerState; seconds: number }[] = [];
      for (const state of LIVE_WORKER_STATES) {
        let oldest = Number.POSITIVE_INFINITY;
        for (let page = 0; page < MAX_WORKER_PAGES; page++) {
          const { items, total } = await store.workers.list({ state, limit: PAGE, offset: page * PAGE });
          for (const worker of items) oldest = Math.min(oldest, Date.parse(worker.lastActivityAt));
          if ((page + 1) * PAGE >= total) break;
        }
        if (Number.isFinite(oldest)) ages.push({ state, seconds: Math.max(0, (now() - oldest) / 1000) });
      }
      metrics.workers.reset();
      metrics.workerOldestActivityAge.reset();
      for (const { state, total } of totals) metrics.workers.set({ state }, total);
      for (const { state, seconds } of ages) metrics.workerOldestActivityAge.set({ state }, seconds);
    },
    clear() {
      metrics.workers.reset();
      metrics.workerOldestActivityAge.reset();
    },
  };
}

/**
 * `orchestrator_bus_pending_messages` and `orchestrator_bus_lag_messages` per stream and consumer
 * group, and `orchestrator_bus_dead_letter_messages` per stream, for the streams named.
 */
export function busBacklogCollector(
  metrics: Metrics,
  bus: Pick<Bus, "backlog">,
  streams: readonly string[],
): ScrapeCollector {
  const clear = () => {
    metrics.busPending.reset();
    metrics.busLag.reset();
    metrics.busDeadLetters.reset();
  };
  return {
    name: "bus",
    async collect() {
      const backlogs = await Promise.all(streams.map((stream) => bus.backlog(stream)));
      clear();
      for (const { stream, groups, deadLetters } of backlogs) {
        metrics.busDeadLetters.set({ stream }, deadLetters);
        for (const { group, pending, lag } of groups) {
          metrics.busPending.set({ stream, group }, pending);
          if (lag !== null) metrics.busLag.set({ stream, group }, lag);
        }
      }
    },
    clear,
  };
}

/**
 * `orchestrator_deployed_service_up{project}`: 1 for a release verified live, 0 for one that is
 * down or whose state a recorded check could not tell. Judging every deployed project reads
 * several records each, so the verdicts are read at most once per `minIntervalMs`; scrapes in
 * between export the last ones.
 */
export function deployedServicesCollector(
  metrics: Metrics,
  source: () => Promise<readonly DeployedService[]>,
  opts: { minIntervalMs: number; now?: () => number },
): ScrapeCollector {
  const now = opts.now ?? Date.now;
  const gauge = metrics.deployedServiceUp;
  let readAt: number | null = null;
  return {
    name: "deployed_services",
    async collect() {
      if (readAt !== null && now() - readAt < opts.minIntervalMs) return;
      const services = await source();
      gauge.reset();
      for (const { project, state } of services) gauge.set({ project }, state === "live" ? 1 : 0);
      readAt = now();
    },
    clear() {
      gauge.reset();
      readAt = null;
    },
  };
}
