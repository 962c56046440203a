import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../../test/support/store.js";
import { InProcessBus } from "../../bus/index.js";
import type { Principal, Run } from "../../contracts/index.js";
import { requestDeploy } from "../../engine/index.js";
import { createLogger, SecretRedactor } from "../../observability/index.js";
import type { Store } from "../../store/index.js";
import { toolContextFor } from "../context.js";
import { journaled } from "../journal.js";
import { ToolRegistry } from "../registry.js";
import type { ToolContext } from "../tool.js";
import { deployStatus } from "./deploy.js";
import { engineeringStatus } from "./engineering.js";

const registry = new ToolRegistry([engineeringStatus, deployStatus]);
const admin: Principal = { kind: "admin", tokenId: "tok-admin" };
const COMMIT = "a".repeat(40);

let store: Store;
let ctx: ToolContext;

beforeAll(async () => {
  store = await openTestStore();
  ctx = toolContextFor(admin, {
    store,
    bus: new InProcessBus(),
    logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
  });
});
afterAll(async () => {
  await store?.close();
});

/** An engineering run moved to `status` with a commit in its result. */
async function engineeringRun(projectId: string, status: "succeeded" | "failed"): Promise<Run> {
  const run = await store.runs.create({ projectId, kind: "engineering", input: { brief: "time" } });
  await store.runs.transition(run.id, "running");
  return store.runs.transition(run.id, status, {
    result: { commit: COMMIT },
    ...(status === "failed" ? { error: { code: "tests_failed", message: "red" } } : {}),
  });
}

interface EngineeringStatus {
  run: Run;
  deployRun: Run | null;
}
interface DeployStatus {
  live: { deploymentId: string; commit: string; release: string; url: string | null } | null;
  deployments: { id: string; status: string }[];
}

describe("engineering.status", () => {
  it("names the deploy run its green commit started, and no other", async () => {
    const project = await store.projects.create({ name: "Names its deploy" });
    const green = await engineeringRun(project.id, "succeeded");
    const status = () =>
      registry.invoke("engineering.status", { runId: green.id }, ctx) as Promise<EngineeringStatus>;
    expect((await status()).deployRun).toBeNull();

    // A deploy by hand is not this run's.
    const byHand = await requestDeploy(journaled(ctx), {
      projectId: project.id,
      action: "deploy",
      commit: COMMIT,
    });
    expect((await status()).deployRun).toBeNull();
    await store.runs.transition(byHand.id, "cancelled", { result: { cancelled: true } });

    const started = await requestDeploy(journaled(ctx), {
      projectId: project.id,
      action: "deploy",
      commit: COMMIT,
      sourceRunId: green.id,
    });
    expect((await status()).deployRun).toMatchObject({ id: started.id, kind: "deploy", status: "queued" });
    // The project's latest run is found the same way.
    const latest = (await registry.invoke(
      "engineering.status",
      { projectId: project.id },
      ctx,
    )) as EngineeringStatus;
    expect(latest.run.id).toBe(green.id);
    expect(latest.deployRun?.id).toBe(started.id);

    // Asked twice at once for a new green run (two engines, or a replayed event): one deploy answers both.
    await store.runs.transition(started.id, "cancelled", { result: { cancelled: true } });
    const next = await engineeringRun(project.id, "succeeded");
    const again = { projectId: project.id, action: "deploy" as const, commit: COMMIT, sourceRunId: next.id };
    const twice = await Promise.all([
      requestDeploy(journaled(ctx), again),
      requestDeploy(journaled(ctx), again),
    ]);
    expect(twice[0]?.id).toBe(twice[1]?.id);
    const deploys = await store.runs.list({ projectId: project.id, kind: "deploy", limit: 10, offset: 0 });
    expect(
      deploys.items.filter((r) => (r.input as { sourceRunId?: string }).sourceRunId === next.id),
    ).toHaveLength(1);
  });

  it("answers null for a run that did not succeed", async () => {
    const project = await store.projects.create({ name: "Red run" });
    const red = await engineeringRun(project.id, "failed");
    const status = (await registry.invoke("engineering.status", { runId: red.id }, ctx)) as EngineeringStatus;
    expect(status.deployRun).toBeNull();
  });
});

describe("deploy.status", () => {
  it("says what is live: the healthy deployment, then nothing once it is stopped", async () => {
    const project = await store.projects.create({ name: "Live or not" });
    const status = () =>
      registry.invoke("deploy.status", { projectId: project.id }, ctx) as Promise<DeployStatus>;
    expect((await status()).live).toBeNull();

    const served = await store.deployments.create({
      projectId: project.id,
      commitSha: COMMIT,
      release: "r1",
    });
    await store.deployments.finish(served.id, "in_progress", {});
    await store.deployments.finish(served.id, "healthy", { url: "http://127.0.0.1:20001" });
    const failed = await store.deployments.create({
      projectId: project.id,
      commitSha: "b".repeat(40),
      release: "r2",
    });
    await store.deployments.finish(failed.id, "failed", { logsExcerpt: "exit 1" });
    const before = await status();
    // The newest attempt failed; what serves is still the older healthy one.
    expect(before.deployments.map((d) => d.status)).toEqual(["failed", "healthy"]);
    expect(before.live).toEqual({
      deploymentId: served.id,
      commit: COMMIT,
      release: "r1",
      url: "http://127.0.0.1:20001",
    });

    await store.deployments.finish(served.id, "stopped", {});
    const after = await status();
    expect(after.live).toBeNull();
    expect(after.deployments.map((d) => d.status)).toEqual(["failed", "stopped"]);
  });
});
