import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { promtoolCheckMetrics, sampleValue } from "../../test/support/metrics-text.js";
import { openTestStore } from "../../test/support/store.js";
import { InProcessBus } from "../bus/index.js";
import type { Store } from "../store/index.js";
import { createMetrics } from "./metrics.js";
import {
  busBacklogCollector,
  type DeployedService,
  deployedServicesCollector,
  runsInProgressCollector,
  workersCollector,
} from "./scrape-metrics.js";

let store: Store;
beforeAll(async () => {
  store = await openTestStore();
});
afterAll(async () => {
  await store.close();
});

describe("scrape-time metrics", () => {
  it("count workers by state and give the oldest activity age of each live state", async () => {
    const project = await store.projects.create({ name: "workers-metrics" });
    const make = () =>
      store.workers.create({
        role: "developer",
        backend: "claude-code",
        runtime: "process",
        projectId: project.id,
      });
    const starting = await make();
    const running = [await make(), await make()];
    for (const w of running) await store.workers.setState(w.id, "running");
    const paused = await make();
    await store.workers.setState(paused.id, "running");
    await store.workers.setState(paused.id, "paused");
    const stopped = await make();
    await store.workers.setState(stopped.id, "stopped");
    const oldestRunning = Math.min(
      ...(await Promise.all(
        running.map(async (w) => Date.parse((await store.workers.get(w.id)).lastActivityAt)),
      )),
    );
    const now = oldestRunning + 90_000;

    const metrics = createMetrics();
    metrics.addCollector(workersCollector(metrics, store, () => now));
    const text = await metrics.render();
    expect(sampleValue(text, "orchestrator_workers", { state: "starting" })).toBe(1);
    expect(sampleValue(text, "orchestrator_workers", { state: "running" })).toBe(2);
    expect(sampleValue(text, "orchestrator_workers", { state: "paused" })).toBe(1);
    expect(sampleValue(text, "orchestrator_workers", { state: "stopped" })).toBe(1);
    expect(sampleValue(text, "orchestrator_workers", { state: "gone" })).toBe(0);
    expect(sampleValue(text, "orchestrator_worker_oldest_activity_age_seconds", { state: "running" })).toBe(
      90,
    );
    const startingAt = Date.parse((await store.workers.get(starting.id)).lastActivityAt);
    expect(sampleValue(text, "orchestrator_worker_oldest_activity_age_seconds", { state: "starting" })).toBe(
      (now - startingAt) / 1000,
    );
    // Ended workers have no activity to watch.
    expect(sampleValue(text, "orchestrator_worker_oldest_activity_age_seconds", { state: "stopped" })).toBe(
      undefined,
    );
    expect(promtoolCheckMetrics(text)).toBe("");
  });

  it("count runs under way by kind and status", async () => {
    const project = await store.projects.create({ name: "runs-metrics" });
    await store.runs.create({ projectId: project.id, kind: "engineering" });
    await store.runs.create({ projectId: project.id, kind: "engineering" });
    const running = await store.runs.create({ projectId: project.id, kind: "deploy" });
    await store.runs.transition(running.id, "running");
    const done = await store.runs.create({ projectId: project.id, kind: "deploy" });
    await store.runs.transition(done.id, "running");
    await store.runs.transition(done.id, "succeeded", { result: {} });

    const metrics = createMetrics();
    metrics.addCollector(runsInProgressCollector(metrics, store));
    const text = await metrics.render();
    expect(
      sampleValue(text, "orchestrator_runs_in_progress", { kind: "engineering", status: "queued" }),
    ).toBe(2);
    expect(sampleValue(text, "orchestrator_runs_in_progress", { kind: "deploy", status: "running" })).toBe(1);
    expect(sampleValue(text, "orchestrator_runs_in_progress", { kind: "deploy", status: "queued" })).toBe(0);
    // Finished runs are not under way.
    expect(sampleValue(text, "orchestrator_runs_in_progress", { kind: "deploy", status: "succeeded" })).toBe(
      undefined,
    );
  });

  it("give each stream's pending, lag and dead letters from the bus", async () => {
    const bus = new InProcessBus();
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let taken = 0;
    const slow = bus.consume("jobs", { group: "engine", consumer: "c1", concurrency: 1 }, async () => {
      taken++;
      await held;
    });
    const poison = bus.consume("calls", { group: "workers", consumer: "c1", maxDeliveries: 1 }, async () => {
      throw new Error("boom");
    });
    for (let n = 0; n < 3; n++) await bus.publish("jobs", { type: "job.n", payload: n });
    await bus.publish("calls", { type: "call.n", payload: 1 });
    const metrics = createMetrics();
    metrics.addCollector(busBacklogCollector(metrics, bus, ["jobs", "calls", "quiet"]));
    for (let i = 0; i < 200 && (taken < 1 || (await bus.backlog("calls")).deadLetters < 1); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const text = await metrics.render();
    expect(sampleValue(text, "orchestrator_bus_pending_messages", { stream: "jobs", group: "engine" })).toBe(
      1,
    );
    expect(sampleValue(text, "orchestrator_bus_lag_messages", { stream: "jobs", group: "engine" })).toBe(2);
    expect(sampleValue(text, "orchestrator_bus_dead_letter_messages", { stream: "jobs" })).toBe(0);
    expect(sampleValue(text, "orchestrator_bus_dead_letter_messages", { stream: "calls" })).toBe(1);
    expect(
      sampleValue(text, "orchestrator_bus_pending_messages", { stream: "calls", group: "workers" }),
    ).toBe(0);
    // A stream nobody consumes has no groups, and no dead letters.
    expect(sampleValue(text, "orchestrator_bus_dead_letter_messages", { stream: "quiet" })).toBe(0);
    expect(sampleValue(text, "orchestrator_bus_pending_messages", { stream: "quiet" })).toBe(undefined);
    expect(promtoolCheckMetrics(text)).toBe("");
    release();
    await Promise.all([slow.stop(), poison.stop()]);
    await bus.close();
  });

  it("say which deployed services are up, read again only after the interval, and export nothing stale after a failure", async () => {
    let clock = 1_000_000;
    let reads = 0;
    let answer: readonly DeployedService[] | Error = [
      { project: "weather-bot", state: "live" },
      { project: "todo-web", state: "down" },
      { project: "notes", state: "unknown" },
    ];
    const metrics = createMetrics();
    const source = async () => {
      reads++;
      if (answer instanceof Error) throw answer;
      return answer;
    };
    metrics.addCollector(
      deployedServicesCollector(metrics, source, { minIntervalMs: 15_000, now: () => clock }),
    );

    let text = await metrics.render();
    expect(sampleValue(text, "orchestrator_deployed_service_up", { project: "weather-bot" })).toBe(1);
    expect(sampleValue(text, "orchestrator_deployed_service_up", { project: "todo-web" })).toBe(0);
    expect(sampleValue(text, "orchestrator_deployed_service_up", { project: "notes" })).toBe(0);

    answer = [{ project: "weather-bot", state: "down" }];
    clock += 10_000;
    text = await metrics.render();
    expect(reads).toBe(1);
    expect(sampleValue(text, "orchestrator_deployed_service_up", { project: "weather-bot" })).toBe(1);

    clock += 5_000;
    text = await metrics.render();
    expect(reads).toBe(2);
    expect(sampleValue(text, "orchestrator_deployed_service_up", { project: "weather-bot" })).toBe(0);
    // A project no longer deployed has no series.
    expect(sampleValue(text, "orchestrator_deployed_service_up", { project: "todo-web" })).toBe(undefined);

    answer = new Error("store unreachable");
    clock += 15_000;
    text = await metrics.render();
    expect(sampleValue(text, "orchestrator_deployed_service_up", { project: "weather-bot" })).toBe(undefined);
    expect(
      sampleValue(text, "orchestrator_metrics_collect_errors_total", { collector: "deployed_services" }),
    ).toBe(1);
    // After a failure the next scrape reads again, whatever the interval.
    answer = [{ project: "weather-bot", state: "live" }];
    text = await metrics.render();
    expect(reads).toBe(4);
    expect(sampleValue(text, "orchestrator_deployed_service_up", { project: "weather-bot" })).toBe(1);
    expect(promtoolCheckMetrics(text)).toBe("");
  });
});
