/**
 * The local deploy driver with the real `web-service` template: rendered, committed to a bare
 * repository, built (real npm install and tsc), run on a free port and probed over real HTTP by
 * the health gate. One release per commit is built once and reused across the cases, which run in
 * order: first deploy, crash recovery, second commit, a release crashing at start, a failing
 * build, shutdown and restart, an orchestrator killed with SIGKILL, pruning. Then the
 * `DeployDriver` conformance suite runs against a fresh driver on the same repository.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { access, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../../test/support/ports.js";
import { isGone } from "../../../../test/support/processes.js";
import { AppError, LOCAL_SERVER, type Server, type TemplateManifest } from "../../../contracts/index.js";
import { createLogger, SecretRedactor } from "../../../observability/index.js";
import { renderTemplate } from "../../../templates/index.js";
import { runDeployDriverConformance } from "../../driver.conformance.js";
import type { BuildSpec, Release, RunSpec } from "../../driver.js";
import { httpHealthGate } from "../../health/index.js";
import { LocalDriver } from "./index.js";

const run = promisify(execFile);
const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
const BUILD_MS = 180_000;
const SECRET = "s3cr3t-api-key-value";
const DRIVER_INDEX = fileURLToPath(new URL("./index.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
/** Short restart backoff so the crash cases finish quickly; the defaults are tested in the unit suite. */
const RESTART = { initialDelayMs: 200, maxDelayMs: 1_000, maxRestarts: 3 };

const GIT_ENV = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
};

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("git", args, { cwd, env: GIT_ENV });
  return stdout.trim();
}

