// The floors of bench/deploy: what each driver does for a release, done by hand in the same run.
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { TEMPLATE_MANIFEST_FILE, type TemplateManifest } from "../src/contracts/index.js";
import { buildEnv, DOCKERIGNORE, dockerfileText, hostPath } from "../src/deploy/index.js";
import { basicAuthEnv } from "../src/git/index.js";
import { parseManifest } from "../src/templates/index.js";
import { freePort } from "../test/support/ports.js";
import { timed } from "./stats.js";

const exec = promisify(execFile);
const INSTALL_TIMEOUT_MS = 180_000;
const BUILD_TIMEOUT_MS = 300_000;
export const HEALTH_POLL_MS = 100;
const HEALTH_DEADLINE_MS = 60_000;

/** Milliseconds per step (in order) and their sum. */
export interface Floor {
  steps: Map<string, number>;
  floor: number;
}

/** Where the floor fetches the commit from: the API's git endpoint with the admin token. */
export interface FloorSource {
  url: string;
  slug: string;
  adminToken: string;
  appEnv: string;
}

const sleep = (delay: number) => new Promise((resolve) => setTimeout(resolve, delay));

/** Polls GET `url` every HEALTH_POLL_MS until it answers 200; throws if `exited` says so or at the deadline. */
async function untilHealthy(url: string, exited: () => string | null): Promise<void> {
  const until = Date.now() + HEALTH_DEADLINE_MS;
  for (;;) {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) }).catch(() => null);
    await res?.body?.cancel();
    if (res?.status === 200) return;
    const why = exited();
    if (why) throw new Error(`the service exited before its health check passed: ${why}`);
    if (Date.now() > until) throw new Error(`${url} not 200 within ${HEALTH_DEADLINE_MS} ms`);
    await sleep(HEALTH_POLL_MS);
  }
}

/** A plain clone of `commit` over git HTTP into `dir`, and the manifest there. */
async function checkout(source: FloorSource, commit: string, dir: string): Promise<TemplateManifest> {
  const gitEnv = { ...process.env, GIT_TERMINAL_PROMPT: "0" };
  await exec("git", ["clone", "--quiet", `${source.url}/git/${source.slug}.git`, dir], {
    env: { ...gitEnv, ...basicAuthEnv(source.adminToken) },
  });
  await exec("git", ["checkout", "--quiet", "--detach", commit], { cwd: dir, env: gitEnv });
  const manifest = parseManifest(
    JSON.parse(await readFile(join(dir, TEMPLATE_MANIFEST_FILE), "utf8")),
    "floor",
  );
  if (manifest.healthCheck.kind !== "http") throw new Error("the floor needs an HTTP health check");
  return manifest;
}

/** `checkout`, timed as the step "git clone + checkout". */
async function timedCheckout(
  source: FloorSource,
  commit: string,
  dir: string,
  steps: Map<string, number>,
): Promise<TemplateManifest> {
  const started = performance.now();
  const manifest = await checkout(source, commit, dir);
  steps.set("git clone + checkout", performance.now() - started);
  return manifest;
}

