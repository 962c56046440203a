import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { until } from "../../test/support/until.js";
import { InProcessBus } from "../bus/index.js";
import { RUN_EVENTS_STREAM, RunJournal } from "../events/index.js";
import type { Store } from "../store/index.js";
import { createLogger } from "./logger.js";
import { createMetrics } from "./metrics.js";
import { SecretRedactor } from "./redaction.js";
import { followRunEvents } from "./run-metrics.js";

let store: Store;
let bus: InProcessBus;
beforeAll(async () => {
  store = await openTestStore();
  bus = new InProcessBus();
});
afterAll(async () => {
  await bus.close();
  await store.close();
});

/** The value of one sample of the rendered exposition, or 0 when it is absent. */
async function sample(text: Promise<string>, line: RegExp): Promise<number> {
  const match = (await text).split("\n").find((l) => line.test(l));
  return match ? Number(match.split(" ").at(-1)) : 0;
}

describe("run metrics", () => {
  it("count journal events by type and finished runs by kind and status", async () => {
    const metrics = createMetrics();
    const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
    const sub = followRunEvents({
      metrics,
      bus,
      stream: RUN_EVENTS_STREAM,
      runKind: async (runId) => (await store.runs.get(runId)).kind,
      logger,
    });
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

    const finished = /^orchestrator_runs_finished_total\{kind="deploy",status="failed"\}/;
    await until("the finished run is counted", 5_000, async () =>
      (await sample(metrics.render(), finished)) === 1 ? true : null,
    );
    const text = metrics.render();
    expect(await sample(text, /^orchestrator_run_events_total\{type="run.log"\}/)).toBe(2);
    expect(await sample(text, /^orchestrator_run_events_total\{type="run.created"\}/)).toBe(1);
    expect(await sample(text, /^orchestrator_run_events_total\{type="run.status_changed"\}/)).toBe(2);
    // Moving to running is not a finish.
    expect(await sample(text, /^orchestrator_runs_finished_total\{kind="deploy",status="running"\}/)).toBe(0);

    // promtool prints problems and exits non-zero when it finds any.
    const file = join(mkdtempSync(join(tmpdir(), "run-metrics-")), "metrics.txt");
    writeFileSync(file, await text);
    expect(
      execFileSync("sh", ["-c", `promtool check metrics < ${file} 2>&1`], { encoding: "utf8" }).trim(),
    ).toBe("");

    // After stop, further events are not counted.
    await sub.stop();
    await journal.log(run.id, "three");
    expect(await sample(metrics.render(), /^orchestrator_run_events_total\{type="run.log"\}/)).toBe(2);
  });
});
