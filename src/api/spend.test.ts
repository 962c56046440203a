/**
 * The Spend page's figures over REST: a period of UTC days, per day, project, owner and model,
 * with estimated dollars apart, and a bad period refused naming its field.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import { issueToken } from "../auth/index.js";
import { addUtcDays, SpendReport } from "../contracts/index.js";

let h: ApiHarness;

beforeAll(async () => {
  h = await startApiHarness();
  await h.api.ready();
});
afterAll(async () => h.close());

const get = (url: string, token = h.adminToken) =>
  h.api.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });

describe("GET /api/admin/spend", () => {
  it("covers the last 30 days by default, every day listed, nothing recorded yet", async () => {
    const res = await get("/api/admin/spend");
    expect(res.statusCode, res.body).toBe(200);
    const report = SpendReport.parse(res.json());
    const today = new Date().toISOString().slice(0, 10);
    expect(report.to).toBe(today);
    expect(report.from).toBe(addUtcDays(today, -29));
    expect(report.days).toHaveLength(30);
    expect(report.totals.calls).toBe(0);
    expect(report.projects).toEqual([]);
  });

  it("sums usage per day, project (named), owner and backend/model, with the estimated part", async () => {
    const owner = await h.store.users.create({ webLogin: "ada", name: "Ada" });
    const project = await h.store.projects.create({ name: "Weather bot", ownerId: owner.id });
    for (const [costUsd, costSource, model] of [
      [0.4, "provider", "claude-sonnet-4-5"],
      [0.1, "estimated", "gpt-5"],
    ] as const) {
      await h.store.tokenUsage.record({
        workerId: null,
        projectId: project.id,
        runId: null,
        backend: costSource === "provider" ? "claude-code" : "codex",
        model,
        inputTokens: 1000,
        outputTokens: 100,
        cacheReadTokens: 50,
        cacheWriteTokens: 0,
        costUsd,
        costSource,
      });
    }
    const today = new Date().toISOString().slice(0, 10);
    const res = await get(`/api/admin/spend?from=${today}&to=${today}`);
    expect(res.statusCode, res.body).toBe(200);
    const report = SpendReport.parse(res.json());
    expect(report.totals).toEqual({
      calls: 2,
      inputTokens: 2000,
      outputTokens: 200,
      cacheReadTokens: 100,
      cacheWriteTokens: 0,
      costUsd: 0.5,
      estimatedCostUsd: 0.1,
      unpricedCalls: 0,
    });
    expect(report.days).toEqual([{ day: today, ...report.totals }]);
    expect(report.projects).toEqual([
      { projectId: project.id, slug: project.slug, name: "Weather bot", ...report.totals },
    ]);
    expect(report.users).toEqual([{ userId: owner.id, name: "Ada", ...report.totals }]);
    expect(report.models.map((m) => [m.backend, m.model, m.costUsd, m.estimatedCostUsd])).toEqual([
      ["claude-code", "claude-sonnet-4-5", 0.4, 0],
      ["codex", "gpt-5", 0.1, 0.1],
    ]);
  });

  it("refuses a bad period with a 400 naming the field", async () => {
    const cases: [string, string][] = [
      ["from=yesterday", "querystring.from"],
      ["to=2026-02-30", "querystring.to"],
      ["from=2026-03-02&to=2026-03-01", "querystring.from"],
      ["from=2024-01-01&to=2026-01-01", "querystring.from"],
    ];
    for (const [query, path] of cases) {
      const res = await get(`/api/admin/spend?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe("invalid_input");
      expect(res.json().error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
  });

  it("is for admins only", async () => {
    const person = await h.store.users.create({ webLogin: "bob", name: "Bob" });
    const { token } = await issueToken(h.store, { name: "bob", kind: "user", userId: person.id });
    expect((await get("/api/admin/spend", token)).statusCode).toBe(403);
    expect((await h.api.inject({ method: "GET", url: "/api/admin/spend" })).statusCode).toBe(401);
  });
});
