/**
 * Two engine processes (`orchestrator serve --roles engine`) on one PostgreSQL, one Redis and one
 * data directory, deploying with the `local` driver. A second engine starting beside a live one
 * ends and adopts nothing; a deploy of A's project picked up by B is handed over (A stops its copy,
 * B runs it), so each engine runs a project of its own and neither touches the other's; when B is
 * killed with SIGKILL, A adopts its release once B's heartbeat lease expires and every service
 * answers again; A's clean stop stops its releases and gives them up.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalForge } from "../../src/git/index.js";
import { openPostgresStore, type ReleaseOwner, type Store } from "../../src/store/index.js";
import { renderTemplate } from "../../src/templates/index.js";
import { distributedEnv, type RunningCli, START_DEADLINE_MS, serveRoles, startCli } from "../support/cli.js";
import { gitEnv } from "../support/git.js";
import { lightServiceFiles } from "../support/light-project.js";
import { freePort, workerPortRange } from "../support/ports.js";
import { startPostgres, type TestPostgres } from "../support/postgres.js";
import { isGone } from "../support/processes.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { until } from "../support/until.js";

const run = promisify(execFile);
/**
 * A's lease outlives the moment it is paused below (at most the 30 s B has to take the run, however
 * slow the machine); B's is short, so its death is seen soon.
 */
const A_TTL = "60s";
const B_TTL = "3s";
const DEPLOY_DEADLINE_MS = 240_000;

let pg: TestPostgres | undefined;
let redis: TestRedis | undefined;
let store: Store | undefined;
let dataDir = "";
let apiUrl = "";
let token = "";
let env: NodeJS.ProcessEnv = {};
const procs: RunningCli[] = [];
/** Every release pid seen, so a failed run leaves no service behind. */
const seenPids = new Set<number>();

interface Engine {
  proc: RunningCli;
  id: string;
}
interface Project {
  id: string;
  slug: string;
  commit: string;
  url: string;
}

const db = (): Store => {
  if (!store) throw new Error("store not open");
  return store;
};

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T & { data?: T };
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return path.startsWith("/api/tools/") ? (json.data as T) : json;
}

interface RunView {
  id: string;
  status: string;
  error: unknown;
  result: { url?: string } | null;
}

async function deploy(project: { id: string; commit: string }): Promise<RunView> {
  return api<RunView>("POST", "/api/tools/deploy.start", { projectId: project.id, commit: project.commit });
}

async function finished(runId: string): Promise<RunView> {
  return until(`deploy run ${runId}`, DEPLOY_DEADLINE_MS, async () => {
    const r = await api<RunView>("GET", `/api/runs/${runId}`);
    return ["succeeded", "failed", "blocked", "cancelled"].includes(r.status) ? r : null;
  });
}

async function ownerOf(projectId: string): Promise<ReleaseOwner> {
  const record = await db().releaseOwners.get(projectId);
  if (!record) throw new Error(`no ownership record for ${projectId}`);
  if (record.pid !== null) seenPids.add(record.pid);
  return record;
}

/** The running release's pid once `engine` owns the project and its process is up. */
async function ownedPid(projectId: string, engine: Engine, deadlineMs = 30_000): Promise<number> {
  return until(`${engine.id} to run project ${projectId}`, deadlineMs, async () => {
    const record = await ownerOf(projectId);
    return record.owner?.id === engine.id && record.pid !== null && !(await isGone(record.pid))
      ? record.pid
      : null;
  });
}

async function startEngine(name: string, ttl: string): Promise<Engine> {
  const proc = startCli(["serve", "--roles", "engine"], {
    ...env,
    ORCHESTRATOR_PORT: String(await freePort()),
    INSTANCE_TTL: ttl,
  });
  procs.push(proc);
  await until(`engine ${name} to watch its releases`, START_DEADLINE_MS, async () => {
    if (proc.child.exitCode !== null) throw new Error(`engine ${name} exited:\n${proc.output()}`);
    return proc.output().includes("supervising deploy releases") ? true : null;
  });
  const instance = (await db().instances.list()).find((i) => i.pid === proc.child.pid && i.alive);
  if (!instance) throw new Error(`engine ${name} has no heartbeat`);
  return { proc, id: instance.id };
}

/**
 * A project whose repository holds the rendered web-service template (what a Preparer commits) made
 * the light project (test/support/light-project.ts): the template's manifest, a service that builds
 * by copying files, so each release costs the engines' work, not npm's and tsc's.
 */
async function projectWithCommit(name: string, scratch: string): Promise<Omit<Project, "url">> {
  const { id, slug } = await api<{ id: string; slug: string }>("POST", "/api/projects", { name });
  const forge = new LocalForge({ dataDir, baseUrl: apiUrl });
  await forge.createRepository({ projectId: id, slug, description: name });
  const dir = join(scratch, slug);
  await renderTemplate({
    template: "web-service",
    into: dir,
    variables: { projectName: name, slug, description: name },
  });
  for (const [path, content] of Object.entries(lightServiceFiles())) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  const git = (...args: string[]) => run("git", args, { cwd: dir, env: gitEnv() });
  await git("init", "--quiet", "--initial-branch=main");
  await git("add", "-A");
  await git("commit", "--quiet", "-m", "Render web-service, made the light project");
  await git("push", "--quiet", join(forge.root, `${slug}.git`), "HEAD:refs/heads/main");
  return { id, slug, commit: (await git("rev-parse", "HEAD")).stdout.trim() };
}

