import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { promtoolCheckMetrics, sampleValue } from "../../test/support/metrics-text.js";
import { openTestStore } from "../../test/support/store.js";
import { until } from "../../test/support/until.js";
import { InProcessBus } from "../bus/index.js";
import type { RunEvent } from "../contracts/index.js";
import { RUN_EVENTS_STREAM, RunJournal } from "../events/index.js";
import type { Store } from "../store/index.js";
import { createLogger } from "./logger.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { SecretRedactor } from "./redaction.js";
import { followRunEvents } from "./run-metrics.js";

let store: Store;
let bus: InProcessBus;
const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
beforeAll(async () => {
  store = await openTestStore();
  bus = new InProcessBus();
});
afterAll(async () => {
  await bus.close();
  await store.close();
});

/** Follows the run events into fresh metrics, reading run kinds from the store. */
function follow(): { metrics: Metrics; stop: () => Promise<void> } {
  const metrics = createMetrics();
  const sub = followRunEvents({
    metrics,
    bus,
    stream: RUN_EVENTS_STREAM,
    runKind: async (runId) => (await store.runs.get(runId)).kind,
    logger,
  });
  return { metrics, stop: () => sub.stop() };
}

/** Seconds between two stored events, as the store timed them. */
const between = (from: RunEvent, to: RunEvent) => (Date.parse(to.at) - Date.parse(from.at)) / 1000;

/** Waits until the metrics have seen the run's terminal status. */
async function finished(metrics: Metrics, kind: string, status: string, count: number): Promise<string> {
  return until(`${count} ${kind} run(s) ${status}`, 5_000, async () => {
    const text = await metrics.render();
    return sampleValue(text, "orchestrator_runs_finished_total", { kind, status }) === count ? text : null;
  });
}

