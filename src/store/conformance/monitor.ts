import { describe, expect, it } from "vitest";
import type { Store } from "../store.js";
import { expectAppError, type GetStore, ISO, MISSING_ID, makeProject, uniq } from "./helpers.js";
import { KNOWN_SECRET } from "./redaction.js";

async function servingDeployment(store: Store, projectId: string, release = "r1") {
  const deployment = await store.deployments.create({ projectId, commitSha: "abc1234", release });
  await store.deployments.finish(deployment.id, "in_progress", {});
  return store.deployments.finish(deployment.id, "healthy", { url: "http://127.0.0.1:1" });
}

/** The health monitor's records: which releases it watches, what it saw, and the incidents it opened. */
export function monitorCases(get: GetStore): void {
  describe("health monitor records", () => {
    it("lists a project as serving only while its newest deployment is the healthy one", async () => {
      const store = get();
      const project = await makeProject(store);
      const ids = async () => (await store.deployments.serving(10_000)).map((d) => d.id);
      const first = await servingDeployment(store, project.id);
      expect(await ids()).toContain(first.id);
      // A deploy under way (a newer pending attempt) leaves the project out until it ends.
      const next = await store.deployments.create({
        projectId: project.id,
        commitSha: "def5678",
        release: "r2",
      });
      expect(await ids()).not.toContain(first.id);
      expect(await ids()).not.toContain(next.id);
      await store.deployments.finish(next.id, "in_progress", {});
      const healthy = await store.deployments.finish(next.id, "healthy", {});
      await store.deployments.finish(first.id, "superseded", {});
      expect(await ids()).toContain(healthy.id);
      expect(await ids()).not.toContain(first.id);
    });

    it("keeps transitions in order and reads a window with the state it starts in", async () => {
      const store = get();
      const project = await makeProject(store);
      expect(await store.healthTransitions.last(project.id)).toBeNull();
      expect(await store.healthTransitions.window(project.id, 60_000)).toEqual([]);
      const deployment = await servingDeployment(store, project.id);
      const up = await store.healthTransitions.record({
        projectId: project.id,
        deploymentId: deployment.id,
        isUp: true,
        reason: null,
      });
      expect(up).toMatchObject({
        projectId: project.id,
        deploymentId: deployment.id,
        isUp: true,
        reason: null,
      });
      expect(up.at).toMatch(ISO);
      const down = await store.healthTransitions.record({
        projectId: project.id,
        deploymentId: deployment.id,
        isUp: false,
        reason: `status 500 (token ${KNOWN_SECRET})`,
      });
      expect(down.reason).not.toContain(KNOWN_SECRET);
      expect(await store.healthTransitions.last(project.id)).toEqual(down);
      expect((await store.healthTransitions.window(project.id, 60_000)).map((t) => t.id)).toEqual([
        up.id,
        down.id,
      ]);
      // A window that starts after both still starts with the newest state before it.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await store.healthTransitions.window(project.id, 5)).map((t) => t.id)).toEqual([down.id]);
      await expectAppError(store.healthTransitions.last("nope"), "invalid", "invalid_input");
    });

    it("prunes old transitions but keeps each project's newest", async () => {
      const store = get();
      const project = await makeProject(store);
      const record = (isUp: boolean) =>
        store.healthTransitions.record({ projectId: project.id, deploymentId: null, isUp, reason: null });
      await record(true);
      const newest = await record(false);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await store.healthTransitions.prune(5)).toBeGreaterThanOrEqual(1);
      expect((await store.healthTransitions.window(project.id, 60_000)).map((t) => t.id)).toEqual([
        newest.id,
      ]);
    });

    it("opens one incident per project at a time, masked, and closes it once", async () => {
      const store = get();
      const project = await makeProject(store);
      const deployment = await servingDeployment(store, project.id);
      const input = {
        projectId: project.id,
        deploymentId: deployment.id,
        reason: "GET /health: status 500",
        logsExcerpt: `listening\nTOKEN=${KNOWN_SECRET}\ncrashed`,
        restarts: 2,
      };
      const [a, b] = await Promise.all([store.incidents.open(input), store.incidents.open(input)]);
      expect([a.isCreated, b.isCreated].sort()).toEqual([false, true]);
      expect(a.incident.id).toBe(b.incident.id);
      const opened = a.incident;
      expect(opened).toMatchObject({
        projectId: project.id,
        deploymentId: deployment.id,
        status: "open",
        restarts: 2,
        repairRunId: null,
        repairStartedAt: null,
        closedAt: null,
      });
      expect(opened.logsExcerpt).toContain("crashed");
      expect(opened.logsExcerpt).not.toContain(KNOWN_SECRET);
      expect(await store.incidents.openFor(project.id)).toEqual(opened);
      expect((await store.incidents.setRestarts(opened.id, 3)).restarts).toBe(3);
      const closed = await store.incidents.close(opened.id);
      expect(closed.isClosed).toBe(true);
      expect(closed.incident).toMatchObject({ status: "closed" });
      expect(closed.incident.closedAt).toMatch(ISO);
      const again = await store.incidents.close(opened.id);
      expect(again).toEqual({ incident: closed.incident, isClosed: false });
      expect(await store.incidents.openFor(project.id)).toBeNull();
      // Closed, the project may have a new one.
      const second = await store.incidents.open(input);
      expect(second.isCreated).toBe(true);
      expect(second.incident.id).not.toBe(opened.id);
      await expectAppError(store.incidents.get(MISSING_ID), "not_found");
    });

    it("records one repair run per incident and counts the project's repairs of a window", async () => {
      const store = get();
      const project = await makeProject(store);
      const { incident } = await store.incidents.open({
        projectId: project.id,
        deploymentId: null,
        reason: "down",
        logsExcerpt: "",
        restarts: 0,
      });
      expect(await store.incidents.repairsSince(project.id, 86_400_000)).toBe(0);
      const run = await store.runs.create({ projectId: project.id, kind: "engineering", input: {} });
      const repaired = await store.incidents.setRepair(incident.id, run.id);
      expect(repaired.repairRunId).toBe(run.id);
      expect(repaired.repairStartedAt).toMatch(ISO);
      const other = await store.runs.create({ projectId: project.id, kind: "engineering", input: {} });
      await expectAppError(store.incidents.setRepair(incident.id, other.id), "conflict");
      expect(await store.incidents.repairsSince(project.id, 86_400_000)).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await store.incidents.repairsSince(project.id, 5)).toBe(0);
    });

    it("lists incidents newest first by project, owner and status", async () => {
      const store = get();
      const owner = await store.users.create({ name: "Incident owner", webLogin: uniq("owner") });
      const mine = await store.projects.create({ name: "Mine", ownerId: owner.id });
      const theirs = await makeProject(store);
      const open = (projectId: string) =>
        store.incidents.open({ projectId, deploymentId: null, reason: "down", logsExcerpt: "", restarts: 0 });
      const first = (await open(mine.id)).incident;
      await store.incidents.close(first.id);
      const second = (await open(mine.id)).incident;
      const foreign = (await open(theirs.id)).incident;
      const byOwner = await store.incidents.list({ ownerId: owner.id });
      expect(byOwner.items.map((i) => i.id)).toEqual([second.id, first.id]);
      expect(byOwner.total).toBe(2);
      expect(
        (await store.incidents.list({ ownerId: owner.id, status: "open" })).items.map((i) => i.id),
      ).toEqual([second.id]);
      expect(
        (await store.incidents.list({ projectId: mine.id, status: "closed" })).items.map((i) => i.id),
      ).toEqual([first.id]);
      expect((await store.incidents.list({ projectId: theirs.id })).items.map((i) => i.id)).toEqual([
        foreign.id,
      ]);
      await expectAppError(store.incidents.list({ projectId: "x" }), "invalid", "invalid_input");
    });
  });
}
