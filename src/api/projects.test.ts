/**
 * The project REST routes the admin pages read: the list searched by name or slug and filtered by
 * status, a project's deployments (commit, result, URL, health gate, log excerpt) and a run's
 * workers, admins only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import { issueToken } from "../auth/index.js";
import { Deployment, Project, pageOf } from "../contracts/index.js";

let h: ApiHarness;
let userToken = "";

beforeAll(async () => {
  h = await startApiHarness();
  await h.api.ready();
  const user = await h.store.users.create({ name: "Pat", webLogin: "pat-projects" });
  userToken = (await issueToken(h.store, { name: "pat", kind: "user", userId: user.id })).token;
});
afterAll(async () => h.close());

const get = (url: string, token = h.adminToken) =>
  h.api.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });

const slugsOf = async (url: string) => {
  const res = await get(url);
  expect(res.statusCode, res.body).toBe(200);
  return pageOf(Project)
    .parse(res.json())
    .items.map((p) => p.slug)
    .sort();
};

describe("GET /api/projects", () => {
  it("finds projects by a part of the name or slug in any case, and filters by status", async () => {
    const weather = await h.store.projects.create({ name: "Weather Bot", slug: "wx-forecast" });
    await h.store.projects.create({ name: "Time service", slug: "clock" });
    const building = await h.store.projects.create({ name: "Weather station", slug: "station" });
    await h.store.projects.setStatus(building.id, "building");

    expect(await slugsOf("/api/projects?q=WEATHER")).toEqual(["station", "wx-forecast"]);
    expect(await slugsOf("/api/projects?q=forecast")).toEqual([weather.slug]);
    expect(await slugsOf("/api/projects?q=weather&status=building")).toEqual(["station"]);
    expect(await slugsOf("/api/projects?status=draft")).toEqual(["clock", "wx-forecast"]);
    expect(await slugsOf("/api/projects?q=nothing-like-it")).toEqual([]);
  });

  it("refuses an unknown status and keeps the list from a person who is not an admin", async () => {
    const bad = await get("/api/projects?status=sleeping");
    expect(bad.statusCode).toBe(400);
    expect((await get("/api/projects?q=weather", userToken)).statusCode).toBe(403);
  });
});

describe("GET /api/projects/:id/deployments", () => {
  it("lists one project's deploy attempts newest first, with the gate's record and the log excerpt", async () => {
    const project = await h.store.projects.create({ name: "Deployed" });
    const other = await h.store.projects.create({ name: "Elsewhere" });
    const first = await h.store.deployments.create({
      projectId: project.id,
      commitSha: "a".repeat(40),
      release: "r1",
    });
    await h.store.deployments.finish(first.id, "in_progress", {});
    await h.store.deployments.finish(first.id, "failed", {
      healthCheck: {
        kind: "http",
        path: "/health",
        ok: false,
        attempts: 3,
        elapsedMs: 3012,
        reason: "no 2xx",
      },
      logsExcerpt: "Error: listen EADDRINUSE",
    });
    const second = await h.store.deployments.create({
      projectId: project.id,
      commitSha: "b".repeat(40),
      release: "r2",
    });
    await h.store.deployments.finish(second.id, "in_progress", {});
    await h.store.deployments.finish(second.id, "healthy", {
      url: "http://127.0.0.1:30001",
      healthCheck: { kind: "http", path: "/health", ok: true, attempts: 1, elapsedMs: 40, status: 200 },
    });
    await h.store.deployments.create({ projectId: other.id, commitSha: "c".repeat(40), release: "r1" });

    const res = await get(`/api/projects/${project.id}/deployments`);
    expect(res.statusCode, res.body).toBe(200);
    const page = pageOf(Deployment).parse(res.json());
    expect(page.total).toBe(2);
    expect(page.items.map((d) => [d.release, d.status, d.url])).toEqual([
      ["r2", "healthy", "http://127.0.0.1:30001"],
      ["r1", "failed", null],
    ]);
    expect(page.items[1]?.healthCheck).toMatchObject({ ok: false, attempts: 3, elapsedMs: 3012 });
    expect(page.items[1]?.logsExcerpt).toBe("Error: listen EADDRINUSE");

    const healthy = pageOf(Deployment).parse(
      (await get(`/api/projects/${project.id}/deployments?status=healthy`)).json(),
    );
    expect(healthy.items.map((d) => d.release)).toEqual(["r2"]);
  });

  it("answers 404 for an unknown project and 403 to a person who is not an admin", async () => {
    const missing = await get("/api/projects/00000000-0000-4000-8000-000000000000/deployments");
    expect(missing.statusCode).toBe(404);
    const project = await h.store.projects.create({ name: "Private" });
    expect((await get(`/api/projects/${project.id}/deployments`, userToken)).statusCode).toBe(403);
  });
});

describe("GET /api/runs/:id/workers", () => {
  it("lists the workers a run started, oldest first, and none of another run's", async () => {
    const project = await h.store.projects.create({ name: "Staffed" });
    const run = await h.store.runs.create({ projectId: project.id, kind: "engineering" });
    const other = await h.store.runs.create({ projectId: project.id, kind: "engineering" });
    const spec = { projectId: project.id, backend: "scripted", runtime: "process" } as const;
    const architect = await h.store.workers.create({ ...spec, role: "architect", runId: run.id });
    const developer = await h.store.workers.create({ ...spec, role: "developer", runId: run.id });
    await h.store.workers.create({ ...spec, role: "developer", runId: other.id });
    await h.store.workers.create({ ...spec, role: "developer" });

    const res = await get(`/api/runs/${run.id}/workers`);
    expect(res.statusCode, res.body).toBe(200);
    const items = (res.json() as { items: { id: string; role: string }[] }).items;
    expect(items.map((w) => [w.id, w.role])).toEqual([
      [architect.id, "architect"],
      [developer.id, "developer"],
    ]);
    expect((await get(`/api/runs/${run.id}/workers`, userToken)).statusCode).toBe(403);
    expect((await get("/api/runs/00000000-0000-4000-8000-000000000000/workers")).statusCode).toBe(404);
  });
});
