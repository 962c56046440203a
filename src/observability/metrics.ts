import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { GcKind, RunKind, RunStatusMachine } from "../contracts/index.js";

/**
 * A group of gauges read from a source (the store, the bus) each time `/metrics` is scraped.
 * Added with `Metrics.addCollector`; `render` runs every collector before it writes the text.
 */
export interface ScrapeCollector {
  /** Names the collector in `orchestrator_metrics_collect_errors_total` and in logs. */
  readonly name: string;
  /** Reads the source and sets the gauges; throws when the source cannot be read. */
  collect(): Promise<void>;
  /** Drops every sample of its gauges: after a failed or late collect, none is exported stale. */
  clear(): void;
}

/**
 * The Prometheus registry of one process and every metric family the orchestrator exports. Counters
 * and histograms are fed where things happen (HTTP hooks, model calls, the run events a process
 * follows); gauges of shared state (store, bus) are set by scrape-time collectors.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<"method" | "route" | "status_code">;
  readonly httpDuration: Histogram<"method" | "route" | "status_code">;
  /** Tokens agents used, by backend, model and kind (input, output, cache_read, cache_write). */
  readonly agentTokens: Counter<"backend" | "model" | "kind">;
  /** Dollars agents cost, by backend, model and where the figure comes from. */
  readonly agentCostUsd: Counter<"backend" | "model" | "source">;
  /** Run events seen live on the bus, by event type (fed by `followRunEvents`). */
  readonly runEvents: Counter<"type">;
  /** Runs that left `queued` for `running`, by run kind (fed by `followRunEvents`). */
  readonly runsStarted: Counter<"kind">;
  /** Runs that reached a terminal status, by run kind and status (fed by `followRunEvents`). */
  readonly runsFinished: Counter<"kind" | "status">;
  /** Time a run spent in each stage, from its stage and terminal status events. */
  readonly stageDuration: Histogram<"kind" | "stage">;
  /** Deploy health gates by result: passed, failed, or aborted (the run ended another way). */
  readonly healthGates: Counter<"result">;
  readonly healthGateDuration: Histogram<"result">;
  /** Model provider calls made through this process, until the provider's answer began. */
  readonly modelRequestDuration: Histogram<"provider" | "outcome">;
  /** Model provider calls that failed, by provider and reason (see `ModelCallOutcome`). */
  readonly modelRequestErrors: Counter<"provider" | "reason">;
  /** Runs not finished yet, by kind and status (scrape time, from the store). */
  readonly runsInProgress: Gauge<"kind" | "status">;
  /** Worker records by state (scrape time, from the store). */
  readonly workers: Gauge<"state">;
  /** Seconds since the least recently active worker in a live state last did something. */
  readonly workerOldestActivityAge: Gauge<"state">;
  /** Bus messages delivered to a consumer group and not acknowledged, by stream and group. */
  readonly busPending: Gauge<"stream" | "group">;
  /** Bus messages not yet delivered to a consumer group, by stream and group. */
  readonly busLag: Gauge<"stream" | "group">;
  /** Bus messages dead-lettered from a stream and still kept, by stream. */
  readonly busDeadLetters: Gauge<"stream">;
  /** 1 when a deployed project's release is verified live, 0 when down or unverified, by project slug. */
  readonly deployedServiceUp: Gauge<"project">;
  /** Scrape-time collectors that failed or ran past their deadline, by collector. */
  readonly collectErrors: Counter<"collector">;
  /** Things garbage collection removed, by kind (fed by `recordGc`). */
  readonly gcRemoved: Counter<"kind">;
  /** When each kind's collection last finished without an error (Unix seconds). */
  readonly gcLastRun: Gauge<"kind">;
  /** How many things each kind's last successful collection removed. */
  readonly gcLastRemoved: Gauge<"kind">;
  /** Probes of live deployments by the health monitor, by result (`up`, `down`). */
  readonly monitorChecks: Counter<"result">;
  /** Restarts the health monitor tried, by result (`up` when the release answered again, else `down`). */
  readonly monitorRestarts: Counter<"result">;
  /** Incidents the health monitor opened and closed, by event (`opened`, `closed`). */
  readonly monitorIncidents: Counter<"event">;
  /** Engineering runs the health monitor started to repair a release that stayed down. */
  readonly monitorRepairs: Counter<never>;
  /** Counts one finished collection of `kind` that removed `removed` things. */
  recordGc(kind: GcKind, removed: number): void;
  /** Runs `collector` at every scrape until the returned function removes it. */
  addCollector(collector: ScrapeCollector): () => void;
  /** Prometheus text exposition of every metric, filtered of names promtool rejects. */
  render(): Promise<string>;
}

