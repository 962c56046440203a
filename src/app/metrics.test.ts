import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PopulatedScrape, populatedScrape } from "../../test/support/metrics-fixture.js";
import { parseExposition, promtoolCheckMetrics, sampleValue } from "../../test/support/metrics-text.js";
import { createMetrics } from "../observability/index.js";

let scrape: PopulatedScrape;
beforeAll(async () => {
  scrape = await populatedScrape();
});
afterAll(async () => {
  await scrape?.close();
});

/** The sample names a family of `type` writes. */
function sampleNames(name: string, type: string): string[] {
  return type === "histogram" ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
}

describe("/metrics of an api process", () => {
  it("has samples of every orchestrator family, each typed, and promtool finds nothing wrong", async () => {
    const { types, samples } = parseExposition(scrape.text);
    const families = (await createMetrics().registry.getMetricsAsJSON())
      .map((m) => ({ name: m.name, type: String(m.type) }))
      .filter((m) => m.name.startsWith("orchestrator_"));
    // The collect errors counter has samples only when a collector failed, and the gc last-run
    // gauges only once a collection ran (the api role schedules none); this process has neither.
    const unsampled = new Set([
      "orchestrator_metrics_collect_errors_total",
      "orchestrator_gc_last_run_timestamp_seconds",
      "orchestrator_gc_last_run_removed",
    ]);
    const expected = families.filter((f) => !unsampled.has(f.name));
    expect(expected.length).toBeGreaterThanOrEqual(19);
    for (const family of expected) {
      expect(types.get(family.name), family.name).toBe(family.type);
      for (const name of sampleNames(family.name, family.type)) {
        expect(
          samples.some((s) => s.name === name),
          `samples of ${name}`,
        ).toBe(true);
      }
    }
    // Every sample carries the process's role.
    expect(samples.every((s) => s.labels.role === "api")).toBe(true);
    expect(promtoolCheckMetrics(scrape.text)).toBe("");
  });

  it("reports what happened: runs, gates, workers, model calls, the bus and the deployed services", () => {
    const at = (name: string, labels: Record<string, string>) => sampleValue(scrape.text, name, labels);
    expect(at("orchestrator_runs_started_total", { kind: "deploy" })).toBe(2);
    expect(at("orchestrator_runs_finished_total", { kind: "deploy", status: "succeeded" })).toBe(1);
    expect(at("orchestrator_runs_finished_total", { kind: "deploy", status: "failed" })).toBe(1);
    expect(at("orchestrator_run_stage_duration_seconds_count", { kind: "deploy", stage: "smoke" })).toBe(2);
    expect(at("orchestrator_health_gates_total", { result: "passed" })).toBe(1);
    expect(at("orchestrator_health_gates_total", { result: "failed" })).toBe(1);
    expect(at("orchestrator_runs_in_progress", { kind: "engineering", status: "queued" })).toBe(1);
    expect(at("orchestrator_workers", { state: "running" })).toBe(1);
    const model = { backend: "claude-code", model: "claude-sonnet-4-5" };
    expect(at("orchestrator_agent_tokens_total", { ...model, kind: "input" })).toBe(120);
    expect(at("orchestrator_agent_tokens_total", { ...model, kind: "output" })).toBe(30);
    expect(at("orchestrator_agent_cost_usd_total", { ...model, source: "metered" })).toBeGreaterThan(0);
    expect(
      at("orchestrator_model_request_duration_seconds_count", { provider: "anthropic", outcome: "ok" }),
    ).toBe(1);
    expect(
      at("orchestrator_model_request_errors_total", { provider: "anthropic", reason: "server_error" }),
    ).toBe(1);
    expect(at("orchestrator_bus_pending_messages", { stream: "engine.deploy", group: "engine" })).toBe(1);
    expect(at("orchestrator_bus_lag_messages", { stream: "engine.deploy", group: "engine" })).toBe(1);
    expect(at("orchestrator_bus_dead_letter_messages", { stream: "workers.rpc" })).toBe(1);
    expect(at("orchestrator_bus_dead_letter_messages", { stream: "run-events" })).toBe(0);
    // The same verdict `project.status` gives a person: live from its gate, down after a failed
    // deploy that could not bring the previous release back.
    expect(at("orchestrator_deployed_service_up", { project: scrape.slugs.live })).toBe(1);
    expect(at("orchestrator_deployed_service_up", { project: scrape.slugs.down })).toBe(0);
    expect(
      at("orchestrator_http_requests_total", { method: "GET", route: "/health", status_code: "200" }),
    ).toBe(1);
  });
});
