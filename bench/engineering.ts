// bench/engineering: where the time of an engineering run goes. For each of N rounds, a fresh
// project is built from a brief by the scripted agent (`demoPlaybook()`) through the real pipeline
// (sandboxes, git over HTTP, the Tester), and each stage is timed from the run's own events; right
// after, in the same process, the floor: a plain `git clone` of the run's green commit from the
// forge, then the template's install, test and acceptance commands run directly (the Tester's work
// without the sandbox and the pipeline). Printed as ratios to that floor, since machines are noisy.
// Then the size of the first model request of an Architect and of a Developer turn, with the real
// `claude` CLI against the fake Anthropic API: as shipped (every built-in tool) and lean (each
// role's own tools), part by part (bench/agent-requests.ts).
//   npm run bench:engineering -- [--runs N]      (N=3 by default)
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Run } from "../src/contracts/index.js";
import { demoPlaybook } from "../src/demo/index.js";
import { basicAuthEnv } from "../src/git/index.js";
import { type EngineHarness, startEngineHarness } from "../test/support/engine-harness.js";
import { measureFirstRequests, printRequestTable } from "./agent-requests.js";
import { runsFromArgs, stageTimings } from "./runs.js";
import { printTable, spreadRow, timed, versusRow } from "./stats.js";
import { recordSummary, versusSummary } from "./summary.js";

const exec = promisify(execFile);
const STAGES = ["architect", "preparer", "developer", "tester"] as const;
const INSTALL_TIMEOUT_MS = 180_000;
const TEST_TIMEOUT_MS = 120_000;

interface Round {
  /** Milliseconds per stage, summed over the stage's visits (one each for a green first attempt). */
  stages: Map<string, number>;
  /** run.createdAt -> the first stage: queueing, lease and graph start. */
  queued: number;
  /** run.createdAt -> run.finishedAt. */
  total: number;
  /** The Tester's own `durationMs` (engineering.tested), summed over its verdicts. */
  testerVerdict: number;
  clone: number;
  install: number;
  test: number;
  acceptance: number;
  floor: number;
}

const ms = (iso: string) => Date.parse(iso);

/** Stage timings plus the Tester's own `durationMs` (engineering.tested), summed over its verdicts. */
async function timingsOf(h: EngineHarness, run: Run) {
  const { stages, queued, events } = await stageTimings(h.store, run);
  const testerVerdict = events
    .filter((e) => e.type === "engineering.tested")
    .reduce((sum, e) => sum + Number(e.data.durationMs ?? 0), 0);
  const finished = run.finishedAt ? ms(run.finishedAt) : Number.NaN;
  return { stages, queued, total: finished - ms(run.createdAt), testerVerdict };
}

/**
 * The floor: what the Tester does, run directly. A clone of the green commit over git HTTP, then
 * the template's install and test commands from its `orchestrator.json`. HOME is a fresh directory,
 * as in a Tester sandbox, so npm starts from an empty cache in both.
 */
