import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { InProcessBus } from "../bus/index.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import { Scheduler } from "../scheduler/index.js";
import type { Store } from "../store/index.js";
import { RunExecutor, triggerRun } from "./run-executor.js";

const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
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

async function queuedRun() {
  const project = await store.projects.create({ name: `executor ${Math.random()}` });
  return store.runs.create({ projectId: project.id, kind: "engineering" });
}

async function eventually(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let engines = 0;

/** An engine: the executor, and its recovery scan every 50ms on its own scheduler (one leads). */
function executor(
  execute: (runId: string, signal: AbortSignal) => Promise<void>,
  leaseTtlMs = 60_000,
  opts: { concurrency?: number; scanMs?: number } = {},
) {
  const runs = new RunExecutor({ kind: "engineering", store, bus, logger, execute, leaseTtlMs, ...opts });
  engines += 1;
  const scheduler = new Scheduler({ holder: `engine-${engines}`, leases: store.jobLeases, logger });
  scheduler.add(runs.recoveryJob(opts.scanMs ?? 50));
  return {
    isActive: (runId: string) => runs.isActive(runId),
    start() {
      runs.start();
      scheduler.start();
    },
    async stop(deadlineMs?: number) {
      await scheduler.stop(deadlineMs);
      await runs.stop(deadlineMs);
    },
  };
}

describe("RunExecutor", () => {
  it("executes a triggered run once, even with two engines and a duplicate trigger", async () => {
    const calls: string[] = [];
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const execute = async (runId: string) => {
      calls.push(runId);
      await gate;
      await store.runs.transition(runId, "running");
      await store.runs.transition(runId, "succeeded", { result: { ok: true } });
    };
    const a = executor(execute);
    const b = executor(execute);
    a.start();
    b.start();
    const run = await queuedRun();
    await triggerRun(bus, "engineering", run.id);
    await triggerRun(bus, "engineering", run.id);
    await eventually(() => calls.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 200)); // recovery scans ran meanwhile
    release();
    await eventually(async () => (await store.runs.get(run.id)).status === "succeeded");
    expect(calls).toEqual([run.id]);
    await a.stop();
    await b.stop();
  });

  it("leaves an interrupted run to be resumed by another engine once its lease expires", async () => {
    const seen: { engine: string; aborted: boolean }[] = [];
    const first = executor(async (_runId, signal) => {
      seen.push({ engine: "first", aborted: signal.aborted });
      // The stop may come before the run is read and handed over: the signal is then already aborted.
      if (!signal.aborted)
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
    }, 300);
    first.start();
    const run = await queuedRun();
    await triggerRun(bus, "engineering", run.id);
    await eventually(() => first.isActive(run.id));
    await first.stop(2_000); // aborts: the run stays queued, nothing is marked failed
    expect((await store.runs.get(run.id)).status).toBe("queued");

    const second = executor(async (runId) => {
      seen.push({ engine: "second", aborted: false });
      await store.runs.transition(runId, "running");
      await store.runs.transition(runId, "succeeded", { result: { resumed: true } });
    }, 300);
    second.start(); // no trigger: the recovery scan finds it
    await eventually(async () => (await store.runs.get(run.id)).status === "succeeded");
    expect(seen.map((s) => s.engine)).toEqual(["first", "second"]);
    await second.stop();
  });

  it("stops executing a run that someone else ended (cancelled) at its next lease renewal", async () => {
    const run = await queuedRun();
    const stopped: string[] = [];
    const engine = executor(async (runId, signal) => {
      await store.runs.transition(runId, "running");
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      stopped.push(String((signal.reason as { code?: string }).code));
    }, 300);
    engine.start();
    await triggerRun(bus, "engineering", run.id);
    await eventually(async () => (await store.runs.get(run.id)).status === "running");
    expect(stopped).toEqual([]);
    await store.runs.transition(run.id, "cancelled", { result: { outcome: "cancelled" } });
    await eventually(() => stopped.length > 0);
    expect(stopped).toEqual(["run_ended"]);
    await eventually(() => !engine.isActive(run.id));
    expect((await store.runs.get(run.id)).status).toBe("cancelled");
    await engine.stop();
  });

  it("shares queued runs between busy engines: each takes the next one when a slot frees, none twice", async () => {
    // Triggers arrive while both engines are full: they are acknowledged, the runs stay queued, and
    // the scans (an hour apart here, so only the first one at start counts) cannot be what takes them.
    const executed: { engine: string; runId: string }[] = [];
    const gates = new Map<string, () => void>();
    const make = (name: string) =>
      executor(
        async (runId) => {
          executed.push({ engine: name, runId });
          await store.runs.transition(runId, "running");
          await new Promise<void>((resolve) => gates.set(runId, resolve));
          await store.runs.transition(runId, "succeeded", { result: { ok: true } });
        },
        60_000,
        { concurrency: 1, scanMs: 3_600_000 },
      );
    const a = make("a");
    const b = make("b");
    a.start();
    b.start();
    const runs: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const run = await queuedRun();
      runs.push(run.id);
      await triggerRun(bus, "engineering", run.id);
    }
    // Each engine holds one; then each end lets its engine take the next queued run at once.
    for (let done = 0; done < runs.length; done += 1) {
      await eventually(() => gates.size > 0);
      const [runId, open] = [...gates.entries()][0] as [string, () => void];
      gates.delete(runId);
      open();
      await eventually(async () => (await store.runs.get(runId)).status === "succeeded");
    }
    await eventually(async () => {
      const statuses = await Promise.all(runs.map(async (id) => (await store.runs.get(id)).status));
      return statuses.every((status) => status === "succeeded");
    });
    expect(executed.map((e) => e.runId).sort()).toEqual([...runs].sort());
    expect(new Set(executed.map((e) => e.engine))).toEqual(new Set(["a", "b"]));
    await a.stop();
    await b.stop();
  });

  it("stops its copy of a run whose lease another engine took while it stalled", async () => {
    // The first engine's store stalls its lease renewals (as when the database is away) until let go.
    let stalled = false;
    const held: (() => void)[] = [];
    const stallingRuns = new Proxy(store.runs, {
      get(target, prop) {
        if (prop === "claimLease") {
          return async (...args: Parameters<Store["runs"]["claimLease"]>) => {
            if (stalled) await new Promise<void>((resolve) => held.push(resolve));
            return target.claimLease(...args);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const stallingStore = new Proxy(store, {
      get: (target, prop) => (prop === "runs" ? stallingRuns : Reflect.get(target, prop, target)),
    });
    const reasons: string[] = [];
    const first = new RunExecutor({
      kind: "engineering",
      store: stallingStore,
      bus,
      logger,
      leaseTtlMs: 300,
      execute: async (runId, signal) => {
        await store.runs.transition(runId, "running");
        await new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => resolve(), { once: true }),
        );
        reasons.push(String((signal.reason as { code?: string }).code));
      },
    });
    first.start();
    const run = await queuedRun();
    await triggerRun(bus, "engineering", run.id);
    await eventually(async () => (await store.runs.get(run.id)).status === "running");
    stalled = true;
    let secondTook = false;
    let finish = () => {};
    const second = executor(async (runId) => {
      secondTook = true;
      await new Promise<void>((resolve) => (finish = resolve));
      await store.runs.transition(runId, "succeeded", { result: { resumed: true } });
    }, 300);
    second.start(); // its scan takes the run once the first one's lease has expired
    await eventually(() => secondTook);
    expect(reasons).toEqual([]);
    // The first engine comes back while the second works the run: its copy stops, the run goes on.
    stalled = false;
    for (const resume of held.splice(0)) resume();
    await eventually(() => reasons.length > 0);
    expect(reasons).toEqual(["lease_lost"]);
    expect((await store.runs.get(run.id)).status).toBe("running");
    finish();
    await eventually(async () => (await store.runs.get(run.id)).status === "succeeded");
    await eventually(() => !first.isActive(run.id));
    await first.stop();
    await second.stop();
  });
});
