import { describe, expect, it } from "vitest";
import { expectAppError, type GetStore, ISO, MISSING_ID, makeProject } from "./helpers.js";

const RESULT = { summary: "ok" };
const ERROR = { code: "tests_failed", message: "3 tests failed" };

/** Runs, run events, workers and deployments. */
export function pipelineCases(get: GetStore): void {
  describe("runs", () => {
    // PostgreSQL stores no NUL in text or JSON, and its JSON parser refuses half of a surrogate pair
    // (JSON.stringify writes it as "\ud800"): a brief holding either once answered 500.
    it.each([
      ["a NUL", "a\u0000b", /NUL/],
      ["half of a surrogate pair", "a\ud800b", /surrogate/],
    ])(
      "refuses %s in what it stores as invalid input, not as a database failure",
      async (_, brief, named) => {
        const project = await makeProject(get());
        const error = await expectAppError(
          get().runs.create({ projectId: project.id, kind: "engineering", input: { brief } }),
          "invalid",
          "invalid_input",
        );
        expect(error.message).toMatch(named);
      },
    );

    it("creates queued with zeroed counters and filters lists", async () => {
      const project = await makeProject(get());
      const run = await get().runs.create({
        projectId: project.id,
        kind: "engineering",
        input: { brief: "x" },
      });
      expect(run).toMatchObject({
        status: "queued",
        stage: null,
        attempt: 0,
        iteration: 0,
        input: { brief: "x" },
        result: null,
        error: null,
        tokensIn: 0,
        tokensOut: 0,
        costUsd: 0,
        traceId: null,
        startedAt: null,
        finishedAt: null,
      });
      expect(await get().runs.get(run.id)).toEqual(run);
      const deploy = await get().runs.create({ projectId: project.id, kind: "deploy" });
      expect(deploy.input).toEqual({});
      const all = await get().runs.list({ projectId: project.id, limit: 10, offset: 0 });
      expect(all.items.map((r) => r.id)).toEqual([deploy.id, run.id]);
      const deploys = await get().runs.list({ projectId: project.id, kind: "deploy", limit: 10, offset: 0 });
      expect(deploys.items.map((r) => r.id)).toEqual([deploy.id]);
      await get().runs.transition(run.id, "running");
      const running = await get().runs.list({
        projectId: project.id,
        status: "running",
        limit: 10,
        offset: 0,
      });
      expect(running.items.map((r) => r.id)).toEqual([run.id]);
      await expectAppError(get().runs.create({ projectId: MISSING_ID, kind: "deploy" }), "not_found");
      await expectAppError(get().runs.get(MISSING_ID), "not_found");
    });

    it("keeps the trace a run was started in, and refuses what is no trace id", async () => {
      const project = await makeProject(get());
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
      const run = await get().runs.create({ projectId: project.id, kind: "engineering", traceId });
      expect(run.traceId).toBe(traceId);
      expect((await get().runs.get(run.id)).traceId).toBe(traceId);
      await expectAppError(
        get().runs.create({ projectId: project.id, kind: "deploy", traceId: "0".repeat(32) }),
        "invalid",
      );
      await expectAppError(
        get().runs.create({ projectId: project.id, kind: "deploy", traceId: "not-a-trace" }),
        "invalid",
      );
    });

    it("keeps one deploy run per source run, whoever creates it first", async () => {
      const project = await makeProject(get());
      const source = await get().runs.create({ projectId: project.id, kind: "engineering" });
      const input = { projectId: project.id, action: "deploy", sourceRunId: source.id };
      const results = await Promise.allSettled([
        get().runs.create({ projectId: project.id, kind: "deploy", input }),
        get().runs.create({ projectId: project.id, kind: "deploy", input }),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const refused = results.find((r) => r.status === "rejected");
      expect(refused?.status === "rejected" && refused.reason).toMatchObject({
        code: "already_exists",
        details: [{ path: "sourceRunId" }],
      });
      // Deploys started by hand (no source run), and engineering runs, are not limited.
      await get().runs.create({ projectId: project.id, kind: "deploy", input: { projectId: project.id } });
      await get().runs.create({ projectId: project.id, kind: "deploy", input: { projectId: project.id } });
      await get().runs.create({
        projectId: project.id,
        kind: "engineering",
        input: { sourceRunId: source.id },
      });
      await get().runs.create({
        projectId: project.id,
        kind: "engineering",
        input: { sourceRunId: source.id },
      });
    });

    it("leases a run to one owner at a time until it expires or is released", async () => {
      const project = await makeProject(get());
      const run = await get().runs.create({ projectId: project.id, kind: "engineering" });
      const claimableIds = async () => (await get().runs.listClaimable("engineering", 1000)).map((r) => r.id);
      expect(await claimableIds()).toContain(run.id);
      expect(await get().runs.claimLease(run.id, "engine-a", 60_000)).toBe(true);
      expect(await get().runs.claimLease(run.id, "engine-b", 60_000)).toBe(false);
      expect(await get().runs.claimLease(run.id, "engine-a", 60_000)).toBe(true); // renewal
      expect(await claimableIds()).not.toContain(run.id);
      await get().runs.releaseLease(run.id, "engine-b"); // not b's to release
      expect(await get().runs.claimLease(run.id, "engine-b", 60_000)).toBe(false);
      await get().runs.releaseLease(run.id, "engine-a");
      expect(await claimableIds()).toContain(run.id);
      expect(await get().runs.claimLease(run.id, "engine-b", 1)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await claimableIds()).toContain(run.id); // b's lease expired
      expect(await get().runs.claimLease(run.id, "engine-a", 60_000)).toBe(true);
      await get().runs.transition(run.id, "running");
      await get().runs.transition(run.id, "succeeded", { result: RESULT });
      expect(await get().runs.claimLease(run.id, "engine-a", 60_000)).toBe(false); // terminal
      expect(await claimableIds()).not.toContain(run.id);
      expect((await get().runs.setIteration(run.id, 2)).iteration).toBe(2);
      await expectAppError(get().runs.claimLease(run.id, "", 1000), "invalid");
      await expectAppError(get().runs.setIteration(run.id, -1), "invalid");
    });

    it("stamps start and finish times and requires a result to finish", async () => {
      const project = await makeProject(get());
      const run = await get().runs.create({ projectId: project.id, kind: "engineering" });
      const running = await get().runs.transition(run.id, "running", { stage: "architect" });
      expect(running).toMatchObject({ status: "running", stage: "architect", finishedAt: null });
      expect(running.startedAt).toMatch(ISO);
      await expectAppError(get().runs.transition(run.id, "succeeded"), "invalid", "result_required");
      await expectAppError(
        get().runs.transition(run.id, "succeeded", { result: null }),
        "invalid",
        "result_required",
      );
      expect((await get().runs.get(run.id)).status).toBe("running");
      const done = await get().runs.transition(run.id, "succeeded", { result: RESULT });
      expect(done).toMatchObject({ status: "succeeded", result: RESULT, startedAt: running.startedAt });
      expect(done.finishedAt).toMatch(ISO);
      expect(Date.parse(done.finishedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(running.startedAt ?? ""));
    });

    it("refuses illegal moves, including succeeded -> running", async () => {
      const project = await makeProject(get());
      const run = await get().runs.create({ projectId: project.id, kind: "deploy" });
      await expectAppError(
        get().runs.transition(run.id, "succeeded", { result: RESULT }),
        "conflict",
        "illegal_transition",
      );
      await get().runs.transition(run.id, "running");
      await get().runs.transition(run.id, "succeeded", { result: RESULT });
      await expectAppError(get().runs.transition(run.id, "running"), "conflict", "illegal_transition");
      await expectAppError(
        get().runs.transition(run.id, "failed", { result: RESULT, error: ERROR }),
        "conflict",
      );
      await expectAppError(get().runs.transition(MISSING_ID, "running"), "not_found");
    });

    it("requires an error for failed and blocked, and a result for cancelled", async () => {
      const project = await makeProject(get());
      const [a, b, c] = await Promise.all(
        [0, 1, 2].map(() => get().runs.create({ projectId: project.id, kind: "engineering" })),
      );
      await get().runs.transition(a?.id ?? "", "running");
      await expectAppError(
        get().runs.transition(a?.id ?? "", "failed", { result: RESULT }),
        "invalid",
        "error_required",
      );
      const failed = await get().runs.transition(a?.id ?? "", "failed", { result: RESULT, error: ERROR });
      expect(failed).toMatchObject({ status: "failed", error: ERROR, result: RESULT });
      await get().runs.transition(b?.id ?? "", "running");
      await expectAppError(
        get().runs.transition(b?.id ?? "", "blocked", { result: RESULT }),
        "invalid",
        "error_required",
      );
      const blocked = await get().runs.transition(b?.id ?? "", "blocked", {
        result: { question: "Which city?" },
        error: { code: "needs_input", message: "Which city?" },
      });
      expect(blocked.status).toBe("blocked");
      await expectAppError(get().runs.transition(c?.id ?? "", "cancelled"), "invalid", "result_required");
      const cancelled = await get().runs.transition(c?.id ?? "", "cancelled", { result: { reason: "user" } });
      expect(cancelled).toMatchObject({ status: "cancelled", startedAt: null });
      expect(cancelled.finishedAt).toMatch(ISO);
    });

    it("lets exactly one of concurrent identical moves win (compare-and-set)", async () => {
      const project = await makeProject(get());
      const run = await get().runs.create({ projectId: project.id, kind: "engineering" });
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () => get().runs.transition(run.id, "running")),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const r of results)
        if (r.status === "rejected") expect(r.reason).toMatchObject({ kind: "conflict" });
    });

    it("sets the stage, counts iterations and accumulates usage atomically", async () => {
      const project = await makeProject(get());
      const run = await get().runs.create({ projectId: project.id, kind: "engineering" });
      expect((await get().runs.setStage(run.id, "developer")).stage).toBe("developer");
      await Promise.all(Array.from({ length: 10 }, () => get().runs.incrementIteration(run.id)));
      expect((await get().runs.get(run.id)).iteration).toBe(10);
      await Promise.all([
        get().runs.addUsage(run.id, { tokensIn: 100, tokensOut: 10, costUsd: 0.25 }),
        get().runs.addUsage(run.id, { tokensIn: 50, tokensOut: 5, costUsd: 0.5 }),
      ]);
      const after = await get().runs.get(run.id);
      expect(after).toMatchObject({ tokensIn: 150, tokensOut: 15 });
      expect(after.costUsd).toBeCloseTo(0.75, 9);
      await expectAppError(
        get().runs.addUsage(run.id, { tokensIn: -1, tokensOut: 0, costUsd: 0 }),
        "invalid",
      );
      await expectAppError(get().runs.setStage(MISSING_ID, "x"), "not_found");
    });
  });

  describe("workers", () => {
    it("walks the state machine and refuses illegal moves", async () => {
      const project = await makeProject(get());
      const worker = await get().workers.create({
        role: "developer",
        backend: "claude-code",
        runtime: "process",
        projectId: project.id,
        labels: { owner: "test" },
      });
      expect(worker).toMatchObject({ state: "starting", runId: null, sessionId: null, contextTokens: 0 });
      expect(worker.labels).toEqual({ owner: "test" });
      for (const state of ["running", "paused", "running", "stopped"] as const) {
        expect((await get().workers.setState(worker.id, state)).state).toBe(state);
      }
      await expectAppError(get().workers.setState(worker.id, "running"), "conflict", "illegal_transition");
      await expectAppError(get().workers.setState(MISSING_ID, "running"), "not_found");
    });

    it("records activity and lists by project and state", async () => {
      const project = await makeProject(get());
      const run = await get().runs.create({ projectId: project.id, kind: "engineering" });
      const a = await get().workers.create({
        role: "architect",
        backend: "api",
        runtime: "process",
        projectId: project.id,
        runId: run.id,
      });
      const b = await get().workers.create({
        role: "tester",
        backend: "scripted",
        runtime: "docker",
        projectId: project.id,
      });
      await get().workers.setState(b.id, "running");
      const touched = await get().workers.touch(a.id, { sessionId: "sess-1", contextTokens: 1234 });
      expect(touched).toMatchObject({ sessionId: "sess-1", contextTokens: 1234, runId: run.id });
      expect(Date.parse(touched.lastActivityAt)).toBeGreaterThanOrEqual(Date.parse(a.lastActivityAt));
      expect((await get().workers.touch(a.id, {})).sessionId).toBe("sess-1");
      expect((await get().workers.touch(a.id, { sessionId: null })).sessionId).toBeNull();
      const byProject = await get().workers.list({ projectId: project.id, limit: 10, offset: 0 });
      expect(byProject.items.map((w) => w.id)).toEqual([b.id, a.id]);
      const running = await get().workers.list({
        projectId: project.id,
        state: "running",
        limit: 10,
        offset: 0,
      });
      expect(running.items.map((w) => w.id)).toEqual([b.id]);
      const architects = await get().workers.list({
        projectId: project.id,
        role: "architect",
        limit: 10,
        offset: 0,
      });
      expect(architects.items.map((w) => w.id)).toEqual([a.id]);
      await expectAppError(get().workers.touch(MISSING_ID, {}), "not_found");
    });
  });

  describe("worker reports and tokens", () => {
    it("stores, validates and clears a report, and revokes a worker's tokens", async () => {
      const project = await makeProject(get());
      const worker = await get().workers.create({
        role: "developer",
        backend: "scripted",
        runtime: "process",
        projectId: project.id,
        expiresAt: "2030-01-01T00:00:00.000Z",
      });
      expect(worker).toMatchObject({ report: null, reportedAt: null, expiresAt: "2030-01-01T00:00:00.000Z" });
      const reported = await get().workers.setReport(worker.id, {
        status: "blocked",
        summary: "need a token",
        question: "Which bot?",
        commit: null,
      });
      expect(reported.report).toEqual({
        status: "blocked",
        summary: "need a token",
        question: "Which bot?",
        commit: null,
      });
      expect(reported.reportedAt).toMatch(ISO);
      await expectAppError(
        get().workers.setReport(worker.id, { status: "blocked", summary: "no question" } as never),
        "invalid",
      );
      expect((await get().workers.setReport(worker.id, null)).report).toBeNull();

      const token = await get().apiTokens.create({
        name: "w",
        kind: "worker",
        tokenHash: `hash-${worker.id}`,
        projectId: project.id,
        role: "developer",
        workerId: worker.id,
        groups: ["workers"],
      });
      expect(token.workerId).toBe(worker.id);
      expect(await get().apiTokens.revokeForWorker(worker.id)).toBe(1);
      expect(await get().apiTokens.findActiveByHash(`hash-${worker.id}`)).toBeNull();
      expect(await get().apiTokens.revokeForWorker(worker.id)).toBe(0);
    });

    it("keeps a project summary", async () => {
      const project = await makeProject(get());
      expect(project.summary).toBe("");
      expect((await get().projects.update(project.id, { summary: "has /start" })).summary).toBe("has /start");
    });
  });

  describe("deployments", () => {
    it("creates pending, finishes through the machine and keeps the finish time", async () => {
      const project = await makeProject(get());
      const server = await get().servers.create({ handle: `dep-${project.slug}`.slice(0, 63), host: "h" });
      const dep = await get().deployments.create({
        projectId: project.id,
        serverId: server.id,
        commitSha: "abc1234",
        release: "r1",
      });
      expect(dep).toMatchObject({
        status: "pending",
        url: null,
        healthCheck: null,
        finishedAt: null,
        runId: null,
      });
      await get().deployments.finish(dep.id, "in_progress", {});
      const healthy = await get().deployments.finish(dep.id, "healthy", {
        url: "http://127.0.0.1:8080",
        healthCheck: { attempts: 3, ms: 2100 },
        logsExcerpt: "listening",
      });
      expect(healthy).toMatchObject({
        status: "healthy",
        url: "http://127.0.0.1:8080",
        logsExcerpt: "listening",
      });
      expect(healthy.finishedAt).toMatch(ISO);
      const superseded = await get().deployments.finish(dep.id, "superseded", {});
      expect(superseded).toMatchObject({
        status: "superseded",
        finishedAt: healthy.finishedAt,
        url: healthy.url,
      });
      await expectAppError(get().deployments.finish(dep.id, "healthy", {}), "conflict", "illegal_transition");
      await expectAppError(get().deployments.finish(MISSING_ID, "failed", {}), "not_found");
    });

    it("records failures, validates the commit and lists newest first", async () => {
      const project = await makeProject(get());
      const first = await get().deployments.create({
        projectId: project.id,
        commitSha: "deadbeef",
        release: "r1",
      });
      const failed = await get().deployments.finish(first.id, "failed", { logsExcerpt: "exit 1" });
      expect(failed.finishedAt).toMatch(ISO);
      await expectAppError(get().deployments.finish(first.id, "healthy", {}), "conflict");
      const second = await get().deployments.create({
        projectId: project.id,
        commitSha: "cafebabe",
        release: "r2",
      });
      const page = await get().deployments.list({ projectId: project.id, limit: 10, offset: 0 });
      expect(page).toMatchObject({ total: 2 });
      expect(page.items.map((d) => d.id)).toEqual([second.id, first.id]);
      expect(await get().deployments.get(first.id)).toEqual(failed);
      await expectAppError(
        get().deployments.create({ projectId: project.id, commitSha: "NOT-A-SHA", release: "r3" }),
        "invalid",
      );
    });

    it("lists the deployments in one status; a stopped one keeps its URL and is no longer healthy", async () => {
      const project = await makeProject(get());
      const make = (release: string) =>
        get().deployments.create({ projectId: project.id, commitSha: "abc1234", release });
      const healthyOnly = () =>
        get().deployments.list({ projectId: project.id, status: "healthy", limit: 10, offset: 0 });
      const failed = await make("r1");
      await get().deployments.finish(failed.id, "failed", {});
      const live = await make("r2");
      await get().deployments.finish(live.id, "in_progress", {});
      const healthy = await get().deployments.finish(live.id, "healthy", { url: "http://127.0.0.1:9" });
      await make("r3");
      expect(await healthyOnly()).toMatchObject({ total: 1, items: [{ id: live.id }] });
      const stopped = await get().deployments.finish(live.id, "stopped", {});
      expect(stopped).toMatchObject({ status: "stopped", url: healthy.url, finishedAt: healthy.finishedAt });
      expect(await healthyOnly()).toMatchObject({ total: 0, items: [] });
      const all = await get().deployments.list({ projectId: project.id, limit: 10, offset: 0 });
      expect(all.total).toBe(3);
      await expectAppError(
        get().deployments.list({ status: "gone" as "healthy", limit: 10, offset: 0 }),
        "invalid",
      );
    });
  });
}
