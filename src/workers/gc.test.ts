import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkersHarness, type WorkersHarness } from "../../test/support/workers-harness.js";
import { createLogger, createMetrics, SecretRedactor } from "../observability/index.js";
import { collectNpmCaches, workerRecordsGcJob } from "./gc.js";
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
});
