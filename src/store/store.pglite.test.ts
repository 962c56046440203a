import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { openPgliteStore, openStore } from "./index.js";
import { runStoreConformance } from "./store.conformance.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "orch-store-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

runStoreConformance("pglite in memory", (options) => openTestStore(options));
runStoreConformance("pglite on disk", (options) => openPgliteStore(join(dir, "conformance"), options));

describe("pglite on disk across restarts", () => {
  it("keeps data and admin edits after close and reopen, and migrates idempotently", async () => {
    const dataDir = join(dir, "reopen");
    const first = await openStore({ dataDir, databaseUrl: null });
    expect(first.driver).toBe("pglite");
    const project = await first.projects.create({ name: "Survivor" });
    const run = await first.runs.create({ projectId: project.id, kind: "engineering" });
    await first.runEvents.append({ runId: run.id, type: "run.created", data: { kind: "engineering" } });
    await first.agentConfigs.update("po", { model: "edited-model" }, "admin:test");
    await first.close();
    await first.close();

    const second = await openPgliteStore(dataDir);
    try {
      expect(await second.projects.get(project.id)).toEqual(project);
      expect(await second.runEvents.list(run.id, {})).toHaveLength(1);
      // Re-seeding on open must not overwrite what an admin changed.
      expect((await second.agentConfigs.get("po")).model).toBe("edited-model");
      // ... nor its history: version 2 is still the edit, version 1 the shipped default.
      expect((await second.agentConfigs.get("po")).version).toBe(2);
      expect((await second.agentConfigs.listVersions("po")).map((v) => [v.version, v.createdBy])).toEqual([
        [2, "admin:test"],
        [1, "shipped default"],
      ]);
      expect(await second.agentConfigs.list()).toHaveLength(5);
    } finally {
      await second.close();
    }
  });
});

describe("pglite data directory lock", () => {
  it("refuses a second opener while the first holds the directory, and frees it on close", async () => {
    const dataDir = join(dir, "locked");
    const first = await openPgliteStore(dataDir);
    await expect(openPgliteStore(dataDir)).rejects.toMatchObject({
      code: "data_dir_in_use",
      kind: "conflict",
    });
    await first.close();
    const again = await openPgliteStore(dataDir);
    await again.close();
  });

  it("takes over a lock left by a dead process", async () => {
    const dataDir = join(dir, "stale");
    await mkdir(join(dataDir, "db"), { recursive: true });
    // A pid far above pid_max cannot belong to a live process.
    await writeFile(join(dataDir, "db", "orchestrator.pid"), "99999999");
    const store = await openPgliteStore(dataDir);
    await store.close();
  });
});