beforeAll(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  dataDir = await mkdtemp(join(tmpdir(), "two-engines-"));
  const apiPort = await freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  env = distributedEnv(
    { databaseUrl: pg.url, redisUrl: redis.url, apiUrl, dataDir },
    {
      DEPLOY_PORT_RANGE: workerPortRange(24_000).join("-"),
      // Runs nobody took from the bus are found quickly (see the handover below).
      ENGINE_RECOVERY_INTERVAL: "500ms",
      // Both engines collect garbage all along, over the data directory they share: each must take
      // only its own projects' old releases, never what the other builds or hands over.
      GC_INTERVAL: "1s",
    },
  );
  const { proc: apiProc } = await serveRoles("api", env, apiPort);
  procs.push(apiProc);
  token = /orc_[A-Za-z0-9_-]{43}/.exec(apiProc.output())?.[0] ?? "";
  store = await openPostgresStore(pg.url);
}, 120_000);

afterAll(async () => {
  for (const p of procs) await p.stop("SIGKILL");
  for (const pid of seenPids) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await store?.close();
  await Promise.all([pg?.stop(), redis?.stop()]);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("two engines sharing one data directory (local deploy driver)", () => {
  let a: Engine;
  let b: Engine;
  const projects: Project[] = [];
  const pids: number[] = [];

  it("engine A alone deploys two web services; both are its releases", {
    timeout: DEPLOY_DEADLINE_MS + START_DEADLINE_MS,
  }, async () => {
    a = await startEngine("A", A_TTL);
    const scratch = join(dataDir, "scratch");
    const made = [
      await projectWithCommit("first service", scratch),
      await projectWithCommit("second service", scratch),
    ];
    const runs = await Promise.all(made.map((p) => deploy(p)));
    for (const [i, queued] of runs.entries()) {
      const done = await finished(queued.id);
      expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
      const url = done.result?.url ?? "";
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      projects.push({ ...(made[i] as Omit<Project, "url">), url });
    }
    for (const project of projects) {
      pids.push(await ownedPid(project.id, a));
      expect(await answers(project.url)).toBe(true);
    }
  });

  it("a second engine starting beside it ends nothing and adopts nothing", {
    timeout: START_DEADLINE_MS + 30_000,
  }, async () => {
    b = await startEngine("B", B_TTL);
    // A few of B's passes (one a second): the bug this guards against ended A's live releases here.
    await sleep(3_500);
    for (const [i, project] of projects.entries()) {
      const record = await ownerOf(project.id);
      expect(record.owner?.id).toBe(a.id);
      expect(record.pid).toBe(pids[i]);
      expect(await isGone(pids[i] as number)).toBe(false);
      expect(await answers(project.url)).toBe(true);
    }
    expect(b.proc.output()).not.toContain("ended a release process");
    expect(a.proc.output()).not.toContain("took this release over");
  });

  it("a deploy of A's project that B picks up is handed over: A stops its copy, B runs it", {
    timeout: DEPLOY_DEADLINE_MS,
  }, async () => {
    const second = projects[1] as Project;
    // Paused well within its lease, A cannot take the run: B does (from the bus or its recovery scan).
    a.proc.child.kill("SIGSTOP");
    let queued: RunView;
    try {
      queued = await deploy(second);
      await until("B to take the deploy run", 30_000, async () => {
        const r = await api<RunView>("GET", `/api/runs/${queued.id}`);
        return r.status === "queued" ? null : r;
      });
    } finally {
      a.proc.child.kill("SIGCONT");
    }
    const done = await finished(queued.id);
    expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
    expect(done.result?.url).toBe(second.url);
    const handed = await ownedPid(second.id, b);
    expect(handed).not.toBe(pids[1]);
    expect(await isGone(pids[1] as number)).toBe(true);
    expect(await ownerOf(second.id)).toMatchObject({ handover: null });
    expect(a.proc.output()).toContain("another engine took this release over");
    pids[1] = handed;
    // Each engine now runs a project of its own; a few passes of both leave them alone.
    await sleep(2_500);
    for (const [i, project] of projects.entries()) {
      expect((await ownerOf(project.id)).owner?.id).toBe(i === 0 ? a.id : b.id);
      expect(await isGone(pids[i] as number)).toBe(false);
      expect(await answers(project.url)).toBe(true);
    }
  });

  it("after B is killed with SIGKILL, A adopts its release once B's lease expires", {
    timeout: 60_000,
  }, async () => {
    const [first, second] = projects as [Project, Project];
    const orphan = pids[1] as number;
    await b.proc.stop("SIGKILL");
    // B's release lives on in its own process group; nobody may end it before B's lease expires.
    expect(await isGone(orphan)).toBe(false);
    const adopted = await ownedPid(second.id, a);
    expect(adopted).not.toBe(orphan);
    expect(await isGone(orphan)).toBe(true);
    await until("the adopted service to answer", 30_000, async () =>
      (await answers(second.url)) ? true : null,
    );
    expect(a.proc.output()).toContain("adopted the releases of an engine that is gone");
    // A's own release was never touched.
    expect((await ownerOf(first.id)).pid).toBe(pids[0]);
    expect(await answers(first.url)).toBe(true);
    pids[1] = adopted;
  });

  it("A's clean stop stops its releases and gives them up", { timeout: 60_000 }, async () => {
    expect(await a.proc.stop("SIGTERM")).toBe(0);
    for (const [i, project] of projects.entries()) {
      expect(await isGone(pids[i] as number)).toBe(true);
      expect(await answers(project.url)).toBe(false);
      expect(await ownerOf(project.id)).toMatchObject({ owner: null, pid: null });
    }
  });
});
