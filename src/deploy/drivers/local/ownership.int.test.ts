/**
 * Two engines' local drivers on one deploy root and one store (PGlite), with real processes: each
 * runs its own project and never touches the other's; a deploy or a teardown of the other's
 * project is a handover (the owner stops its copy first, so one copy runs); a clean stop gives the
 * releases up and the other engine adopts them at once. Each engine's periodic ownership check is
 * played by calling `yieldLost` in a loop, as the engine role's watch does.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gitEnv } from "../../../../test/support/git.js";
import { freePort } from "../../../../test/support/ports.js";
import { isGone } from "../../../../test/support/processes.js";
import { openTestStore } from "../../../../test/support/store.js";
import type { TemplateManifest } from "../../../contracts/index.js";
import { createLogger, SecretRedactor } from "../../../observability/index.js";
import type { OwnerRef, Store } from "../../../store/index.js";
import { getTemplate } from "../../../templates/index.js";
import type { Release, RunSpec } from "../../driver.js";
import { LocalDriver, ReleaseOwnership } from "./index.js";

const run = promisify(execFile);
const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
/** A service with no dependencies: answers every path with its own pid. */
const SERVER = `import { createServer } from "node:http";
createServer((_req, res) => res.end(JSON.stringify({ pid: process.pid }))).listen(Number(process.env.PORT), "127.0.0.1");
`;

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await run("git", args, { cwd, env: gitEnv() })).stdout.trim();
}

/** The pid of the process answering on `port`, or null when nothing does. */
async function answering(port: number): Promise<number | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) });
    return ((await res.json()) as { pid: number }).pid;
  } catch {
    return null;
  }
}

