/**
 * From a green commit to a live service with the `local` driver, end to end: a green engineering
 * run deploys itself once; a second green commit becomes a new release; a commit whose service
 * does not come up fails its gate and the previous release serves again; rollback returns to the
 * previous commit; a missing secret blocks with its name; teardown frees the ports; and after a
 * restart the recorded release is brought back. The service is the light project's
 * (test/support/light-project.ts): what is deployed is real, without npm and tsc in every round.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Run, RunEvent } from "../../src/contracts/index.js";
import { LocalDriver } from "../../src/deploy/index.js";
import { recoverReleases, requestDeploy } from "../../src/engine/index.js";
import { type EngineHarness, startEngineHarness } from "../support/engine-harness.js";
import { gitEnv } from "../support/git.js";
import { leakScan, recordPgliteInstances } from "../support/leak-scan.js";
import { scanHarness } from "../support/leak-scan-harness.js";
import { lightPlaybook } from "../support/light-project.js";

const run = promisify(execFile);
let h: EngineHarness;
let scratch: string;
/** Every API answer of this file is recorded for the leak scan at its end. */
const scan = leakScan();
let databases: PGlite[] = [];

beforeAll(async () => {
  scan.recordResponses((url) => h !== undefined && url.startsWith(`${h.url}/`));
  const pglite = recordPgliteInstances();
  databases = pglite.instances;
  h = await startEngineHarness({ deployOnGreen: true }).finally(pglite.stop);
  // Sandboxes (with their transcripts) and the Tester's checkouts go when a run ends: watched.
  const root = dirname(h.deployRoot);
  scan.watchFolder("workers", join(root, "workers")).watchFolder("engine", join(root, "engine"));
  scratch = await mkdtemp(join(tmpdir(), "deploy-local-"));
});
afterAll(async () => {
  await h?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function deployRuns(projectId: string): Promise<Run[]> {
  return (await h.store.runs.list({ projectId, kind: "deploy", limit: 50, offset: 0 })).items;
}

async function until<T>(what: string, probe: () => Promise<T | null>, ms = 240_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function eventsOf(runId: string): Promise<RunEvent[]> {
  return h.store.runEvents.list(runId, { limit: 5000 });
}

/** Pushes a commit to the project's repository over git HTTP (as a developer would). */
async function pushCommit(
  slug: string,
  edit: (dir: string) => Promise<void>,
  message: string,
): Promise<string> {
  const dir = join(scratch, `${slug}-${Date.now()}`);
  const env = gitEnv(h.adminToken);
  await run("git", ["clone", "--quiet", `${h.url}/git/${slug}.git`, dir], { env });
  await edit(dir);
  await run("git", ["add", "-A"], { cwd: dir, env });
  await run("git", ["commit", "--quiet", "-m", message], { cwd: dir, env });
  await run("git", ["push", "--quiet", "origin", "HEAD:main"], { cwd: dir, env });
  return (await run("git", ["rev-parse", "HEAD"], { cwd: dir })).stdout.trim();
}

async function replaceIn(file: string, from: string, to: string): Promise<void> {
  const text = await readFile(file, "utf8");
  if (!text.includes(from)) throw new Error(`${from} not in ${file}`);
  await writeFile(file, text.replace(from, to));
}

async function hello(url: string): Promise<string> {
  const res = await fetch(`${url}/api/hello`);
  return ((await res.json()) as { message: string }).message;
}

async function deployAndWait(projectId: string, tool: string, input: Record<string, unknown>): Promise<Run> {
  const queued = await h.tool<Run>(tool, { projectId, ...input });
  return h.waitForEnd(queued.id);
}

describe("deploy with the local driver", () => {
  let projectId = "";
  let url = "";
  let firstCommit = "";

  it("deploys a green engineering run once, behind a passing health gate", async () => {
    h.setPlaybook(lightPlaybook());
    const p = await h.store.projects.create({ name: "deploy-e2e", slug: "deploy-e2e" });
    projectId = p.id;
    const eng = await h.waitForEnd((await h.start({ projectId, brief: "time service" })).id);
    expect(eng.status).toBe("succeeded");
    firstCommit = (eng.result as { commit: string }).commit;
    const deploy = await until("the deploy run", async () => {
      const runs = await deployRuns(projectId);
      return runs[0] ?? null;
    });
    const done = await h.waitForEnd(deploy.id);
    expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
    const result = done.result as { url: string; commit: string; deploymentId: string };
    expect(result.commit).toBe(firstCommit);
    url = result.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const time = await fetch(`${url}/api/time`);
    expect(time.status).toBe(200);
    expect(typeof ((await time.json()) as { now: unknown }).now).toBe("string");
    const succeeded = (await eventsOf(done.id)).find((e) => e.type === "deploy.succeeded");
    expect(succeeded?.data).toMatchObject({ url, commit: firstCommit });
    expect((await h.store.projects.get(projectId)).status).toBe("live");
    const deployment = await h.store.deployments.get(result.deploymentId);
    expect(deployment).toMatchObject({ status: "healthy", commitSha: firstCommit, url });
    // The engine may finish a run twice after a crash: its deploy is still queued once.
    const status = await h.tool<{ run: Run; live: unknown; deployments: unknown[] }>("deploy.status", {
      projectId,
    });
    expect(status.run.id).toBe(done.id);
    expect(status.deployments).toHaveLength(1);
    expect(status.live).toEqual({
      deploymentId: deployment.id,
      commit: firstCommit,
      release: deployment.release,
      url,
    });
    // The engineering run names the deploy run its green commit started.
    const engineering = await h.tool<{ deployRun: Run | null }>("engineering.status", { runId: eng.id });
    expect(engineering.deployRun?.id).toBe(done.id);
    const duplicate = await requestDeploy(
      { store: h.store, bus: h.bus, journal: h.devopsDeps.journal },
      {
        projectId,
        action: "deploy",
        commit: firstCommit,
        sourceRunId: eng.id,
      },
    );
    expect(duplicate.id).toBe(done.id);
    expect(await deployRuns(projectId)).toHaveLength(1);
  }, 400_000);

  it("deploys a second commit as a new release, keeping the first for rollback", async () => {
    const second = await pushCommit(
      "deploy-e2e",
      (dir) => replaceIn(join(dir, "src/main.mjs"), "Hello, ", "Howdy, "),
      "Say howdy",
    );
    const done = await deployAndWait(projectId, "deploy.start", { commit: second });
    expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
    expect((done.result as { url: string }).url).toBe(url); // the same port
    expect(await hello(url)).toBe("Howdy, world!");
    const deployments = (await h.store.deployments.list({ projectId, limit: 10, offset: 0 })).items;
    expect(deployments.map((d) => [d.commitSha, d.status])).toEqual([
      [second, "healthy"],
      [firstCommit, "superseded"],
    ]);
    expect((await h.driver.releases(projectId, null)).length).toBe(2);
  }, 300_000);

  it("fails a release that does not come up, and the previous release answers again", async () => {
    const broken = await pushCommit(
      "deploy-e2e",
      (dir) => writeFile(join(dir, "src/main.mjs"), 'throw new Error("this release cannot start");\n'),
      "Break the start",
    );
    const done = await deployAndWait(projectId, "deploy.start", { commit: broken });
    expect(done.status).toBe("failed");
    expect(done.error?.code).toBe("health_gate_failed");
    expect((done.result as { restoredPrevious: boolean }).restoredPrevious).toBe(true);
    expect(await hello(url)).toBe("Howdy, world!");
    const failedEvent = (await eventsOf(done.id)).find((e) => e.type === "deploy.failed");
    expect(String(failedEvent?.data.reason)).toContain("health gate");
    const attempt = (await h.store.deployments.list({ projectId, limit: 1, offset: 0 })).items[0];
    expect(attempt).toMatchObject({ commitSha: broken, status: "failed" });
    expect(attempt?.logsExcerpt).toContain("this release cannot start");
    expect((await h.store.projects.get(projectId)).status).toBe("live");
  }, 300_000);

  it("rolls back to the previous commit", async () => {
    const done = await deployAndWait(projectId, "deploy.rollback", {});
    expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
    expect((done.result as { commit: string }).commit).toBe(firstCommit);
    expect(await hello(url)).toBe("Hello, world!");
    const statuses = (await h.store.deployments.list({ projectId, limit: 10, offset: 0 })).items.map(
      (d) => d.status,
    );
    expect(statuses[0]).toBe("healthy");
    expect(statuses).toContain("rolled_back");
  }, 300_000);

  it("brings the running release back after a restart of the orchestrator", async () => {
    await h.driver.close();
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    const driver = new LocalDriver({ root: h.deployRoot, logger: h.devopsDeps.logger });
    h.devopsDeps.driver = driver;
    expect(await recoverReleases(h.devopsDeps)).toEqual([projectId]);
    await until(
      "the service to answer",
      async () => ((await fetch(`${url}/health`).catch(() => null))?.ok ? true : null),
      30_000,
    );
    expect(await hello(url)).toBe("Hello, world!");
  }, 120_000);

  it("tears down: stops the service, frees its ports, marks the deployment stopped, keeps the repository", async () => {
    const done = await deployAndWait(projectId, "project.teardown", { data: "keep" });
    expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    expect((await h.store.ports.list({ projectId, limit: 10, offset: 0 })).items).toEqual([]);
    expect((await h.store.projects.get(projectId)).status).toBe("stopped");
    // Nothing is offered as live: the deployment that served reads `stopped`.
    const status = await h.tool<{ live: unknown; deployments: { status: string; url: string | null }[] }>(
      "deploy.status",
      { projectId },
    );
    expect(status.live).toBeNull();
    expect(status.deployments[0]).toMatchObject({ status: "stopped", url });
    expect(status.deployments.some((d) => d.status === "healthy")).toBe(false);
    expect(await h.forge.hasCommit({ name: "deploy-e2e" }, firstCommit)).toBe(true);
    await h.devopsDeps.driver.close();
  }, 120_000);

  it("leaks neither the admin token nor the vault key: logs, run events, API answers, database, repositories, clones, workers' folders", async () => {
    await scanHarness(scan, { harness: h, databases, folders: { "pushed clones": scratch } });
    await scan.assertClean();
  }, 120_000);
});
