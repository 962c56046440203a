// bench/deploy: the time from a green commit to a passing health gate with the `local` driver. One
// project is built once by an engineering run with the scripted agent (`demoPlaybook()`), giving a
// green commit C0. Each of N rounds pushes a new commit Ci (the hello message changes, so a fresh
// release must be built), then `deploy.start` of Ci is timed to its run's `succeeded`, with each
// stage timed from the run's own events; right after, in the same process, the floor: a plain
// `git clone` of Ci, then the manifest's install, build and start commands run directly, polling
// GET /health until 200 (the driver's work without the pipeline). Printed as ratios to that floor.
//   npm run bench:deploy -- [--runs N]      (N=3 by default)
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Run } from "../src/contracts/index.js";
import { buildEnv, hostPath } from "../src/deploy/drivers/local/child-command.js";
import { demoPlaybook } from "../src/engine/index.js";
import { basicAuthEnv } from "../src/git/index.js";
import { type EngineHarness, startEngineHarness } from "../test/support/engine-harness.js";
import { freePort } from "../test/support/ports.js";
import { runsFromArgs, stageTimings } from "./runs.js";
import { printTable, spreadRow, timed, versusRow } from "./stats.js";

const exec = promisify(execFile);
const STAGES = ["allocate", "environment", "readiness", "deploy", "smoke"] as const;
const INSTALL_TIMEOUT_MS = 180_000;
const BUILD_TIMEOUT_MS = 120_000;
const HEALTH_POLL_MS = 100;
const HEALTH_DEADLINE_MS = 30_000;
const DEPLOY_DEADLINE_MS = 300_000;

interface Floor {
  clone: number;
  install: number;
  build: number;
  /** Spawn of the start command -> the first 200 from GET /health. */
  healthy: number;
  floor: number;
}

interface Round extends Floor {
  /** Milliseconds per stage, summed over the stage's visits. */
  stages: Map<string, number>;
  /** run.createdAt -> the first stage: queueing, lease and graph start. */
  queued: number;
  /** Just before the `deploy.start` call -> run.finishedAt (the wall time a caller waits). */
  total: number;
}

const ms = (iso: string) => Date.parse(iso);
const sleep = (delay: number) => new Promise((resolve) => setTimeout(resolve, delay));

/** A clone of the project's repository to push rounds' commits from (as a developer would). */
async function developerClone(h: EngineHarness, slug: string, dir: string) {
  const env = {
    ...process.env,
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: "bench",
    GIT_AUTHOR_EMAIL: "bench@example.invalid",
    GIT_COMMITTER_NAME: "bench",
    GIT_COMMITTER_EMAIL: "bench@example.invalid",
    ...basicAuthEnv(h.adminToken),
  };
  await exec("git", ["clone", "--quiet", `${h.url}/git/${slug}.git`, dir], { env });
  /** Changes the hello message to one of round `round`, commits and pushes; returns the commit. */
  return async (round: number): Promise<string> => {
    const file = join(dir, "src/routes.ts");
    const text = await readFile(file, "utf8");
    const hello = /Hello(?: from round \d+)?, /;
    if (!hello.test(text)) throw new Error(`no hello message in ${file}`);
    await writeFile(file, text.replace(hello, `Hello from round ${round}, `));
    await exec("git", ["commit", "--quiet", "-am", `Round ${round}: say hello from round ${round}`], {
      cwd: dir,
      env,
    });
    await exec("git", ["push", "--quiet", "origin", "HEAD:main"], { cwd: dir, env });
    return (await exec("git", ["rev-parse", "HEAD"], { cwd: dir })).stdout.trim();
  };
}

/** Polls GET `url` every HEALTH_POLL_MS until it answers 200; throws if `exited` or at the deadline. */
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

/** Starts the manifest's start command with PORT set, times it to a 200 from /health, then kills it. */
async function startUntilHealthy(
  argv: string[],
  cwd: string,
  env: Record<string, string>,
  url: string,
): Promise<number> {
  const [program, ...args] = argv;
  const started = performance.now();
  const child = spawn(program as string, args, { cwd, env, detached: true, stdio: "ignore" });
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
    await untilHealthy(url, () => exit);
    return performance.now() - started;
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
}

/**
 * The floor: what the driver does for a release, run directly. A plain clone of the commit over
 * git HTTP, then the manifest's install and build commands with the driver's build environment,
 * whose HOME is `home`: the floor's own npm cache, kept across rounds as the driver keeps its
 * per-project one. Then the start command on a free port until GET /health answers 200.
 */
