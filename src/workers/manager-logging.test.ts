import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { buildManager } from "../../test/support/workers-harness.js";
import type { Store } from "../store/index.js";

describe("WorkerManager logging on behalf of a run", () => {
  let store: Store;
  let root: string;
  const logLines: string[] = [];
  let built: ReturnType<typeof buildManager>;

  beforeAll(async () => {
    store = await openTestStore();
    root = mkdtempSync(join(tmpdir(), "workers-logging-"));
    built = buildManager({ store, url: "http://127.0.0.1:1", root, logLines });
  });
  afterAll(async () => {
    for (const info of (await built?.runtime.list()) ?? []) await built.runtime.remove(info);
    await store?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("tags what it logs about a run's worker with the worker, its project and its run", async () => {
    const project = await store.projects.create({ name: "logged worker" });
    const run = await store.runs.create({ projectId: project.id, kind: "engineering" });
    const worker = await built.manager.create({
      role: "developer",
      projectId: project.id,
      runId: run.id,
      backend: "scripted",
    });
    const result = await built.manager.send(
      worker.id,
      JSON.stringify({ steps: [{ fail: { message: "crash on purpose" } }] }),
    );
    expect(result.ok).toBe(false);
    await built.manager.terminate(worker.id, "test over");

    const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const failed = lines.find((l) => l.msg === "agent turn failed");
    const terminated = lines.find((l) => l.msg === "worker terminated");
    const labels = { workerId: worker.id, projectId: project.id, runId: run.id };
    expect(failed).toMatchObject({ ...labels, error: { code: "crashed" } });
    expect(terminated).toMatchObject({ ...labels, reason: "test over" });
  });
});
