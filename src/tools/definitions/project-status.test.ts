import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockedResult, blockedRun } from "../../../test/support/blocked-runs.js";
import { openToolBed, type ToolBed } from "../../../test/support/tool-bed.js";
import {
  AppError,
  type DeployRunResult,
  type Principal,
  type Project,
  type ProjectSecretsList,
  type ProjectStatusList,
  type Run,
} from "../../contracts/index.js";
import type { Store } from "../../store/index.js";

const COMMIT = "c".repeat(40);
let bed: ToolBed;
let store: Store;
let alice: Principal;
let bob: Principal;
let admin: Principal;

beforeAll(async () => {
  bed = await openToolBed();
  ({ store, alice, bob, admin } = bed);
});
afterAll(async () => {
  await bed?.close();
});

const call = <T>(principal: Principal, name: string, input: unknown) => bed.call<T>(principal, name, input);

async function failure(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const ownedBy = (owner: Principal, name: string): Promise<Project> =>
  store.projects.create({ name, ownerId: owner.kind === "user" ? owner.userId : null });

function deployResult(over: Partial<DeployRunResult>): DeployRunResult {
  return {
    outcome: "succeeded",
    action: "deploy",
    commit: COMMIT,
    release: "r-1",
    deploymentId: null,
    url: null,
    botUsername: null,
    missing: [],
    restoredPrevious: false,
    summary: "done",
    ...over,
  };
}

/** A deploy run ended as the devops runner ends it. */
async function deployRun(
  projectId: string,
  to: "succeeded" | "failed" | "blocked",
  result: Partial<DeployRunResult>,
  stage: string | null = null,
): Promise<Run> {
  const run = await store.runs.create({
    projectId,
    kind: "deploy",
    input: { projectId, action: "deploy", commit: COMMIT, sourceRunId: null },
  });
  await store.runs.transition(run.id, "running");
  if (stage) await store.runs.setStage(run.id, stage);
  return store.runs.transition(run.id, to, {
    result: deployResult({ outcome: to, ...result }),
    ...(to === "succeeded"
      ? {}
      : { error: { code: to === "blocked" ? "missing_secrets" : "health_gate_failed", message: "no" } }),
  });
}

describe("project.status", () => {
  it("reports a live project: health from its gate, last deploy, uptime, the blocked question and its continuation", async () => {
    const p = await ownedBy(alice, "Live weather");
    const deploy = await deployRun(p.id, "succeeded", { url: "http://127.0.0.1:4100", release: "r-1" });
    const deployment = await store.deployments.create({
      projectId: p.id,
      commitSha: COMMIT,
      release: "r-1",
      runId: deploy.id,
    });
    await store.deployments.finish(deployment.id, "in_progress", {});
    const healthy = await store.deployments.finish(deployment.id, "healthy", {
      url: "http://127.0.0.1:4100",
    });
    await store.projects.update(p.id, { repositoryUrl: "http://forge/live-weather.git" });
    const blocked = await blockedRun(
      store,
      p.id,
      { text: "weather" },
      blockedResult("Which city?", { branch: "main" }),
    );

    const before = await call<ProjectStatusList>(alice, "project.status", { projectId: p.id });
    expect(before.total).toBe(1);
    const report = before.items[0];
    expect(report).toMatchObject({
      id: p.id,
      slug: p.slug,
      name: "Live weather",
      status: "draft",
      health: {
        state: "live",
        basis: "health_gate",
        checkedAt: healthy.finishedAt,
        deploymentId: healthy.id,
      },
      lastDeploy: {
        runId: deploy.id,
        action: "deploy",
        status: "succeeded",
        finishedAt: deploy.finishedAt,
        url: "http://127.0.0.1:4100",
        botUsername: null,
        commit: COMMIT,
      },
      liveSince: healthy.finishedAt,
      activeRun: null,
      recentFailures: [
        {
          runId: blocked.id,
          kind: "engineering",
          status: "blocked",
          code: "developer_question",
          question: "Which city?",
          missingSecrets: [],
          continuedBy: null,
        },
      ],
    });
    const expectedUptime = Math.floor(
      (Date.parse(before.asOf) - Date.parse(healthy.finishedAt ?? "")) / 1000,
    );
    expect(report?.uptimeSeconds).toBe(expectedUptime);

    // Answered: the continuation is the run under way, and the failure names it.
    const next = await call<Run>(alice, "engineering.answer", { runId: blocked.id, answer: "Berlin" });
    const after = (await call<ProjectStatusList>(alice, "project.status", { projectId: p.id })).items[0];
    expect(after?.activeRun).toMatchObject({
      runId: next.id,
      kind: "engineering",
      status: "queued",
      stage: null,
    });
    expect(after?.recentFailures[0]?.continuedBy).toBe(next.id);
  });

  it("names a blocked deploy's missing secrets, keeps the three newest failures, and says nothing serves", async () => {
    const p = await ownedBy(alice, "Unlaunched bot");
    await deployRun(p.id, "failed", {}, "rollback");
    await deployRun(p.id, "failed", {}, "rollback");
    await deployRun(p.id, "failed", {}, "rollback");
    const blocked = await deployRun(p.id, "blocked", { missing: ["TELEGRAM_BOT_TOKEN"] }, "readiness");
    const report = (await call<ProjectStatusList>(alice, "project.status", { projectId: p.id })).items[0];
    expect(report?.health).toMatchObject({ state: "none", reason: "never deployed", checkedAt: null });
    expect(report?.liveSince).toBeNull();
    expect(report?.uptimeSeconds).toBeNull();
    expect(report?.lastDeploy).toMatchObject({ runId: blocked.id, status: "blocked", url: null });
    expect(report?.recentFailures).toHaveLength(3);
    expect(report?.recentFailures[0]).toMatchObject({
      runId: blocked.id,
      kind: "deploy",
      status: "blocked",
      code: "missing_secrets",
      question: null,
      missingSecrets: ["TELEGRAM_BOT_TOKEN"],
    });
  });

  it("reports down when a later deploy rolled back without bringing the serving release back", async () => {
    const p = await ownedBy(alice, "Broken after deploy");
    const deployment = await store.deployments.create({ projectId: p.id, commitSha: COMMIT, release: "r-1" });
    await store.deployments.finish(deployment.id, "in_progress", {});
    await store.deployments.finish(deployment.id, "healthy", { url: "http://127.0.0.1:4200" });
    const failed = await deployRun(p.id, "failed", { restoredPrevious: false }, "rollback");
    const report = (await call<ProjectStatusList>(alice, "project.status", { projectId: p.id })).items[0];
    expect(report?.health).toMatchObject({
      state: "down",
      basis: "deploy_run",
      checkedAt: failed.finishedAt,
      deploymentId: deployment.id,
    });
    expect(report?.uptimeSeconds).toBeNull();
  });

  it("lists, without a project, only what the caller may see", async () => {
    const bobs = await ownedBy(bob, "Bob's notes");
    const mine = await call<ProjectStatusList>(alice, "project.status", {});
    expect(mine.items.map((r) => r.name)).toEqual(["Broken after deploy", "Unlaunched bot", "Live weather"]);
    expect(mine.total).toBe(3);
    expect((await call<ProjectStatusList>(bob, "project.status", {})).items.map((r) => r.id)).toEqual([
      bobs.id,
    ]);
    expect((await call<ProjectStatusList>(admin, "project.status", {})).total).toBe(4);
    const other = await failure(call(alice, "project.status", { projectId: bobs.id }));
    expect([other.kind, other.code]).toEqual(["not_found", "not_found"]);
    const worker: Principal = {
      kind: "worker",
      tokenId: "tok-w",
      projectId: bobs.id,
      role: "po",
      workerId: null,
      groups: ["projects"],
    };
    expect((await call<ProjectStatusList>(worker, "project.status", {})).items.map((r) => r.id)).toEqual([
      bobs.id,
    ]);
  });
});

describe("project.secrets", () => {
  it("gives names, kinds and filled flags only, and what the last deploy still misses", async () => {
    const p = await ownedBy(alice, "Secret names");
    const put = (key: string, length: number) =>
      store.secrets.put({
        projectId: p.id,
        key,
        kind: "user",
        ciphertext: "v1:opaque",
        length,
        createdBy: "user:x:tok",
      });
    await put("WEATHER_API_KEY", 32);
    await put("EMPTY_ONE", 0);
    await deployRun(p.id, "blocked", { missing: ["TELEGRAM_BOT_TOKEN", "WEATHER_API_KEY"] }, "readiness");
    const listed = await call<ProjectSecretsList>(alice, "project.secrets", { projectId: p.id });
    expect(listed.secrets.map((s) => [s.key, s.kind, s.isFilled])).toEqual([
      ["EMPTY_ONE", "user", false],
      ["WEATHER_API_KEY", "user", true],
    ]);
    // Filled since the deploy was blocked: no longer missing.
    expect(listed.missing).toEqual(["TELEGRAM_BOT_TOKEN"]);
    expect(Object.keys(listed.secrets[0] ?? {}).sort()).toEqual(["isFilled", "key", "kind", "updatedAt"]);
    expect(JSON.stringify(listed)).not.toMatch(/length|createdBy|opaque/);
  });
});