async function floorOf(h: EngineHarness, slug: string, commit: string, home: string): Promise<Floor> {
  const scratch = await mkdtemp(join(tmpdir(), "bench-deploy-floor-"));
  try {
    const dir = join(scratch, "checkout");
    const gitEnv = { ...process.env, GIT_TERMINAL_PROMPT: "0" };
    const clone = await timed(async () => {
      await exec("git", ["clone", "--quiet", `${h.url}/git/${slug}.git`, dir], {
        env: { ...gitEnv, ...basicAuthEnv(h.adminToken) },
      });
      await exec("git", ["checkout", "--quiet", "--detach", commit], { cwd: dir, env: gitEnv });
    });
    const manifest = JSON.parse(await readFile(join(dir, "orchestrator.json"), "utf8")) as {
      commands: { install: string[]; build?: string[]; start: string[] };
      healthCheck: { kind: string; path?: string };
    };
    if (manifest.healthCheck.kind !== "http") throw new Error("the floor needs an HTTP health check");
    const env = buildEnv(home);
    const run = ([cmd, ...args]: string[], timeout: number) =>
      exec(cmd as string, args, { cwd: dir, env, timeout, maxBuffer: 64 * 1024 * 1024 });
    const install = await timed(() => run(manifest.commands.install, INSTALL_TIMEOUT_MS));
    const build = manifest.commands.build
      ? await timed(() => run(manifest.commands.build as string[], BUILD_TIMEOUT_MS))
      : 0;
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const healthy = await startUntilHealthy(
      manifest.commands.start,
      dir,
      { PATH: hostPath(), PORT: String(port), APP_ENV: h.devopsDeps.appEnv, PUBLIC_URL: base },
      `${base}${manifest.healthCheck.path ?? "/health"}`,
    );
    return { clone, install, build, healthy, floor: clone + install + build + healthy };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

const N = runsFromArgs(process.argv.slice(2), "bench/deploy.ts");
const rounds: Round[] = [];
let failure: string | null = null;
const scratch = await mkdtemp(join(tmpdir(), "bench-deploy-"));
const floorHome = join(scratch, "floor-home");
const h = await startEngineHarness({ deployOnGreen: false });
try {
  h.setPlaybook(demoPlaybook());
  const slug = "bench-deploy";
  const project = await h.store.projects.create({ name: slug, slug, description: "bench/deploy" });
  const engineering = await h.waitForEnd(
    (await h.start({ projectId: project.id, brief: "A web service that tells the time." })).id,
  );
  const green = (engineering.result as { commit?: string } | null)?.commit;
  if (engineering.status !== "succeeded" || !green) {
    throw new Error(
      `the engineering run ${engineering.id} ended ${engineering.status}: ${JSON.stringify(engineering.error)}`,
    );
  }
  console.error(`green commit C0 ${green.slice(0, 12)} from engineering run ${engineering.id}`);
  const push = await developerClone(h, slug, join(scratch, "developer"));
  for (let i = 1; i <= N; i++) {
    const commit = await push(i);
    const called = Date.now();
    const queued = await h.tool<Run>("deploy.start", { projectId: project.id, commit });
    const done = await h.waitForEnd(queued.id, DEPLOY_DEADLINE_MS);
    if (done.status !== "succeeded" || !done.finishedAt) {
      failure = `round ${i}: deploy run ${done.id} of ${commit.slice(0, 12)} ended ${done.status}: ${JSON.stringify(done.error)}`;
      break;
    }
    const timings = await stageTimings(h.store, done);
    const total = ms(done.finishedAt) - called;
    let floor: Floor;
    try {
      floor = await floorOf(h, slug, commit, floorHome);
    } catch (error) {
      console.error(`round ${i}: the floor failed, left out of the ratios: ${String(error)}`);
      floor = {
        clone: Number.NaN,
        install: Number.NaN,
        build: Number.NaN,
        healthy: Number.NaN,
        floor: Number.NaN,
      };
    }
    rounds.push({ ...timings, total, ...floor });
    console.error(
      `round ${i}/${N}: C${i} ${commit.slice(0, 12)} deploy ${Math.round(total)} ms, floor ${Math.round(floor.floor)} ms`,
    );
  }
} finally {
  await h.close();
  await rm(scratch, { recursive: true, force: true });
}

if (rounds.length > 0) {
  const spread = spreadRow;
  const of = (pick: (r: Round) => number) => rounds.map(pick);
  const stage = (r: Round, s: string) => r.stages.get(s) ?? Number.NaN;
  // Each round's deploy is divided by the floor measured right after it, then the median is taken.
  const versus = (label: string, pick: (r: Round) => number) => versusRow(label, rounds, pick);

  console.log(
    `\nbench/deploy: ${rounds.length} round(s) of deploy.start of a new commit of one web-service project ` +
      "(demoPlaybook()), driver local (times in ms)\n",
  );
  printTable(
    ["measure", "median", "min", "max"],
    [
      spread(
        "queued (created -> allocate)",
        of((r) => r.queued),
      ),
      ...STAGES.map((s) =>
        spread(
          `stage ${s}`,
          of((r) => stage(r, s)),
        ),
      ),
      spread(
        "total deploy (deploy.start -> succeeded)",
        of((r) => r.total),
      ),
      spread(
        "floor: git clone + checkout",
        of((r) => r.clone),
      ),
      spread(
        "floor: install",
        of((r) => r.install),
      ),
      spread(
        "floor: build",
        of((r) => r.build),
      ),
      spread(
        "floor: start -> /health 200",
        of((r) => r.healthy),
      ),
      spread(
        "floor (clone+install+build+start)",
        of((r) => r.floor),
      ),
    ],
  );
  console.log("");
  printTable(
    ["measure", "median", "floor median", "ratio (median of per-round deploy/floor)"],
    [
      versus("stages deploy + smoke", (r) => stage(r, "deploy") + stage(r, "smoke")),
      versus("total deploy", (r) => r.total),
    ],
  );
  console.log(
    "\nstage times: between consecutive run.stage_changed events (the last stage ends at run.finishedAt);" +
      "\ntotal deploy: from just before the deploy.start call to the run's finishedAt (same clock);" +
      `\nthe health gate polls every ${h.devopsDeps.gate.intervalMs} ms, the floor every ${HEALTH_POLL_MS} ms;` +
      "\nfloor: plain git clone of the commit over HTTP, then orchestrator.json's install and build commands" +
      "\nrun directly with the driver's build environment, then its start command on a free port until" +
      "\nGET /health answers 200, right after each deploy. npm cache: the driver keeps a per-project one" +
      "\nacross releases; the floor has its own HOME, kept across rounds too (both cold in round 1)\n",
  );
}
console.log("driver ssh-compose: not measured (not wired into this bench yet)");

if (failure) {
  console.error(`bench/deploy: a deploy did not succeed: ${failure}`);
  process.exitCode = 1;
}
