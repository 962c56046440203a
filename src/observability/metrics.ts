import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** The Prometheus registry of one process and the HTTP metrics the API records. */
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
  /** Runs that reached a terminal status, by run kind and status (fed by `followRunEvents`). */
  readonly runsFinished: Counter<"kind" | "status">;
  /** Prometheus text exposition of every metric, filtered of names promtool rejects. */
  render(): Promise<string>;
}

// prom-client's default Node metrics include gauges named `*_total`, which promtool flags.
const REJECTED_DEFAULTS = /^nodejs_active_(handles|requests|resources)_total\b/;

/**
 * The registry of one process. `roles` (the process's roles, e.g. `engine` or `api,workers,engine`)
 * becomes a `role` label on every sample, so one Prometheus can scrape every process apart.
 */
export function createMetrics(opts: { roles?: readonly string[] } = {}): Metrics {
  const registry = new Registry();
  if (opts.roles && opts.roles.length > 0) registry.setDefaultLabels({ role: opts.roles.join(",") });
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: "orchestrator_http_requests_total",
    help: "HTTP requests answered by the API.",
    labelNames: ["method", "route", "status_code"] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: "orchestrator_http_request_duration_seconds",
    help: "Time taken to answer HTTP requests.",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const agentTokens = new Counter({
    name: "orchestrator_agent_tokens_total",
    help: "Tokens used by agent invocations.",
    labelNames: ["backend", "model", "kind"] as const,
    registers: [registry],
  });
  const agentCostUsd = new Counter({
    name: "orchestrator_agent_cost_usd_total",
    help: "Cost of agent invocations in US dollars (reported by the provider or estimated).",
    labelNames: ["backend", "model", "source"] as const,
    registers: [registry],
  });
  const runEvents = new Counter({
    name: "orchestrator_run_events_total",
    help: "Run events published by run journals, by type.",
    labelNames: ["type"] as const,
    registers: [registry],
  });
  const runsFinished = new Counter({
    name: "orchestrator_runs_finished_total",
    help: "Runs that reached a terminal status, by kind and status.",
    labelNames: ["kind", "status"] as const,
    registers: [registry],
  });
  return {
    registry,
    httpRequests,
    httpDuration,
    agentTokens,
    agentCostUsd,
    runEvents,
    runsFinished,
    async render() {
      const text = await registry.metrics();
      return filterFamilies(text);
    },
  };
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
