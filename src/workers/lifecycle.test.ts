import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildManager,
  startDoomedOrchestrator,
  startWorkersHarness,
  type WorkersHarness,
} from "../../test/support/workers-harness.js";
import type { Worker } from "../contracts/index.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import { openPgliteStore } from "../store/index.js";
import { WorkerSweeper } from "./lifecycle.js";
import { LABEL_NODE } from "./manager.js";
import { CACHES_DIR } from "./runtimes/project-cache.js";
import { processesWithMarker, sleep } from "./runtimes/runtime.conformance.js";

let h: WorkersHarness;
let projectId: string;

beforeAll(async () => {
  h = await startWorkersHarness();
  projectId = (await h.store.projects.create({ name: "lifecycle" })).id;
});
afterAll(async () => h?.close());

describe("worker lifecycle", () => {
  it("creates, pauses, resumes and terminates 20 workers, leaving nothing behind", {
    timeout: 120_000,
  }, async () => {
    const workers: Worker[] = [];
    for (let i = 0; i < 20; i++)
      workers.push(await h.manager.create({ role: "developer", projectId, backend: "scripted" }));
    expect((await h.runtime.list()).filter((s) => workers.some((w) => w.id === s.workerId))).toHaveLength(20);

    // A busy command in the first sandbox: its CPU time must stand still while paused.
    const first = workers[0];
    if (!first) throw new Error("no worker");
    const sandbox = await h.runtime.attach(first.id);
    if (!sandbox) throw new Error("no sandbox");
    const busy = h.runtime.exec(sandbox, {
      argv: ["sh", "-c", "while :; do :; done"],
      env: { PATH: "/usr/bin:/bin", ORCHESTRATOR_WORKER_ID: first.id },
      timeoutMs: 120_000,
    });
    await sleep(500);

    for (const w of workers) expect((await h.manager.pause(w.id)).state).toBe("paused");
    const frozenAt = await h.runtime.cpuTimeMs(sandbox);
    await sleep(1000);
    expect(await h.runtime.cpuTimeMs(sandbox)).toBeLessThanOrEqual(frozenAt + 20);

    for (const w of workers) expect((await h.manager.resume(w.id)).state).toBe("running");
    const thawedAt = await h.runtime.cpuTimeMs(sandbox);
    await sleep(1000);
    expect(await h.runtime.cpuTimeMs(sandbox)).toBeGreaterThan(thawedAt + 100);

    for (const w of workers) expect((await h.manager.terminate(w.id)).state).toBe("stopped");
    const ended = await busy;
    expect(ended.exitCode).not.toBe(0);
    expect(await processesWithMarker(first.id)).toEqual([]);
    const left = readdirSync(h.root).filter((d) => workers.some((w) => w.id === d));
    expect(left).toEqual([]);
  });

  it("terminates a worker paused past its TTL and one past its hard TTL", async () => {
    const paused = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    await h.manager.pause(paused.id);
    const fresh = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    // 31 minutes later the paused one is over WORKER_PAUSED_TTL (30 min); the running one is not.
    const report = await h.sweeper.sweep(Date.now() + 31 * 60_000);
    expect(report.terminated).toContainEqual({ workerId: paused.id, reason: "paused too long" });
    expect((await h.store.workers.get(paused.id)).state).toBe("stopped");
    expect((await h.store.workers.get(fresh.id)).state).toBe("running");
    // Two hours later it is past the hard TTL (1 h in this harness).
    const later = await h.sweeper.sweep(Date.now() + 2 * 3_600_000);
    expect(later.terminated).toContainEqual({ workerId: fresh.id, reason: "hard TTL reached" });
    expect(existsSync(join(h.root, fresh.id))).toBe(false);
  });

  it("terminates a worker whose run has ended (its engine could not), and leaves a running run's alone", async () => {
    const ended = await h.store.runs.create({ projectId, kind: "engineering", input: {} });
    const going = await h.store.runs.create({ projectId, kind: "engineering", input: {} });
    await h.store.runs.transition(ended.id, "running");
    await h.store.runs.transition(ended.id, "failed", {
      result: { outcome: "failed" },
      error: { code: "x", message: "failed" },
    });
    await h.store.runs.transition(going.id, "running");
    const orphan = await h.manager.create({
      role: "developer",
      projectId,
      runId: ended.id,
      backend: "scripted",
    });
    await h.manager.pause(orphan.id);
    const kept = await h.manager.create({
      role: "developer",
      projectId,
      runId: going.id,
      backend: "scripted",
    });
    await h.manager.pause(kept.id);
    const report = await h.sweeper.sweep();
    expect(report.terminated).toContainEqual({ workerId: orphan.id, reason: "its run ended failed" });
    expect((await h.store.workers.get(orphan.id)).state).toBe("stopped");
    expect(existsSync(join(h.root, orphan.id))).toBe(false);
    expect((await h.store.workers.get(kept.id)).state).toBe("paused");
    await h.manager.terminate(kept.id, "test done");
  });

  it("removes sandboxes without a live record and marks records without a sandbox gone", async () => {
    const stray = await h.runtime.create({
      workerId: "0199aaaa-bbbb-7ccc-8ddd-eeeeffff0000",
      projectId,
      runId: null,
      labels: {},
      limits: { cpus: 1, memoryMb: 256, pids: 64 },
      modelAgent: null,
    });
    const lost = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    rmSync(join(h.root, lost.id), { recursive: true, force: true });
    const report = await h.sweeper.sweep();
    expect(report.orphansRemoved).toContain(stray.workerId);
    expect(report.markedGone).toContain(lost.id);
    expect(await h.runtime.attach(stray.workerId)).toBeNull();
    expect((await h.store.workers.get(lost.id)).state).toBe("gone");
  });

  it("keeps the sandbox of a worker resumed while the sweep reads the live ones", async () => {
    const worker = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    await h.manager.pause(worker.id);
    // The live workers are read one state at a time: the worker is paused when the running ones
    // are read, and resumed (a stage's next command) before the paused ones are.
    const workers = h.store.workers;
    const store = {
      ...h.store,
      workers: {
        ...workers,
        list: async (filter: Parameters<typeof workers.list>[0]) => {
          if (filter?.state === "paused") await h.manager.resume(worker.id);
          return workers.list(filter);
        },
      },
    } as typeof h.store;
    const sweeper = new WorkerSweeper({
      store,
      manager: h.manager,
      runtimes: { process: h.runtime },
      logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
      pausedTtlMs: 30 * 60_000,
      intervalMs: 60_000,
    });
    const report = await sweeper.sweep();
    expect(report.orphansRemoved).not.toContain(worker.id);
    expect(await h.runtime.attach(worker.id)).not.toBeNull();
    expect((await h.store.workers.get(worker.id)).state).toBe("running");
    await h.manager.terminate(worker.id, "test done");
  });

  it("hands the scheduler a sweep of this node on the configured interval", async () => {
    const job = h.sweeper.job();
    expect(job).toMatchObject({ name: "workers.sweep", scope: "every-process", intervalMs: 60_000 });
    const stray = await h.runtime.create({
      workerId: "0199aaaa-bbbb-7ccc-8ddd-eeeeffff0001",
      projectId,
      runId: null,
      labels: {},
      limits: { cpus: 1, memoryMb: 256, pids: 64 },
      modelAgent: null,
    });
    await job.run(new AbortController().signal);
    expect(await h.runtime.attach(stray.workerId)).toBeNull();
  });

  it("leaves the workers of another node alone: their sandboxes live on that node", async () => {
    const elsewhere = await h.store.workers.create({
      role: "developer",
      backend: "scripted",
      runtime: "process",
      projectId,
      labels: { [LABEL_NODE]: "another-machine" },
    });
    await h.store.workers.setState(elsewhere.id, "running");
    const recovered = await h.sweeper.recoverAfterRestart();
    const swept = await h.sweeper.sweep();
    for (const report of [recovered, swept]) {
      expect(report.markedGone).not.toContain(elsewhere.id);
      expect(report.terminated.map((t) => t.workerId)).not.toContain(elsewhere.id);
    }
    expect((await h.store.workers.get(elsewhere.id)).state).toBe("running");
    const mine = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    expect(mine.labels[LABEL_NODE]).toBe(h.manager.node);
    await h.manager.terminate(mine.id);
  });
});