/** Longest one scrape-time collector may take before its gauges are left empty for that scrape. */
export const COLLECT_DEADLINE_MS = 5_000;

// prom-client's default Node metrics include gauges named `*_total`, which promtool flags.
const REJECTED_DEFAULTS = /^nodejs_active_(handles|requests|resources)_total\b/;

/** Stages last from seconds (allocate) to the better part of an hour (a developer's turns). */
const STAGE_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];
/** A gate polls about every second up to its deadline (30 s by default). */
const GATE_BUCKETS = [0.5, 1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 120];
/** From a short non-streamed answer to a long one. */
const MODEL_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

/**
 * The registry of one process. `roles` (the process's roles, e.g. `engine` or `api,workers,engine`)
 * becomes a `role` label on every sample, so one Prometheus can scrape every process apart.
 * `onCollectError` hears about a scrape-time collector that failed (to log it).
 */
export function createMetrics(
  opts: { roles?: readonly string[]; onCollectError?: (collector: string, error: unknown) => void } = {},
): Metrics {
  const registry = new Registry();
  if (opts.roles && opts.roles.length > 0) registry.setDefaultLabels({ role: opts.roles.join(",") });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({ name, help, labelNames, registers });
  const histogram = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: number[],
  ) => new Histogram<L>({ name, help, labelNames, buckets, registers });

  const collectors = new Set<ScrapeCollector>();
  const collectErrors = counter(
    "orchestrator_metrics_collect_errors_total",
    "Scrape-time metric collectors that failed or ran past their deadline.",
    ["collector"],
  );
  const runCollector = async (collector: ScrapeCollector) => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`collector ${collector.name} took over ${COLLECT_DEADLINE_MS} ms`)),
        COLLECT_DEADLINE_MS,
      );
    });
    try {
      await Promise.race([collector.collect(), deadline]);
    } catch (error) {
      collector.clear();
      collectErrors.inc({ collector: collector.name });
      opts.onCollectError?.(collector.name, error);
    } finally {
      clearTimeout(timer);
    }
  };

  const metrics: Metrics = {
    registry,
    httpRequests: counter("orchestrator_http_requests_total", "HTTP requests answered by the API.", [
      "method",
      "route",
      "status_code",
    ]),
    httpDuration: histogram(
      "orchestrator_http_request_duration_seconds",
      "Time taken to answer HTTP requests.",
      ["method", "route", "status_code"],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    ),
    agentTokens: counter("orchestrator_agent_tokens_total", "Tokens used by agent invocations.", [
      "backend",
      "model",
      "kind",
    ]),
    agentCostUsd: counter(
      "orchestrator_agent_cost_usd_total",
      "Cost of agent invocations in US dollars (reported by the provider or estimated).",
      ["backend", "model", "source"],
    ),
    runEvents: counter("orchestrator_run_events_total", "Run events published by run journals, by type.", [
      "type",
    ]),
    runsStarted: counter("orchestrator_runs_started_total", "Runs that started executing, by kind.", [
      "kind",
    ]),
    runsFinished: counter(
      "orchestrator_runs_finished_total",
      "Runs that reached a terminal status, by kind and status.",
      ["kind", "status"],
    ),
    stageDuration: histogram(
      "orchestrator_run_stage_duration_seconds",
      "Time runs spent in each stage, from entering it to the next stage or the run's end.",
      ["kind", "stage"],
      STAGE_BUCKETS,
    ),
    healthGates: counter(
      "orchestrator_health_gates_total",
      "Deploy health gates by result (passed, failed, aborted).",
      ["result"],
    ),
    healthGateDuration: histogram(
      "orchestrator_health_gate_duration_seconds",
      "Time deploy health gates took, by result.",
      ["result"],
      GATE_BUCKETS,
    ),
    modelRequestDuration: histogram(
      "orchestrator_model_request_duration_seconds",
      "Time until a model provider answered (response headers, or the failure), by provider and outcome.",
      ["provider", "outcome"],
      MODEL_BUCKETS,
    ),
    modelRequestErrors: counter(
      "orchestrator_model_request_errors_total",
      "Model provider calls that failed, by provider and reason.",
      ["provider", "reason"],
    ),
    runsInProgress: gauge(
      "orchestrator_runs_in_progress",
      "Runs not finished yet (queued, running, awaiting approval), by kind and status.",
      ["kind", "status"],
    ),
    workers: gauge("orchestrator_workers", "Worker records by state.", ["state"]),
    workerOldestActivityAge: gauge(
      "orchestrator_worker_oldest_activity_age_seconds",
      "Seconds since the least recently active worker in each live state last did something.",
      ["state"],
    ),
    busPending: gauge(
      "orchestrator_bus_pending_messages",
      "Bus messages delivered to a consumer group and not acknowledged yet (in a handler or awaiting a retry).",
      ["stream", "group"],
    ),
    busLag: gauge("orchestrator_bus_lag_messages", "Bus messages not yet delivered to a consumer group.", [
      "stream",
      "group",
    ]),
    busDeadLetters: gauge(
      "orchestrator_bus_dead_letter_messages",
      "Bus messages dead-lettered after their last allowed delivery, still kept, by stream.",
      ["stream"],
    ),
    deployedServiceUp: gauge(
      "orchestrator_deployed_service_up",
      "Deployed projects: 1 when the release is verified live, 0 when it is down or cannot be verified.",
      ["project"],
    ),
    collectErrors,
    gcRemoved: counter("orchestrator_gc_removed_total", "Things garbage collection removed, by kind.", [
      "kind",
    ]),
    gcLastRun: gauge(
      "orchestrator_gc_last_run_timestamp_seconds",
      "When garbage collection of each kind last finished without an error (Unix time).",
      ["kind"],
    ),
    gcLastRemoved: gauge(
      "orchestrator_gc_last_run_removed",
      "Things the last successful garbage collection of each kind removed.",
      ["kind"],
    ),
    monitorChecks: counter(
      "orchestrator_monitor_checks_total",
      "Probes of live deployments by the health monitor, by result (up, down).",
      ["result"],
    ),
    monitorRestarts: counter(
      "orchestrator_monitor_restarts_total",
      "Restarts of live deployments the health monitor tried, by result (up: it answered again).",
      ["result"],
    ),
    monitorIncidents: counter(
      "orchestrator_monitor_incidents_total",
      "Incidents the health monitor opened and closed, by event.",
      ["event"],
    ),
    monitorRepairs: counter(
      "orchestrator_monitor_repair_runs_total",
      "Engineering runs the health monitor started to repair a deployment that stayed down.",
      [],
    ),
    recordGc(kind, removed) {
      metrics.gcRemoved.inc({ kind }, removed);
      metrics.gcLastRemoved.set({ kind }, removed);
      metrics.gcLastRun.set({ kind }, Date.now() / 1000);
    },
    addCollector(collector) {
      collectors.add(collector);
      collectErrors.inc({ collector: collector.name }, 0);
      return () => {
        collectors.delete(collector);
        collector.clear();
      };
    },
    async render() {
      await Promise.all([...collectors].map(runCollector));
      const text = await registry.metrics();
      return filterFamilies(text);
    },
  };
  initialize(metrics);
  return metrics;
}