async function until(condition: () => boolean | Promise<boolean>, what: string, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i += 1) {
    if (await condition()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe("LocalDriver: the web-service template built, run, supervised and restored for real", () => {
  let tmp = "";
  let root = "";
  let work = "";
  let bare = "";
  let manifest: TemplateManifest;
  const projectId = randomUUID();
  const slug = "hello-service";
  const drivers: LocalDriver[] = [];
  let orchestrator: ChildProcess | null = null;
  let port = 0;
  let releaseA: Release;
  let releaseB: Release;

  const newDriver = () => {
    const driver = new LocalDriver({ root, logger, restart: RESTART, stopGraceMs: 5_000 });
    drivers.push(driver);
    return driver;
  };
  const buildSpec = (commit: string, m: TemplateManifest = manifest): BuildSpec => ({
    projectId,
    slug,
    commit,
    source: { url: bare, env: {} },
    manifest: m,
    server: null,
  });
  const runSpec = (release: Release): RunSpec => ({
    release,
    env: { PORT: String(port), APP_ENV: "test", LOG_LEVEL: "info", API_KEY: SECRET },
    port,
    manifest,
    slug,
    server: null,
  });
  const gate = (driver: LocalDriver) =>
    httpHealthGate({
      url: `http://127.0.0.1:${port}`,
      path: "/health",
      isAlive: () => driver.isRunning(projectId, null),
    });
  const get = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  /** Commits an edit of `file` in the working copy and pushes it to the bare repository. */
  const commit = async (message: string, file?: string, edit?: (text: string) => string): Promise<string> => {
    if (file && edit) await writeFile(join(work, file), edit(await readFile(join(work, file), "utf8")));
    await git(work, "commit", "--quiet", "--allow-empty", "-am", message);
    await git(work, "push", "--quiet", bare, "HEAD:refs/heads/main");
    return git(work, "rev-parse", "HEAD");
  };
  const record = async () => JSON.parse(await readFile(join(root, projectId, "current.json"), "utf8"));

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "local-driver-"));
    root = join(tmp, "deploy");
    work = join(tmp, "work");
    bare = join(tmp, "hello-service.git");
    manifest = await renderTemplate({
      template: "web-service",
      into: work,
      variables: { projectName: "Hello Service", slug, description: "says hello" },
    });
    await git(work, "init", "--quiet", "--initial-branch=main");
    await git(work, "add", "-A");
    await git(work, "commit", "--quiet", "-m", "Render web-service");
    await git(tmp, "init", "--quiet", "--bare", bare);
    await git(work, "push", "--quiet", bare, "HEAD:refs/heads/main");
    port = await freePort();
  });

  afterAll(async () => {
    if (orchestrator && orchestrator.exitCode === null && orchestrator.signalCode === null) {
      orchestrator.kill("SIGKILL");
    }
    await Promise.all(drivers.map((driver) => driver.close()));
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("builds a commit into a release once, runs it, and the health gate passes", {
    timeout: BUILD_MS,
  }, async () => {
    const driver = newDriver();
    const sha = await git(work, "rev-parse", "HEAD");
    releaseA = await driver.build(buildSpec(sha));
    expect(releaseA).toMatchObject({
      projectId,
      commit: sha,
      location: join(root, projectId, "releases", releaseA.id),
    });
    expect(releaseA.id).toMatch(new RegExp(`^${sha.slice(0, 12)}-\\d{14}$`));
    expect(await exists(join(releaseA.location, "dist/src/main.js"))).toBe(true);
    expect(await driver.build(buildSpec(sha))).toEqual(releaseA);

    await driver.run(runSpec(releaseA));
    const result = await gate(driver);
    expect(result, JSON.stringify(result)).toMatchObject({ ok: true, status: 200 });
    expect(await get("/health")).toEqual({ status: 200, body: { status: "ok", env: "test" } });
    expect((await get("/api/hello")).body.message).toBe("Hello, world!");

    expect(await record()).toMatchObject({ release: releaseA.id, commit: sha, port });
    expect(await readFile(join(root, projectId, "current.json"), "utf8")).not.toContain(SECRET);
    expect(driver.running()).toEqual([
      expect.objectContaining({ projectId, release: releaseA.id, port, state: "running", crashes: 0 }),
    ]);
    await until(async () => (await driver.logs(projectId, null, 10)).length > 0, "the start line");
    expect(
      (await driver.logs(projectId, null, 10)).some((line) =>
        line.includes(`Hello Service listening on port ${port} (test)`),
      ),
    ).toBe(true);
  });

  it("restarts the service when its process is killed, and /health answers again", {
    timeout: 60_000,
  }, async () => {
    const driver = drivers[0] as LocalDriver;
    const killed = driver.running()[0]?.pid as number;
    process.kill(killed, "SIGKILL");
    await until(() => {
      const pid = driver.running()[0]?.pid;
      return pid !== null && pid !== undefined && pid !== killed;
    }, "the supervisor to restart it");
    expect(await gate(driver)).toMatchObject({ ok: true });
    expect((await get("/health")).status).toBe(200);
    expect(driver.running()[0]).toMatchObject({ state: "running", crashes: 1 });
    expect((await record()).pid).toBe(driver.running()[0]?.pid);
  });

  it("a second commit builds as a new release and replaces the running one; the first is kept", {
    timeout: BUILD_MS,
  }, async () => {
    const driver = drivers[0] as LocalDriver;
    const sha = await commit("Say howdy", "src/routes/api.ts", (text) => text.replace("Hello, ", "Howdy, "));
    releaseB = await driver.build(buildSpec(sha));
    expect(releaseB.id).not.toBe(releaseA.id);
    await driver.run(runSpec(releaseB));
    expect(await gate(driver)).toMatchObject({ ok: true });
    expect((await get("/api/hello")).body.message).toBe("Howdy, world!");
    expect((await driver.releases(projectId, null)).map((r) => r.id)).toEqual([releaseB.id, releaseA.id]);
    expect(await exists(releaseA.location)).toBe(true);
    expect(driver.running()).toEqual([expect.objectContaining({ release: releaseB.id, crashes: 0 })]);
  });

  it("a release that crashes at start fails the gate with a reason and is left down after its restarts", {
    timeout: BUILD_MS,
  }, async () => {
    const driver = drivers[0] as LocalDriver;
    const sha = await commit(
      "Crash at start",
      "src/main.ts",
      (text) => `if (process.env.PORT) throw new Error("boom at start");\n${text}`,
    );
    const crashing = await driver.build(buildSpec(sha));
    await driver.run(runSpec(crashing));
    const result = await gate(driver);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/^the process exited/);
    await until(() => driver.running()[0]?.state === "crashed", "the supervisor to give up");
    expect(await driver.isRunning(projectId, null)).toBe(false);
    expect(driver.running()[0]).toMatchObject({ release: crashing.id, crashes: RESTART.maxRestarts + 1 });
    const logs = await driver.logs(projectId, null, 200);
    expect(logs.some((line) => line.includes("Error: boom at start"))).toBe(true);
    expect(logs.at(-1)).toMatch(/gave up after 3 restarts in a row$/);

    // What the devops graph does on a failed gate: run the previous release again.
    await driver.run(runSpec(releaseB));
    expect(await gate(driver)).toMatchObject({ ok: true });
    expect((await get("/api/hello")).body.message).toBe("Howdy, world!");
  });

  it("a commit that does not compile is build_failed with the compiler's output, and no folder is left", {
    timeout: BUILD_MS,
  }, async () => {
    const driver = drivers[0] as LocalDriver;
    const before = await readdir(join(root, projectId, "releases"));
    const sha = await commit(
      "Break the build",
      "src/config.ts",
      (text) => `${text}\nexport const broken: number = "text";\n`,
    );
    const error = await driver.build(buildSpec(sha)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ kind: "invalid", code: "build_failed" });
    const detail = (error as AppError).details[0];
    expect(detail?.path).toBe("commands.build");
    expect(detail?.message).toContain("error TS2322");
    expect(await readdir(join(root, projectId, "releases"))).toEqual(before);
    expect(await driver.isRunning(projectId, null)).toBe(true);
  });

  it("close() ends every process and keeps current.json; a new driver reads it and runs the release again", {
    timeout: 60_000,
  }, async () => {
    const first = drivers[0] as LocalDriver;
    const pid = first.running()[0]?.pid as number;
    await first.close();
    expect(await isGone(pid)).toBe(true);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    await expect(first.run(runSpec(releaseB))).rejects.toMatchObject({ code: "driver_closed" });

    const recorded = await LocalDriver.recorded(root);
    expect(recorded).toEqual([
      expect.objectContaining({ projectId, release: releaseB.id, commit: releaseB.commit, port }),
    ]);
    const second = newDriver();
    expect(await second.isRunning(projectId, null)).toBe(false);
    expect(
      (await second.logs(projectId, null, 500)).some((line) =>
        line.includes(`Hello Service listening on port ${port} (test)`),
      ),
    ).toBe(true);
    const release = (await second.releases(projectId, null)).find((r) => r.id === recorded[0]?.release);
    await second.run(runSpec(release as Release));
    expect(await gate(second)).toMatchObject({ ok: true });
    await second.close();
  });

  it("after an orchestrator is killed with SIGKILL, the next one ends its leftover process and runs the release", {
    timeout: 60_000,
  }, async () => {
    // A real orchestrator process that starts the release and is then killed without any cleanup.
    const script = `
      const { LocalDriver } = await import(process.env.DRIVER_INDEX);
      const { createLogger, SecretRedactor } = await import(process.env.OBSERVABILITY_INDEX);
      const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
      const driver = new LocalDriver({ root: process.env.DEPLOY_ROOT, logger });
      await driver.run(JSON.parse(process.env.RUN_SPEC));
      console.log("started " + driver.running()[0].pid);
      setInterval(() => {}, 1000);`;
    orchestrator = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        DRIVER_INDEX,
        OBSERVABILITY_INDEX: fileURLToPath(new URL("../../../observability/index.ts", import.meta.url)),
        DEPLOY_ROOT: root,
        RUN_SPEC: JSON.stringify(runSpec(releaseB)),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    orchestrator.stdout?.on("data", (d) => {
      output += d;
    });
    orchestrator.stderr?.on("data", (d) => {
      output += d;
    });
    await until(
      () => /started \d+/.test(output) || orchestrator?.exitCode !== null,
      "the orchestrator child",
    );
    const leftover = Number(/started (\d+)/.exec(output)?.[1]);
    expect(leftover, output).toBeGreaterThan(0);
    expect(await httpHealthGate({ url: `http://127.0.0.1:${port}`, path: "/health" })).toMatchObject({
      ok: true,
    });
    orchestrator.kill("SIGKILL");
    await until(() => orchestrator?.signalCode === "SIGKILL", "the orchestrator to die");
    // Its release lives on in its own process group and still holds the port.
    expect((await get("/health")).status).toBe(200);

    const next = newDriver();
    const [recorded] = await LocalDriver.recorded(root);
    expect(recorded).toMatchObject({ release: releaseB.id, pid: leftover });
    await next.run(runSpec(releaseB));
    expect(await isGone(leftover)).toBe(true);
    expect(await gate(next)).toMatchObject({ ok: true });
    expect(next.running()[0]?.pid).not.toBe(leftover);
  });

  it("prune keeps the 5 newest releases and never removes the running one", {
    timeout: BUILD_MS,
  }, async () => {
    const driver = drivers.at(-1) as LocalDriver;
    // Four more real builds of real commits; a trivial install command keeps them fast.
    const quick: TemplateManifest = {
      ...manifest,
      commands: { ...manifest.commands, install: ["node", "--version"], build: undefined },
    };
    for (let i = 1; i <= 4; i += 1) await driver.build(buildSpec(await commit(`Empty ${i}`), quick));
    const all = (await driver.releases(projectId, null)).map((r) => r.id);
    expect(all).toHaveLength(7);
    expect(all.slice(-2)).toEqual([releaseB.id, releaseA.id]);

    // What crashed builds left: one an hour old, one just begun (another engine may be writing it).
    const crashed = join(root, projectId, "releases", `${"c".repeat(12)}-20200101000000`);
    const begun = join(root, projectId, "releases", `${"d".repeat(12)}-20200101000001`);
    for (const dir of [crashed, begun]) await mkdir(join(dir, "node_modules"), { recursive: true });
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(crashed, hourAgo, hourAgo);

    // The garbage collection prunes what this driver runs to 5 releases, and the crashed build.
    expect(await driver.collectReleases()).toBe(2);
    expect(await exists(crashed)).toBe(false);
    expect(await exists(begun)).toBe(true);
    const kept = (await driver.releases(projectId, null)).map((r) => r.id);
    expect(kept).toEqual([...all.slice(0, 5), releaseB.id]);
    expect(await exists(releaseA.location)).toBe(false);
    expect(await exists(join(root, projectId, "logs", `${releaseA.id}.log`))).toBe(false);
    expect(await driver.isRunning(projectId, null)).toBe(true);

    await driver.stop(projectId, null);
    expect(await driver.isRunning(projectId, null)).toBe(false);
    expect(await LocalDriver.recorded(root)).toEqual([]);
    expect(
      (await driver.logs(projectId, null, 1000)).some((line) => line.includes("listening on port")),
    ).toBe(true);
  });

  // The same repository, a project and data folder of its own: the cases every driver passes.
  runDeployDriverConformance(
    "LocalDriver",
    async () => {
      const conformanceRoot = join(tmp, "conformance");
      return {
        driver: new LocalDriver({ root: conformanceRoot, logger, restart: RESTART, stopGraceMs: 5_000 }),
        server: localRecord(),
        project: {
          projectId: randomUUID(),
          slug: "conformance-service",
          // The first commit: the rendered template as it is (later ones were made to fail).
          commit: await git(work, "rev-list", "--max-parents=0", "HEAD"),
          source: { url: bare, env: {} },
          manifest,
        },
        freePort,
        cleanup: async () => rm(conformanceRoot, { recursive: true, force: true }),
      };
    },
    { buildMs: BUILD_MS, startMs: 60_000 },
  );
});

/** This machine's server record, as the engine allocates it to local deploys. */
function localRecord(): Server {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    handle: LOCAL_SERVER,
    host: "127.0.0.1",
    sshPort: 22,
    sshUser: "root",
    hasSshKey: false,
    capacity: null,
    status: "ready",
    lastHealthCheckAt: null,
    lastError: null,
    createdAt: now,
    updatedAt: now,
  };
}