async function until<T>(what: string, probe: () => Promise<T | null>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await probe();
    if (value !== null) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** An engine's periodic ownership check, every 100 ms until stopped. */
function watch(driver: LocalDriver): { stop(): Promise<void> } {
  let isStopped = false;
  const loop = (async () => {
    while (!isStopped) {
      await driver.yieldLost();
      await sleep(100);
    }
  })();
  return {
    async stop() {
      isStopped = true;
      await loop;
    },
  };
}

describe("local releases owned by two engines sharing one data directory", () => {
  let store: Store;
  let tmp = "";
  let root = "";
  let bare = "";
  let manifest: TemplateManifest;
  const engines: { self: OwnerRef; driver: LocalDriver }[] = [];
  const projects: string[] = [];
  const ports: number[] = [];
  const releases: Release[] = [];

  const engine = async (name: string) => {
    const self = { id: `engine-${name}`, incarnation: `${name}-1` };
    await store.instances.beat({ ...self, roles: ["engine"], host: "box", pid: process.pid, ttlMs: 600_000 });
    const ownership = new ReleaseOwnership({ store, self, leaseTtlMs: 600_000, logger, pollMs: 50 });
    const driver = new LocalDriver({ root, logger, ownership, stopGraceMs: 5_000 });
    engines.push({ self, driver });
    return driver;
  };
  const spec = (i: number): RunSpec => ({
    release: releases[i] as Release,
    env: { PORT: String(ports[i]) },
    port: ports[i] as number,
    manifest,
    slug: `owned-${i}`,
    server: null,
  });
  const driverOf = (i: number) => (engines[i] as { driver: LocalDriver }).driver;

  beforeAll(async () => {
    store = await openTestStore();
    tmp = await mkdtemp(join(tmpdir(), "two-engines-"));
    root = join(tmp, "deploy");
    const work = join(tmp, "work");
    bare = join(tmp, "service.git");
    await mkdir(work);
    await writeFile(join(work, "server.mjs"), SERVER);
    await git(work, "init", "--quiet", "--initial-branch=main");
    await git(work, "add", "-A");
    await git(work, "commit", "--quiet", "-m", "A service that says its pid");
    await git(tmp, "init", "--quiet", "--bare", bare);
    await git(work, "push", "--quiet", bare, "HEAD:refs/heads/main");
    const sha = await git(work, "rev-parse", "HEAD");
    const web = (await getTemplate("web-service")).manifest;
    manifest = {
      ...web,
      commands: { ...web.commands, install: ["node", "--version"], start: ["node", "server.mjs"] },
    };
    delete manifest.commands.build;
    await engine("a");
    await engine("b");
    for (const i of [0, 1]) {
      const projectId = (await store.projects.create({ name: `Owned ${i} ${Date.now()}` })).id;
      projects.push(projectId);
      ports.push(await freePort());
      releases.push(
        await driverOf(i).build({
          projectId,
          slug: `owned-${i}`,
          commit: sha,
          source: { url: bare, env: {} },
          manifest,
          server: null,
        }),
      );
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.driver.close()));
    await store?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("each engine runs its own project; neither adopts, yields or reports the other's as stopped", {
    timeout: 60_000,
  }, async () => {
    const [a, b] = [driverOf(0), driverOf(1)];
    await a.run(spec(0));
    await b.run(spec(1));
    const [pid0, pid1] = [
      await until("project 0", () => answering(ports[0] as number)),
      await until("project 1", () => answering(ports[1] as number)),
    ];
    const recorded = await LocalDriver.recorded(root);
    expect(recorded.map((r) => r.projectId).sort()).toEqual([...projects].sort());
    expect(await a.adoptable(recorded)).toEqual([]);
    expect(await b.adoptable(recorded)).toEqual([]);
    expect(await a.yieldLost()).toEqual([]);
    expect(await b.yieldLost()).toEqual([]);
    expect(await b.isRunning(projects[0] as string, null)).toBe(true);
    expect(await a.isRunning(projects[1] as string, null)).toBe(true);
    expect(await answering(ports[0] as number)).toBe(pid0);
    expect(await answering(ports[1] as number)).toBe(pid1);
    expect(await store.releaseOwners.get(projects[0] as string)).toMatchObject({
      owner: engines[0]?.self,
      pid: pid0,
      port: ports[0],
      release: releases[0]?.id,
    });
    expect((await store.releaseOwners.get(projects[1] as string))?.owner).toEqual(engines[1]?.self);
  });

  it("a deploy on B of A's project is a handover: A stops its copy before B's starts", {
    timeout: 60_000,
  }, async () => {
    const [a, b] = [driverOf(0), driverOf(1)];
    const projectId = projects[0] as string;
    const before = (await answering(ports[0] as number)) as number;
    const aWatch = watch(a);
    try {
      await b.run(spec(0));
    } finally {
      await aWatch.stop();
    }
    expect(await isGone(before)).toBe(true);
    const after = await until("B's copy", () => answering(ports[0] as number));
    expect(after).not.toBe(before);
    expect(a.running().map((r) => r.projectId)).not.toContain(projectId);
    // No crash: A's copy was gone before B's started, so the port was free.
    expect(b.running().find((r) => r.projectId === projectId)).toMatchObject({
      pid: after,
      state: "running",
      crashes: 0,
    });
    expect(await store.releaseOwners.get(projectId)).toMatchObject({
      owner: engines[1]?.self,
      handover: null,
      pid: after,
    });
    const record = JSON.parse(await readFile(join(root, projectId, "current.json"), "utf8"));
    expect(record.pid).toBe(after);
  });

  it("a teardown on A of B's project stops B's copy and leaves nothing to adopt", {
    timeout: 60_000,
  }, async () => {
    const [a, b] = [driverOf(0), driverOf(1)];
    const projectId = projects[1] as string;
    const before = (await answering(ports[1] as number)) as number;
    const bWatch = watch(b);
    try {
      await a.stop(projectId, null);
    } finally {
      await bWatch.stop();
    }
    expect(await isGone(before)).toBe(true);
    expect(await answering(ports[1] as number)).toBeNull();
    expect(b.running().map((r) => r.projectId)).not.toContain(projectId);
    expect(await store.releaseOwners.get(projectId)).toMatchObject({ owner: null, release: null, pid: null });
    const recorded = await LocalDriver.recorded(root);
    expect(recorded.map((r) => r.projectId)).not.toContain(projectId);
    expect((await a.adoptable(recorded)).map((c) => c.projectId)).not.toContain(projectId);
  });

  it("a clean stop gives the releases up and the other engine adopts them at once, on their port", {
    timeout: 60_000,
  }, async () => {
    const [a, b] = [driverOf(0), driverOf(1)];
    const projectId = projects[0] as string;
    const before = (await answering(ports[0] as number)) as number;
    await b.close();
    expect(await isGone(before)).toBe(true);
    expect(await store.releaseOwners.get(projectId)).toMatchObject({ owner: null, release: releases[0]?.id });
    const candidates = await a.adoptable(await LocalDriver.recorded(root));
    expect(candidates).toEqual([
      expect.objectContaining({ projectId, release: releases[0]?.id, port: ports[0] }),
    ]);
    expect(await a.adopt(spec(0), candidates[0] as (typeof candidates)[number])).toBe(true);
    const after = await until("A's copy", () => answering(ports[0] as number));
    expect(after).not.toBe(before);
    expect(await store.releaseOwners.get(projectId)).toMatchObject({ owner: engines[0]?.self, pid: after });
    // Adopting again from the same (now stale) record is refused: A holds it.
    expect(await a.adopt(spec(0), candidates[0] as (typeof candidates)[number])).toBe(false);
    expect(await answering(ports[0] as number)).toBe(after);
  });
});