/** Health gate results, as `followRunEvents` tells them apart. */
const GATE_RESULTS = ["passed", "failed", "aborted"] as const;

/**
 * Starts the counters whose labels are known in advance at zero, so that `increase()` and `rate()`
 * see their first event (a series that appears at 1 hides it) and alerts have a series to compare.
 */
function initialize(metrics: Metrics): void {
  for (const kind of RunKind.options) {
    metrics.runsStarted.inc({ kind }, 0);
    for (const status of RunStatusMachine.terminal) metrics.runsFinished.inc({ kind, status }, 0);
  }
  for (const kind of GcKind.options) metrics.gcRemoved.inc({ kind }, 0);
  for (const result of GATE_RESULTS) {
    metrics.healthGates.inc({ result }, 0);
    metrics.healthGateDuration.zero({ result });
  }
  for (const result of ["up", "down"]) {
    metrics.monitorChecks.inc({ result }, 0);
    metrics.monitorRestarts.inc({ result }, 0);
  }
  for (const event of ["opened", "closed"]) metrics.monitorIncidents.inc({ event }, 0);
  metrics.monitorRepairs.inc(0);
}

/** Drops whole metric families (HELP, TYPE and samples) whose name promtool rejects. */
function filterFamilies(text: string): string {
  return text
    .split("\n")
    .filter((line) => {
      const name = line.startsWith("# ") ? (line.split(" ")[2] ?? "") : line;
      return !REJECTED_DEFAULTS.test(name);
    })
    .join("\n");
}
