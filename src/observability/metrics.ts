import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** The Prometheus registry of one process and the HTTP metrics the API records. */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<"method" | "route" | "status_code">;
  readonly httpDuration: Histogram<"method" | "route" | "status_code">;
  /** Prometheus text exposition of every metric, filtered of names promtool rejects. */
  render(): Promise<string>;
}

// prom-client's default Node metrics include gauges named `*_total`, which promtool flags.
const REJECTED_DEFAULTS = /^nodejs_active_(handles|requests|resources)_total\b/;

export function createMetrics(): Metrics {
  const registry = new Registry();
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
  return {
    registry,
    httpRequests,
    httpDuration,
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
