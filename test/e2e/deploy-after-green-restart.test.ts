/**
 * The deploy after a green engineering run is a durable subscriber to run events: a run that
 * succeeds while no engine listens (the subscriber not started, as between an engine's stop and
 * its next start) is deployed when one starts, exactly once, and not again after another restart.
 * The run builds the light project (test/support/light-project.ts), a deployable service.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Run } from "../../src/contracts/index.js";
import { DEPLOY_AFTER_GREEN } from "../../src/engine/index.js";
import { type EngineHarness, RUN_DEADLINE_MS, startEngineHarness } from "../support/engine-harness.js";
import { lightPlaybook } from "../support/light-project.js";

let h: EngineHarness;

beforeAll(async () => {
  h = await startEngineHarness({ deployOnGreen: true, holdDeployAfterGreen: true });
});
afterAll(async () => {
  await h?.close();
});

async function deploysOf(projectId: string): Promise<Run[]> {
  return (await h.store.runs.list({ projectId, kind: "deploy", limit: 100, offset: 0 })).items;
}

async function until<T>(what: string, probe: () => Promise<T | null>, ms = RUN_DEADLINE_MS): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("deploy after green across engine restarts", () => {
  it("deploys a run that succeeded while no subscriber ran, once", {
    timeout: RUN_DEADLINE_MS * 3,
  }, async () => {
    h.setPlaybook(lightPlaybook());
    const project = await h.store.projects.create({ name: "after-green", slug: "after-green-restart" });
    const eng = await h.waitForEnd((await h.start({ projectId: project.id, brief: "time service" })).id);
    expect(eng.status, JSON.stringify(eng.error)).toBe("succeeded");
    const commit = (eng.result as { commit: string }).commit;
    const events = await h.store.runEvents.list(eng.id, { limit: 5000 });
    const succeeded = events.find((e) => e.type === "run.status_changed" && e.data.to === "succeeded");
    expect(succeeded).toBeDefined();
    // Written while nothing listened: no deploy yet, and no cursor has passed the event.
    expect(await deploysOf(project.id)).toEqual([]);
    expect(await h.store.eventCursors.get(DEPLOY_AFTER_GREEN)).toBeLessThan(succeeded?.seq ?? 0);
    expect((await h.store.projects.get(project.id)).status).toBe("deploying");

    // The engine starts: its subscriber replays from its cursor and queues the deploy.
    const first = h.afterGreen();
    await first.start();
    const deploy = await until("the deploy run", async () => (await deploysOf(project.id))[0] ?? null);
    expect(deploy.input).toMatchObject({ action: "deploy", commit, sourceRunId: eng.id });
    const done = await h.waitForEnd(deploy.id);
    expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
    await until("the cursor past the event", async () =>
      (await h.store.eventCursors.get(DEPLOY_AFTER_GREEN)) >= (succeeded?.seq ?? Number.MAX_SAFE_INTEGER)
        ? true
        : null,
    );
    await first.stop(5_000);

    // Another restart: the event is behind the cursor, nothing is queued again.
    const second = h.afterGreen();
    await second.start();
    second.wake();
    await second.stop(5_000);
    const deploys = await deploysOf(project.id);
    expect(deploys.map((r) => r.id)).toEqual([deploy.id]);
    expect(deploys.filter((r) => (r.input as { sourceRunId?: string }).sourceRunId === eng.id)).toHaveLength(
      1,
    );
    expect((await h.store.projects.get(project.id)).status).toBe("live");
  });
});
