/**
 * What workers read at run time: the saved version of their node's config each turn runs on (told
 * once per worker and version as an `agent_config.used` run event), and the lifetimes an admin
 * stored on the Settings page (hard TTL of new workers, paused TTL of the sweeper) over the
 * environment's values.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkersHarness, type WorkersHarness } from "../../test/support/workers-harness.js";

let h: WorkersHarness;
let projectId: string;

beforeAll(async () => {
  h = await startWorkersHarness();
  projectId = (await h.store.projects.create({ name: "runtime settings" })).id;
});
afterAll(async () => h?.close());

const report = (summary: string) =>
  JSON.stringify({
    steps: [
      { report: { status: "complete", summary } },
      { pause: {} },
      { report: { status: "complete", summary: `${summary} again` } },
      { pause: {} },
      { report: { status: "complete", summary: "third" } },
    ],
  });

describe("workers at run time", () => {
  it("record on the run the config version each turn ran on, once per version, and take a new one at the next turn", async () => {
    const run = await h.store.runs.create({ projectId, kind: "engineering" });
    const before = await h.store.agentConfigs.get("developer");
    const worker = await h.manager.create({
      role: "developer",
      projectId,
      runId: run.id,
      backend: "scripted",
    });
    expect((await h.manager.send(worker.id, report("one"))).ok).toBe(true);
    expect((await h.manager.send(worker.id, "continue")).ok).toBe(true);
    const used = async () =>
      (await h.store.runEvents.list(run.id, {}))
        .filter((e) => e.type === "agent_config.used")
        .map((e) => e.data);
    expect(await used()).toEqual([
      {
        node: "developer",
        version: before.version,
        workerId: worker.id,
        backend: "scripted",
        model: before.model,
      },
    ]);

    await h.store.agentConfigs.update("developer", { model: "claude-opus-4-1" }, "admin:test");
    expect((await h.manager.send(worker.id, "continue")).ok).toBe(true);
    expect((await used()).map((u) => [u.version, u.model])).toEqual([
      [before.version, before.model],
      [before.version + 1, "claude-opus-4-1"],
    ]);
    await h.store.agentConfigs.update("developer", { model: before.model }, "admin:test");
  });

  it("give a new worker the hard TTL stored on the Settings page, and the next sweep the paused TTL", async () => {
    await h.store.settings.update({ workerHardTtlMs: 10 * 60_000 }, "admin:test");
    try {
      const started = Date.now();
      const worker = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
      const life = Date.parse(worker.expiresAt ?? "") - started;
      // The harness's own hard TTL is an hour: the stored ten minutes won.
      expect(life).toBeGreaterThan(9 * 60_000);
      expect(life).toBeLessThanOrEqual(10 * 60_000 + 1_000);

      await h.manager.send(worker.id, report("paused"));
      expect((await h.manager.status(worker.id)).state).toBe("paused");
      // Paused a moment ago: the environment's 30 minutes keep it; the stored minute ends it once it
      // has been paused that long (the sweep is told the time).
      const later = Date.now() + 2 * 60_000;
      expect((await h.sweeper.sweep(later)).terminated).toEqual([]);
      await h.store.settings.update({ workerPausedTtlMs: 60_000 }, "admin:test");
      const swept = await h.sweeper.sweep(later);
      expect(swept.terminated).toContainEqual({ workerId: worker.id, reason: "paused too long" });
    } finally {
      await h.store.settings.update({ workerHardTtlMs: null, workerPausedTtlMs: null }, "admin:test");
    }
  });
});
