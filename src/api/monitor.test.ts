/**
 * The health routes a project's owner reads (US4): the status report with uptime over 24 h and open
 * incidents, and the health monitor's incidents; another person's project is not found.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import { issueToken } from "../auth/index.js";
import { Incident, ProjectStatusReport, pageOf } from "../contracts/index.js";

let h: ApiHarness;
let ownerToken = "";
let strangerToken = "";
let projectId = "";
let incidentId = "";

beforeAll(async () => {
  h = await startApiHarness();
  await h.api.ready();
  const owner = await h.store.users.create({ name: "Owner", webLogin: "monitor-owner" });
  const stranger = await h.store.users.create({ name: "Stranger", webLogin: "monitor-stranger" });
  ownerToken = (await issueToken(h.store, { name: "owner", kind: "user", userId: owner.id })).token;
  strangerToken = (await issueToken(h.store, { name: "stranger", kind: "user", userId: stranger.id })).token;
  const project = await h.store.projects.create({ name: "Watched", ownerId: owner.id });
  projectId = project.id;
  const deployment = await h.store.deployments.create({
    projectId,
    commitSha: "a".repeat(40),
    release: "r1",
  });
  await h.store.deployments.finish(deployment.id, "in_progress", {});
  await h.store.deployments.finish(deployment.id, "healthy", { url: "http://127.0.0.1:30999" });
  const record = (isUp: boolean) =>
    h.store.healthTransitions.record({
      projectId,
      deploymentId: deployment.id,
      isUp,
      reason: isUp ? null : "status 500",
    });
  await record(true);
  await record(false);
  const closed = await h.store.incidents.open({
    projectId,
    deploymentId: deployment.id,
    reason: "status 500",
    logsExcerpt: "first outage",
    restarts: 3,
  });
  await h.store.incidents.close(closed.incident.id);
  const open = await h.store.incidents.open({
    projectId,
    deploymentId: deployment.id,
    reason: "status 503",
    logsExcerpt: "Error: boom",
    restarts: 3,
  });
  incidentId = open.incident.id;
});
afterAll(async () => h.close());

const get = (url: string, token: string) =>
  h.api.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });

describe("GET /api/projects/:id/health", () => {
  it("gives the owner the health, uptime over 24 h, last deploy and open incident", async () => {
    const res = await get(`/api/projects/${projectId}/health`, ownerToken);
    expect(res.statusCode, res.body).toBe(200);
    const report = ProjectStatusReport.parse(res.json());
    expect(report.id).toBe(projectId);
    expect(report.health).toMatchObject({ state: "down", basis: "health_monitor" });
    expect(report.uptime24h.windowSeconds).toBe(86_400);
    expect(report.uptime24h.ratio).not.toBeNull();
    expect(report.uptime24h.ratio).toBeLessThan(1);
    expect(report.openIncidents.map((i) => [i.id, i.reason])).toEqual([[incidentId, "status 503"]]);
    // The excerpt stays with project.incidents.
    expect(JSON.stringify(report)).not.toContain("Error: boom");
  });

  it("answers another person 404 and a request without a token 401", async () => {
    expect((await get(`/api/projects/${projectId}/health`, strangerToken)).statusCode).toBe(404);
    expect((await h.api.inject({ method: "GET", url: `/api/projects/${projectId}/health` })).statusCode).toBe(
      401,
    );
    expect((await get("/api/projects/not-an-id/health", ownerToken)).statusCode).toBe(400);
  });
});

describe("GET /api/projects/:id/incidents", () => {
  it("lists the project's incidents newest first, filtered by status, with their excerpts", async () => {
    const res = await get(`/api/projects/${projectId}/incidents`, ownerToken);
    expect(res.statusCode, res.body).toBe(200);
    const page = pageOf(Incident).parse(res.json());
    expect(page.items.map((i) => [i.status, i.reason, i.logsExcerpt])).toEqual([
      ["open", "status 503", "Error: boom"],
      ["closed", "status 500", "first outage"],
    ]);
    const open = pageOf(Incident).parse(
      (await get(`/api/projects/${projectId}/incidents?status=open`, h.adminToken)).json(),
    );
    expect(open.items.map((i) => i.id)).toEqual([incidentId]);
  });

  it("refuses a bad status and another person's project", async () => {
    expect((await get(`/api/projects/${projectId}/incidents?status=sleeping`, ownerToken)).statusCode).toBe(
      400,
    );
    expect((await get(`/api/projects/${projectId}/incidents`, strangerToken)).statusCode).toBe(404);
  });
});