describe("run metrics", () => {
  it("count journal events by type, runs started and finished by kind and status", async () => {
    const { metrics, stop } = follow();
    const journal = new RunJournal({ store, bus, logger });
    const project = await store.projects.create({ name: "metrics" });
    const run = await store.runs.create({ projectId: project.id, kind: "deploy" });

    await journal.append({ runId: run.id, type: "run.created", data: { kind: "deploy" } });
    await journal.log(run.id, "one");
    await journal.log(run.id, "two");
    await journal.move(run.id, "running");
    await journal.move(run.id, "failed", {
      result: { reason: "test" },
      error: { code: "x", message: "boom" },
    });

    const text = await finished(metrics, "deploy", "failed", 1);
    expect(sampleValue(text, "orchestrator_run_events_total", { type: "run.log" })).toBe(2);
    expect(sampleValue(text, "orchestrator_run_events_total", { type: "run.created" })).toBe(1);
    expect(sampleValue(text, "orchestrator_run_events_total", { type: "run.status_changed" })).toBe(2);
    expect(sampleValue(text, "orchestrator_runs_started_total", { kind: "deploy" })).toBe(1);
    // Moving to running is a start, not a finish.
    expect(sampleValue(text, "orchestrator_runs_finished_total", { kind: "deploy", status: "running" })).toBe(
      undefined,
    );
    // Counters of known labels start at zero, so that increase() sees their first event.
    expect(
      sampleValue(text, "orchestrator_runs_finished_total", { kind: "provision", status: "blocked" }),
    ).toBe(0);
    expect(promtoolCheckMetrics(text)).toBe("");

    // After stop, further events are not counted.
    await stop();
    await journal.log(run.id, "three");
    const after = await metrics.render();
    expect(sampleValue(after, "orchestrator_run_events_total", { type: "run.log" })).toBe(2);
  });

  it("time each stage from its event to the next stage or the run's end, and the health gates by result", async () => {
    const { metrics, stop } = follow();
    const journal = new RunJournal({ store, bus, logger });
    const project = await store.projects.create({ name: "gates" });

    // A deploy whose release passes its gate.
    const green = await store.runs.create({ projectId: project.id, kind: "deploy" });
    await journal.append({
      runId: green.id,
      type: "run.created",
      data: { kind: "deploy", action: "deploy" },
    });
    await journal.move(green.id, "running");
    const allocate = await journal.append({
      runId: green.id,
      type: "run.stage_changed",
      data: { stage: "allocate" },
    });
    const smoke = await journal.append({
      runId: green.id,
      type: "run.stage_changed",
      data: { stage: "smoke" },
    });
    const greenEnd = await journal.append({
      runId: green.id,
      type: "run.status_changed",
      data: { from: "running", to: "succeeded" },
    });

    // A deploy whose release fails its gate and is rolled back; its kind is read from the store,
    // as for a run this process first sees mid-way.
    const red = await store.runs.create({ projectId: project.id, kind: "deploy" });
    await journal.move(red.id, "running");
    const redSmoke = await journal.append({
      runId: red.id,
      type: "run.stage_changed",
      data: { stage: "smoke" },
    });
    const rollback = await journal.append({
      runId: red.id,
      type: "run.stage_changed",
      data: { stage: "rollback" },
    });
    const redEnd = await journal.append({
      runId: red.id,
      type: "run.status_changed",
      data: { from: "running", to: "failed", error: { code: "health_gate_failed", message: "red" } },
    });

    // An engineering run with a stage named outside the code's constants.
    const eng = await store.runs.create({ projectId: project.id, kind: "engineering" });
    await journal.append({
      runId: eng.id,
      type: "run.created",
      data: { kind: "engineering", mode: "build" },
    });
    await journal.move(eng.id, "running");
    const odd = await journal.append({
      runId: eng.id,
      type: "run.stage_changed",
      data: { stage: "Odd Stage!" },
    });
    const engEnd = await journal.append({
      runId: eng.id,
      type: "run.status_changed",
      data: { from: "running", to: "cancelled" },
    });

    await finished(metrics, "deploy", "failed", 1);
    const text = await finished(metrics, "engineering", "cancelled", 1);
    expect(
      sampleValue(text, "orchestrator_runs_finished_total", { kind: "deploy", status: "succeeded" }),
    ).toBe(1);
    expect(sampleValue(text, "orchestrator_runs_started_total", { kind: "deploy" })).toBe(2);
    expect(sampleValue(text, "orchestrator_runs_started_total", { kind: "engineering" })).toBe(1);

    const stage = (name: string, kind = "deploy") => ({
      count: sampleValue(text, "orchestrator_run_stage_duration_seconds_count", { kind, stage: name }),
      sum: sampleValue(text, "orchestrator_run_stage_duration_seconds_sum", { kind, stage: name }),
    });
    expect(stage("allocate").count).toBe(1);
    expect(stage("allocate").sum).toBeCloseTo(between(allocate, smoke), 6);
    expect(stage("smoke").count).toBe(2);
    expect(stage("smoke").sum).toBeCloseTo(between(smoke, greenEnd) + between(redSmoke, rollback), 6);
    expect(stage("rollback").count).toBe(1);
    expect(stage("rollback").sum).toBeCloseTo(between(rollback, redEnd), 6);
    expect(stage("other", "engineering").count).toBe(1);
    expect(stage("other", "engineering").sum).toBeCloseTo(between(odd, engEnd), 6);

    expect(sampleValue(text, "orchestrator_health_gates_total", { result: "passed" })).toBe(1);
    expect(sampleValue(text, "orchestrator_health_gates_total", { result: "failed" })).toBe(1);
    // Every result starts at zero, so that increase() sees the first one.
    expect(sampleValue(text, "orchestrator_health_gates_total", { result: "aborted" })).toBe(0);
    expect(
      sampleValue(text, "orchestrator_health_gate_duration_seconds_sum", { result: "passed" }),
    ).toBeCloseTo(between(smoke, greenEnd), 6);
    expect(
      sampleValue(text, "orchestrator_health_gate_duration_seconds_sum", { result: "failed" }),
    ).toBeCloseTo(between(redSmoke, rollback), 6);
    expect(
      sampleValue(text, "orchestrator_health_gate_duration_seconds_bucket", { result: "failed", le: "+Inf" }),
    ).toBe(1);
    expect(promtoolCheckMetrics(text)).toBe("");
    await stop();
  });
});
