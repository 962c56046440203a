/**
 * The admin dashboard's summary over REST: what the store holds, counted by status, kind and
 * period, with spend split into provider-reported and estimated dollars.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import { DashboardSummary } from "../contracts/index.js";

let h: ApiHarness;

beforeAll(async () => {
  h = await startApiHarness({ busStreams: ["dashboard.test", "dashboard.quiet"] });
  await h.api.ready();
});
afterAll(async () => h.close());

const summary = async () => {
  const res = await h.api.inject({
    method: "GET",
    url: "/api/admin/summary",
    headers: { authorization: `Bearer ${h.adminToken}` },
  });
  expect(res.statusCode, res.body).toBe(200);
  return DashboardSummary.parse(res.json());
};

describe("GET /api/admin/summary", () => {
  it("counts projects, runs, workers, spend and failing deployments as the store holds them", async () => {
    const empty = await summary();
    expect(empty).toMatchObject({ projects: [], workers: [], failingDeployments: [], deadLetters: [] });
    expect(empty.runs).toEqual({ today: [], week: [] });
    expect(empty.spend.month).toEqual({
      costUsd: 0,
      estimatedCostUsd: 0,
      inputTokens: 0,
      outputTokens: 0,
      calls: 0,
    });

    const [a, b] = [
      await h.store.projects.create({ name: "alpha" }),
      await h.store.projects.create({ name: "beta" }),
    ];
    await h.store.projects.setStatus(b.id, "building");
    const first = await h.store.runs.create({ projectId: a.id, kind: "engineering", input: { brief: "x" } });
    await h.store.runs.transition(first.id, "running");
    await h.store.runs.create({ projectId: a.id, kind: "engineering", input: { brief: "y" } });
    await h.store.runs.create({ projectId: b.id, kind: "deploy", input: {} });
    await h.store.workers.create({
      projectId: a.id,
      runId: first.id,
      role: "developer",
      backend: "scripted",
      runtime: "process",
    });
    for (const [costUsd, costSource] of [
      [0.25, "provider"],
      [0.5, "estimated"],
    ] as const) {
      await h.store.tokenUsage.record({
        workerId: null,
        projectId: a.id,
        runId: first.id,
        backend: "claude-code",
        model: "claude-sonnet-4-5",
        inputTokens: 1000,
        outputTokens: 200,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        costUsd,
        costSource,
      });
    }
    const failed = await h.store.deployments.create({ projectId: b.id, commitSha: "abcdef1", release: "r1" });
    await h.store.deployments.finish(failed.id, "failed", { logsExcerpt: "boom" });
    await h.store.deployments.create({ projectId: a.id, commitSha: "abcdef2", release: "r2" });

    const now = await summary();
    expect(now.projects).toEqual([
      { status: "building", count: 1 },
      { status: "draft", count: 1 },
    ]);
    const runs = [
      { kind: "deploy", status: "queued", count: 1 },
      { kind: "engineering", status: "queued", count: 1 },
      { kind: "engineering", status: "running", count: 1 },
    ];
    expect(now.runs).toEqual({ today: runs, week: runs });
    expect(now.workers).toEqual([{ state: "starting", count: 1 }]);
    expect(now.spend.today).toEqual({
      costUsd: 0.75,
      estimatedCostUsd: 0.5,
      inputTokens: 2000,
      outputTokens: 400,
      calls: 2,
    });
    expect(now.spend.month).toEqual(now.spend.today);
    expect(now.failingDeployments).toEqual([
      {
        id: failed.id,
        projectId: b.id,
        runId: null,
        commitSha: "abcdef1",
        status: "failed",
        createdAt: failed.createdAt,
        projectSlug: b.slug,
      },
    ]);
  });

  it("counts the dead letters of the streams it watches, naming only those that have some", async () => {
    h.bus.consume(
      "dashboard.test",
      { group: "g", consumer: "c", maxDeliveries: 2, retryBaseMs: 10, retryMaxMs: 20, reclaimIdleMs: 200 },
      async () => {
        throw new Error("poison");
      },
    );
    await h.bus.publish("dashboard.test", { type: "test.poison", payload: null });
    await expect
      .poll(async () => (await summary()).deadLetters, { timeout: 10_000 })
      .toEqual([{ stream: "dashboard.test", count: 1 }]);
  });

  it("counts only what was created since the period began", async () => {
    const later = new Date(Date.now() + 60_000).toISOString();
    expect(await h.store.stats.runsByKindAndStatus(later)).toEqual([]);
    expect((await h.store.stats.spendSince(later)).calls).toBe(0);
    expect(await h.store.stats.failingDeployments(later, 10)).toEqual([]);
  });
});