async function floorOf(h: EngineHarness, slug: string, commit: string) {
  const scratch = await mkdtemp(join(tmpdir(), "bench-engineering-"));
  try {
    const dir = join(scratch, "checkout");
    const env = { ...process.env, HOME: join(scratch, "home"), GIT_TERMINAL_PROMPT: "0" };
    const clone = await timed(async () => {
      await exec("git", ["clone", "--quiet", `${h.url}/git/${slug}.git`, dir], {
        env: { ...env, ...basicAuthEnv(h.adminToken) },
      });
      await exec("git", ["checkout", "--quiet", "--detach", commit], { cwd: dir, env });
    });
    const manifest = JSON.parse(await readFile(join(dir, "orchestrator.json"), "utf8")) as {
      commands: { install: string[]; test: string[] };
      acceptance?: { test: string[] };
    };
    const run = ([cmd, ...args]: string[], timeout: number) =>
      exec(cmd as string, args, { cwd: dir, env, timeout, maxBuffer: 64 * 1024 * 1024 });
    const install = await timed(() => run(manifest.commands.install, INSTALL_TIMEOUT_MS));
    const test = await timed(() => run(manifest.commands.test, TEST_TIMEOUT_MS));
    // The Tester runs the acceptance tests too (from the prepared copy, here the same files).
    const acceptanceCommand = manifest.acceptance?.test;
    const acceptance = acceptanceCommand ? await timed(() => run(acceptanceCommand, TEST_TIMEOUT_MS)) : 0;
    return { clone, install, test, acceptance, floor: clone + install + test + acceptance };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

const N = runsFromArgs(process.argv.slice(2), "bench/engineering.ts");
const rounds: Round[] = [];
let failure: string | null = null;
const h = await startEngineHarness();
try {
  h.setPlaybook(demoPlaybook());
  for (let i = 1; i <= N; i++) {
    const slug = `bench-engineering-${i}`;
    const project = await h.store.projects.create({ name: slug, slug, description: "bench/engineering" });
    const queued = await h.start({ projectId: project.id, brief: "A web service that tells the time." });
    const done = await h.waitForEnd(queued.id);
    const commit = (done.result as { commit?: string } | null)?.commit;
    if (done.status !== "succeeded" || !commit) {
      failure = `round ${i}: run ${done.id} ended ${done.status}: ${JSON.stringify(done.error)}`;
      break;
    }
    const timings = await timingsOf(h, done);
    const floor = await floorOf(h, slug, commit);
    rounds.push({ ...timings, ...floor });
    console.error(
      `round ${i}/${N}: run ${Math.round(timings.total)} ms, floor ${Math.round(floor.floor)} ms`,
    );
  }
} finally {
  await h.close();
}

if (rounds.length > 0) {
  const spread = spreadRow;
  const of = (pick: (r: Round) => number) => rounds.map(pick);
  const floors = of((r) => r.floor);
  // Each round's run is divided by the floor measured right after it, then the median is taken.
  const versus = (label: string, pick: (r: Round) => number) => versusRow(label, rounds, pick);

  console.log(
    `\nbench/engineering: ${rounds.length} round(s) of a fresh-project run with demoPlaybook(), ` +
      "scripted agent (no model), process runtime (times in ms)\n",
  );
  printTable(
    ["measure", "median", "min", "max"],
    [
      spread(
        "queued (created -> architect)",
        of((r) => r.queued),
      ),
      ...STAGES.map((s) =>
        spread(
          `stage ${s}`,
          of((r) => r.stages.get(s) ?? Number.NaN),
        ),
      ),
      spread(
        "total run (created -> finished)",
        of((r) => r.total),
      ),
      spread(
        "tester verdict durationMs",
        of((r) => r.testerVerdict),
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
        "floor: test",
        of((r) => r.test),
      ),
      spread(
        "floor: acceptance",
        of((r) => r.acceptance),
      ),
      spread("floor (clone+install+test+acceptance)", floors),
    ],
  );
  console.log("");
  printTable(
    ["measure", "median", "floor median", "ratio (median of per-round run/floor)"],
    [
      versus("stage tester", (r) => r.stages.get("tester") ?? Number.NaN),
      versus("tester verdict durationMs", (r) => r.testerVerdict),
      versus("total run", (r) => r.total),
    ],
  );
  await recordSummary([
    versusSummary(
      {
        bench: "engineering",
        measure: "brief -> green, scripted agent (demo playbook)",
        unit: "ms",
        baselineLabel: "clone, install, test, acceptance by hand",
      },
      rounds,
      (r) => r.total,
    ),
  ]);
  console.log(
    "\nstage times: between consecutive run.stage_changed events (the last stage ends at run.finishedAt);" +
      "\nfloor: plain git clone of the green commit over HTTP, then orchestrator.json's install, test and" +
      "\nacceptance commands run directly in a fresh HOME (no sandbox, no pipeline), right after each run\n",
  );
}

try {
  // Deterministic sizes: one run per configuration is enough.
  const shipped = await measureFirstRequests(false);
  const lean = await measureFirstRequests(true);
  printRequestTable(shipped, lean);
} catch (error) {
  failure ??= `first requests: ${error instanceof Error ? error.message : String(error)}`;
}

if (failure) {
  console.error(`bench/engineering: a run did not succeed: ${failure}`);
  process.exitCode = 1;
}
