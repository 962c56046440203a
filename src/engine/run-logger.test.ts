import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { InProcessBus } from "../bus/index.js";
import { RunJournal } from "../events/index.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { StoreCheckpointSaver } from "./checkpointer.js";
import type { DevopsDeps } from "./devops/deps.js";
import { DevopsRunner } from "./devops/runner.js";
import { RunExecutor, triggerRun } from "./run-executor.js";

/** Every JSON line the root logger wrote, as pino wrote it. */
const lines: Record<string, unknown>[] = [];
const logger = createLogger({
  level: "debug",
  redactor: new SecretRedactor(),
  destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
});
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

/** A part of the deps this run never reaches: touching it fails the test. */
function untouched<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get: (_target, key) => {
      throw new Error(`${name}.${String(key)} is not used by this run`);
    },
  });
}

async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("run-scoped logging", () => {
  it("tags every line of a deploy run's execution with its run, project and kind", async () => {
    const deps: DevopsDeps = {
      store,
      journal: new RunJournal({ store, bus, logger }),
      logger,
      forge: untouched("forge"),
      driver: untouched("driver"),
      secrets: untouched("secrets"),
      portRange: [30_000, 30_100],
      appEnv: "test",
      telegramApiRoot: null,
      gate: { intervalMs: 100, deadlineMs: 1_000 },
    };
    const runner = new DevopsRunner(deps, new StoreCheckpointSaver(store.checkpoints));
    const executor = new RunExecutor({
      kind: "deploy",
      store,
      bus,
      logger,
      execute: (runId, signal, log) => runner.execute(runId, signal, log),
      leaseTtlMs: 60_000,
    });
    executor.start();
    const project = await store.projects.create({ name: "logged deploy" });
    // Not a deploy request: the run fails at once, through the runner's own ending.
    const run = await store.runs.create({ projectId: project.id, kind: "deploy", input: { nonsense: true } });
    const before = lines.length;
    await triggerRun(bus, "deploy", run.id);
    await eventually(async () => (await store.runs.get(run.id)).status === "failed");
    await eventually(async () => !executor.isActive(run.id));
    await executor.stop();

    const ofRun = lines.slice(before).filter((l) => l.runId === run.id);
    expect(ofRun.map((l) => l.msg)).toContain("deploy run finished");
    for (const line of ofRun) {
      expect(line).toMatchObject({ runId: run.id, projectId: project.id, runKind: "deploy" });
    }
    // Nothing was written about this run without its id.
    const unlabelled = lines
      .slice(before)
      .filter((l) => l.runId === undefined && JSON.stringify(l).includes(run.id));
    expect(unlabelled).toEqual([]);
  });

  it("tags the executor's own report of a run that threw", async () => {
    const executor = new RunExecutor({
      kind: "engineering",
      store,
      bus,
      logger,
      execute: async (_runId, _signal, log) => {
        log.info("stage started");
        throw new Error("stage exploded");
      },
      leaseTtlMs: 60_000,
    });
    const project = await store.projects.create({ name: "logged engineering" });
    const run = await store.runs.create({ projectId: project.id, kind: "engineering" });
    const before = lines.length;
    expect(await executor.tryRun(run.id)).toBe(true);
    await eventually(async () => !executor.isActive(run.id));
    await executor.stop();

    const written = lines.slice(before);
    const started = written.find((l) => l.msg === "stage started");
    const failed = written.find((l) => l.msg === "run execution failed");
    const labels = { runId: run.id, projectId: project.id, runKind: "engineering" };
    expect(started).toMatchObject(labels);
    expect(failed).toMatchObject({ ...labels, err: { message: "stage exploded" } });
  });
});
