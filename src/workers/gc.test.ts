import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkersHarness, type WorkersHarness } from "../../test/support/workers-harness.js";
import { createLogger, createMetrics, SecretRedactor } from "../observability/index.js";
import { collectNpmCaches, collectRunWorkspaces, workerRecordsGcJob } from "./gc.js";
import { CACHES_DIR } from "./runtimes/project-cache.js";

let h: WorkersHarness;
const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });

beforeAll(async () => {
  h = await startWorkersHarness();
});
afterAll(async () => h?.close());

describe("workers garbage collection", () => {
  it("deletes the records of ended workers past the age, keeps live ones, and counts them", async () => {
    const projectId = (await h.store.projects.create({ name: "gc-records" })).id;
    const live = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    const ended = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    await h.manager.terminate(ended.id);
    const metrics = createMetrics();
    const job = (ageMs: number) =>
      workerRecordsGcJob({ store: h.store, logger, metrics, intervalMs: 60_000, ageMs });

    await job(3_600_000).run(new AbortController().signal);
    expect((await h.store.workers.get(ended.id)).state).toBe("stopped");

    await job(0).run(new AbortController().signal);
    await expect(h.store.workers.get(ended.id)).rejects.toMatchObject({ kind: "not_found" });
    expect((await h.store.workers.get(live.id)).state).toBe("running");
    const text = await metrics.render();
    expect(text).toMatch(/orchestrator_gc_removed_total\{kind="worker_records"\} 1/);
    expect(text).toMatch(/orchestrator_gc_last_run_timestamp_seconds\{kind="worker_records"\} \d/);
    await h.manager.terminate(live.id);
  });

  it("removes the npm caches of archived and unknown projects, keeps those of live projects", async () => {
    const kept = (await h.store.projects.create({ name: "gc-cache-kept" })).id;
    const archived = (await h.store.projects.create({ name: "gc-cache-archived" })).id;
    await h.store.projects.setStatus(archived, "archived");
    const unknown = "00000000-0000-4000-8000-000000000abc";
    const root = join(h.root, CACHES_DIR);
    for (const id of [kept, archived, unknown]) {
      mkdirSync(join(root, id, "npm"), { recursive: true });
      writeFileSync(join(root, id, "npm", "index"), "cached");
    }
    expect(await collectNpmCaches({ store: h.store, cacheRoots: [root] })).toBe(2);
    expect(existsSync(join(root, kept, "npm", "index"))).toBe(true);
    expect(existsSync(join(root, archived))).toBe(false);
    expect(existsSync(join(root, unknown))).toBe(false);
    // Idempotent: a second pass (another replica) finds nothing left.
    expect(await collectNpmCaches({ store: h.store, cacheRoots: [root] })).toBe(0);
  });

  it("removes the sandboxes of workers whose run ended past the age, never one of a run under way", async () => {
    const projectId = (await h.store.projects.create({ name: "gc-workspaces" })).id;
    const ended = await h.store.runs.create({ projectId, kind: "engineering" });
    await h.store.runs.transition(ended.id, "running");
    await h.store.runs.transition(ended.id, "succeeded", { result: { ok: true } });
    const going = await h.store.runs.create({ projectId, kind: "engineering" });
    await h.store.runs.transition(going.id, "running");
    const ofEnded = await h.manager.create({
      role: "developer",
      projectId,
      runId: ended.id,
      backend: "scripted",
    });
    const ofGoing = await h.manager.create({
      role: "developer",
      projectId,
      runId: going.id,
      backend: "scripted",
    });
    const noRun = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    const sandbox = (id: string) => join(h.root, id, "workspace");
    expect(existsSync(sandbox(ofEnded.id))).toBe(true);

    const collect = (ageMs: number) => collectRunWorkspaces({ store: h.store, manager: h.manager, ageMs });
    // Ended a moment ago: younger than an hour, kept.
    expect(await collect(3_600_000)).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await collect(0)).toBe(1);
    expect((await h.store.workers.get(ofEnded.id)).state).toBe("stopped");
    expect(existsSync(sandbox(ofEnded.id))).toBe(false);
    for (const kept of [ofGoing, noRun]) {
      expect((await h.store.workers.get(kept.id)).state).toBe("running");
      expect(existsSync(sandbox(kept.id))).toBe(true);
    }
    // Idempotent: nothing left for a second pass.
    expect(await collect(0)).toBe(0);
    await h.manager.terminate(ofGoing.id);
    await h.manager.terminate(noRun.id);
  });
});