describe("after kill -9 of the orchestrator", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "orch-crash-db-"));
  const root = mkdtempSync(join(tmpdir(), "orch-crash-ws-"));
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  it("a restart leaves no process, sandbox or workspace without a live record", {
    timeout: 120_000,
  }, async () => {
    // Without bubblewrap the killed orchestrator's agents outlive it: the harder case.
    const doomed = await startDoomedOrchestrator({
      ORCH_DATA_DIR: dataDir,
      ORCH_ROOT: root,
      ORCH_WORKERS: "5",
      ORCH_BWRAP: "0",
    });
    const ids = doomed.ids;
    expect(ids).toHaveLength(5);
    for (const id of ids) expect((await processesWithMarker(id)).length).toBeGreaterThan(0);
    await doomed.kill();

    const store = await openPgliteStore(dataDir);
    try {
      const { runtime, sweeper } = buildManager({
        store,
        url: "http://127.0.0.1:9",
        root,
        useBubblewrap: false,
      });
      const report = await sweeper.recoverAfterRestart();
      expect(report.terminated.map((t) => t.workerId).sort()).toEqual([...ids].sort());
      for (const id of ids) {
        expect(await processesWithMarker(id)).toEqual([]);
        expect((await store.workers.get(id)).state).toBe("stopped");
      }
      expect(await runtime.list()).toEqual([]);
      // Only the project caches stay: they outlive sandboxes by design.
      expect(readdirSync(root).filter((name) => name !== CACHES_DIR)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
