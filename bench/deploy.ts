// bench/deploy: the time from a green commit to a passing health gate, for each deploy driver. Per
// driver, one project is built once by an engineering run with the scripted agent (`demoPlaybook()`),
// giving a green commit C0. Each of N rounds pushes a new commit Ci (the hello message changes, so a
// fresh release must be built), then `deploy.start` of Ci is timed to its run's `succeeded`, each
// stage timed from the run's own events; right after, in the same process, the floor: the driver's
// work done by hand (bench/deploy-floors.ts). Printed as ratios to that floor.
//   local:       clone, install, build, start command until GET /health is 200
//   ssh-compose: the "server" is 127.0.0.1 over a private sshd with a private dockerd (as in the
//                test suite); floor: clone, `docker build --no-cache` of the driver's Dockerfile,
//                `docker run` until GET /health is 200 (no SSH, no Compose)
//   npm run bench:deploy -- [--runs N] [--driver local|ssh-compose]   (N=3, both drivers by default)
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Run, Server } from "../src/contracts/index.js";
import { demoPlaybook } from "../src/demo/index.js";
import type { DeployDriverKind } from "../src/deploy/index.js";
import { startDeployTarget } from "../test/support/deploy-target.js";
import { type EngineHarness, startEngineHarness } from "../test/support/engine-harness.js";
import { gitEnv } from "../test/support/git.js";
import { type Floor, HEALTH_POLL_MS, localFloor, sshComposeFloor } from "./deploy-floors.js";
import { runsFromArgs, stageTimings } from "./runs.js";
import { printTable, spreadRow, versusRow } from "./stats.js";
import { recordSummary, versusSummary } from "./summary.js";

const exec = promisify(execFile);
const STAGES = ["allocate", "environment", "readiness", "deploy", "start", "smoke"] as const;
const DEPLOY_DEADLINE_MS = 600_000;

interface Round extends Floor {
  /** Milliseconds per stage, summed over the stage's visits. */
  stages: Map<string, number>;
  /** run.createdAt -> the first stage: queueing, lease and graph start. */
  queued: number;
  /** Just before the `deploy.start` call -> run.finishedAt (the wall time a caller waits). */
  total: number;
}

/** One driver's setup: the harness deploying with it, the floor of a commit, and what to stop. */
interface Bench {
  h: EngineHarness;
  floorOf(commit: string, slug: string): Promise<Floor>;
  close(): Promise<void>;
}

const ms = (iso: string) => Date.parse(iso);