async function withScratch<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const scratch = await mkdtemp(join(tmpdir(), "bench-deploy-floor-"));
  try {
    return await fn(scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function total(steps: Map<string, number>): Floor {
  return { steps, floor: [...steps.values()].reduce((a, b) => a + b, 0) };
}

/**
 * The `local` driver's work by hand: clone, the manifest's install and build commands with the
 * driver's build environment (HOME `home`: the floor's own npm cache, kept across rounds as the
 * driver keeps its per-project one), then its start command on a free port until GET /health is 200.
 */
export function localFloor(source: FloorSource, commit: string, home: string): Promise<Floor> {
  return withScratch(async (scratch) => {
    const dir = join(scratch, "checkout");
    const steps = new Map<string, number>();
    const { commands, healthCheck } = await timedCheckout(source, commit, dir, steps);
    const env = buildEnv(home);
    const run = ([cmd, ...args]: string[], timeout: number) =>
      exec(cmd as string, args, { cwd: dir, env, timeout, maxBuffer: 64 * 1024 * 1024 });
    steps.set("install", await timed(() => run(commands.install, INSTALL_TIMEOUT_MS)));
    const build = commands.build;
    steps.set("build", build ? await timed(() => run(build, BUILD_TIMEOUT_MS)) : 0);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const path = healthCheck.kind === "http" ? healthCheck.path : "/health";
    const [program, ...args] = commands.start;
    const started = performance.now();
    const child = spawn(program as string, args, {
      cwd: dir,
      env: { PATH: hostPath(), PORT: String(port), APP_ENV: source.appEnv, PUBLIC_URL: base },
      detached: true,
      stdio: "ignore",
    });
    let exit: string | null = null;
    const gone = new Promise<void>((resolve) => {
      child.once("error", (error) => {
        exit = error.message;
        resolve();
      });
      child.once("exit", (code, signal) => {
        exit = `exit code ${code}${signal ? `, signal ${signal}` : ""}`;
        resolve();
      });
    });
    try {
      await untilHealthy(`${base}${path}`, () => exit);
      steps.set("start -> /health 200", performance.now() - started);
    } finally {
      if (child.pid !== undefined && exit === null) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
        await gone;
      }
    }
    return total(steps);
  });
}

/**
 * The `ssh-compose` driver's work by hand on the same engine, without SSH or Compose: clone, the
 * driver's own generated Dockerfile over the commit's files, `docker build --no-cache` (the
 * driver's build of the same commit just ran: its layers would otherwise make the floor free),
 * `docker run` publishing a free port until GET /health is 200; the container and image go after.
 */
export function sshComposeFloor(
  source: FloorSource,
  commit: string,
  docker: { host: string; baseImage: string; buildNetwork: string | null },
): Promise<Floor> {
  return withScratch(async (scratch) => {
    const dir = join(scratch, "checkout");
    const steps = new Map<string, number>();
    const found = await timedCheckout(source, commit, dir, steps);
    const context = join(scratch, "context");
    await mkdir(join(context, "app"), { recursive: true });
    await exec("sh", ["-c", `git archive "$1" | tar -x -C "$2"`, "sh", commit, join(context, "app")], {
      cwd: dir,
    });
    const dockerfile = dockerfileText({
      baseImage: docker.baseImage,
      manifest: found,
      projectId: "00000000-0000-4000-8000-000000000000",
      releaseId: "floor",
      commit,
    });
    await writeFile(join(context, "Dockerfile"), dockerfile);
    await writeFile(join(context, ".dockerignore"), DOCKERIGNORE);
    const env = { ...process.env, DOCKER_HOST: docker.host };
    const image = `bench-deploy-floor:${commit.slice(0, 12)}`;
    const network = docker.buildNetwork ? ["--network", docker.buildNetwork] : [];
    steps.set(
      "docker build --no-cache",
      await timed(() =>
        exec("docker", ["build", "--no-cache", "--quiet", ...network, "-t", image, context], {
          env,
          timeout: BUILD_TIMEOUT_MS,
          maxBuffer: 64 * 1024 * 1024,
        }),
      ),
    );
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const path = found.healthCheck.kind === "http" ? found.healthCheck.path : "/health";
    let container = "";
    try {
      const started = performance.now();
      container = (
        await exec(
          "docker",
          [
            "run",
            "-d",
            "-p",
            `${port}:${port}`,
            "-e",
            `PORT=${port}`,
            "-e",
            `APP_ENV=${source.appEnv}`,
            image,
          ],
          { env },
        )
      ).stdout.trim();
      await untilHealthy(`${base}${path}`, () => null);
      steps.set("docker run -> /health 200", performance.now() - started);
    } finally {
      if (container) await exec("docker", ["rm", "-f", container], { env }).catch(() => undefined);
      await exec("docker", ["image", "rm", "-f", image], { env }).catch(() => undefined);
    }
    return total(steps);
  });
}