/** A clone of the project's repository to push rounds' commits from (as a developer would). */
async function developerClone(h: EngineHarness, slug: string, dir: string) {
  const env = gitEnv(h.adminToken);
  await exec("git", ["clone", "--quiet", `${h.url}/git/${slug}.git`, dir], { env });
  /** Changes the hello message to one of round `round`, commits and pushes; returns the commit. */
  return async (round: number): Promise<string> => {
    const file = join(dir, "src/routes/api.ts");
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

async function localBench(scratch: string): Promise<Bench> {
  const h = await startEngineHarness({ deployOnGreen: false });
  const home = join(scratch, "floor-home");
  return {
    h,
    floorOf: (commit, slug) =>
      localFloor({ url: h.url, slug, adminToken: h.adminToken, appEnv: h.devopsDeps.appEnv }, commit, home),
    close: () => h.close(),
  };
}

async function sshComposeBench(scratch: string): Promise<Bench> {
  const target = await startDeployTarget();
  const h = await startEngineHarness({
    deployOnGreen: false,
    ...target.harnessOptions(join(scratch, "srv")),
  });
  const { sshd, dockerd } = target;
  const { server } = await h.tool<{ server: Server }>("server.register", {
    handle: "loopback",
    host: sshd.host,
    sshPort: sshd.port,
    sshUser: sshd.user,
    privateKey: sshd.privateKey,
  });
  if (server.status !== "ready") throw new Error(`server not ready: ${server.lastError}`);
  return {
    h,
    floorOf: (commit, slug) =>
      sshComposeFloor({ url: h.url, slug, adminToken: h.adminToken, appEnv: h.devopsDeps.appEnv }, commit, {
        host: dockerd.socket,
        baseImage: target.baseImage,
        buildNetwork: target.buildNetwork,
      }),
    async close() {
      await h.close();
      await target.stop();
    },
  };
}

/** N rounds of deploy.start of a new commit with one driver, each followed by its floor. */
async function measure(
  kind: DeployDriverKind,
  n: number,
): Promise<{ rounds: Round[]; failure: string | null }> {
  const rounds: Round[] = [];
  let failure: string | null = null;
  const scratch = await mkdtemp(join(tmpdir(), `bench-deploy-${kind}-`));
  const bench = kind === "local" ? await localBench(scratch) : await sshComposeBench(scratch);
  const { h } = bench;
  try {
    h.setPlaybook(demoPlaybook());
    const slug = `bench-${kind}`;
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
    console.error(`${kind}: green commit C0 ${green.slice(0, 12)} from engineering run ${engineering.id}`);
    const push = await developerClone(h, slug, join(scratch, "developer"));
    for (let i = 1; i <= n; i++) {
      const commit = await push(i);
      const called = Date.now();
      const queued = await h.tool<Run>("deploy.start", { projectId: project.id, commit });
      const done = await h.waitForEnd(queued.id, DEPLOY_DEADLINE_MS);
      if (done.status !== "succeeded" || !done.finishedAt) {
        failure = `${kind} round ${i}: deploy run ${done.id} of ${commit.slice(0, 12)} ended ${done.status}: ${JSON.stringify(done.error)}`;
        break;
      }
      const timings = await stageTimings(h.store, done);
      const total = ms(done.finishedAt) - called;
      let floor: Floor;
      try {
        floor = await bench.floorOf(commit, slug);
      } catch (error) {
        console.error(`${kind} round ${i}: the floor failed, left out of the ratios: ${String(error)}`);
        floor = { steps: new Map(), floor: Number.NaN };
      }
      rounds.push({ ...timings, total, ...floor });
      console.error(
        `${kind} round ${i}/${n}: C${i} ${commit.slice(0, 12)} deploy ${Math.round(total)} ms, floor ${Math.round(floor.floor)} ms`,
      );
    }
  } finally {
    await bench.close();
    await rm(scratch, { recursive: true, force: true });
  }
  return { rounds, failure };
}

function report(kind: DeployDriverKind, rounds: Round[]): void {
  const of = (pick: (r: Round) => number) => rounds.map(pick);
  const stage = (r: Round, s: string) => r.stages.get(s) ?? Number.NaN;
  const steps = [...new Set(rounds.flatMap((r) => [...r.steps.keys()]))];
  console.log(
    `\nbench/deploy: ${rounds.length} round(s) of deploy.start of a new commit of one web-service project ` +
      `(demoPlaybook()), driver ${kind} (times in ms)\n`,
  );
  printTable(
    ["measure", "median", "min", "max"],
    [
      spreadRow(
        "queued (created -> allocate)",
        of((r) => r.queued),
      ),
      ...STAGES.map((s) =>
        spreadRow(
          `stage ${s}`,
          of((r) => stage(r, s)),
        ),
      ),
      spreadRow(
        "total deploy (deploy.start -> succeeded)",
        of((r) => r.total),
      ),
      ...steps.map((s) =>
        spreadRow(
          `floor: ${s}`,
          of((r) => r.steps.get(s) ?? Number.NaN),
        ),
      ),
      spreadRow(
        "floor (sum)",
        of((r) => r.floor),
      ),
    ],
  );
  console.log("");
  printTable(
    ["measure", "median", "floor median", "ratio (median of per-round deploy/floor)"],
    [
      versusRow(
        "stages deploy + start + smoke",
        rounds,
        (r) => stage(r, "deploy") + stage(r, "start") + stage(r, "smoke"),
      ),
      versusRow("total deploy", rounds, (r) => r.total),
    ],
  );
}

const args = process.argv.slice(2);
const at = args.findIndex((a) => a === "--driver" || a.startsWith("--driver="));
let drivers: DeployDriverKind[] = ["local", "ssh-compose"];
if (at >= 0) {
  const arg = args[at] as string;
  const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : (args[at + 1] ?? "");
  args.splice(at, arg.includes("=") ? 1 : 2);
  if (value !== "local" && value !== "ssh-compose") {
    throw new Error(`--driver must be local or ssh-compose, not ${JSON.stringify(value)}`);
  }
  drivers = [value];
}
const n = runsFromArgs(args, "bench/deploy.ts [--driver local|ssh-compose]");
const failures: string[] = [];
for (const kind of drivers) {
  const { rounds, failure } = await measure(kind, n);
  if (rounds.length > 0) {
    report(kind, rounds);
    await recordSummary([
      versusSummary(
        {
          bench: "deploy",
          measure: `green commit -> live, ${kind} driver`,
          unit: "ms",
          baselineLabel:
            kind === "local"
              ? "clone, install, build, start until /health"
              : "clone, docker build, docker run until /health",
        },
        rounds,
        (r) => r.total,
      ),
    ]);
  }
  if (failure) failures.push(failure);
}
console.log(
  "\nstage times: between consecutive run.stage_changed events (the last stage ends at run.finishedAt);" +
    "\ntotal deploy: from just before the deploy.start call to the run's finishedAt (same clock);" +
    `\nthe health gate polls every 500 ms, the floors every ${HEALTH_POLL_MS} ms; each floor runs right after` +
    "\nits round's deploy. local: the driver keeps a per-project npm cache across releases, the floor its own" +
    "\nHOME across rounds (both cold in round 1). ssh-compose: the driver builds through sshd and Compose v1" +
    "\nwith the engine's layer cache; the floor builds with --no-cache (the same commit was just built)\n",
);
if (failures.length > 0) {
  for (const failure of failures) console.error(`bench/deploy: a deploy did not succeed: ${failure}`);
  process.exitCode = 1;
}
