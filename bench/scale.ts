// bench/scale: many projects in flight at once in the distributed mode, with one and with two engine
// replicas. Per arm, on a fresh PostgreSQL and Redis: one `serve --roles api`, one
// `serve --roles workers` (process runtime, the scripted agent playing bench/scale-playbook.ts), and
// 1 or 2 `serve --roles engine`; the Architect and Developer configs are set to the scripted agent,
// then every project's brief is submitted at once. Reported: projects to green per minute, p50/p95
// time to green (run created -> finished), and a check that no run was lost or duplicated (each
// project has exactly one engineering run, which reached a terminal state with exactly one terminal
// run.status_changed event). The ratio is the 2-replica throughput over the 1-replica one.
// No deploy: DEPLOY_DRIVER=ssh-compose with no server registered, so each green run's deploy ends at
// once in its first stage (a live local release per project would not fit). Needs `npm run build`.
//   npm run bench:scale -- [--projects 200] [--replicas 1,2] [--deadline-min 10]
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import {
  distributedEnv,
  type RunningCli,
  START_DEADLINE_MS,
  startCli,
  waitForHealth,
} from "../test/support/cli.js";
import { freePort } from "../test/support/ports.js";
import { startPostgres } from "../test/support/postgres.js";
import { terminate } from "../test/support/processes.js";
import { startRedis } from "../test/support/redis.js";
import { scalePlaybook } from "./scale-playbook.js";
import { percentile, printTable } from "./stats.js";
import { recordSummary } from "./summary.js";

const TERMINAL = ["succeeded", "failed", "blocked", "cancelled"] as const;
const POLL_MS = 1_000;
const STOP_GRACE_MS = 20_000;
/** Engines look for queued runs nobody took this often (the default, 15 s, would pace the bench). */
const RECOVERY_INTERVAL = "1s";
/** How long runs cancelled at the deadline have to end. */
const CANCEL_DEADLINE_MS = 120_000;
const BRIEF = "A service that answers ping with pong.";

interface Options {
  projects: number;
  replicas: number[];
  deadlineMs: number;
}

function optionsFromArgs(argv: string[]): Options {
  const options: Options = { projects: 200, replicas: [1, 2], deadlineMs: 10 * 60_000 };
  const usage = "usage: tsx bench/scale.ts [--projects N] [--replicas 1,2] [--deadline-min M]";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes("=") ? arg.split("=", 2) : [arg, undefined];
    const value = inline ?? argv[++i] ?? "";
    const numbers = value.split(",").map(Number);
    if (!numbers.every((n) => Number.isFinite(n) && n > 0)) {
      throw new Error(`${flag} takes positive numbers, not ${JSON.stringify(value)}; ${usage}`);
    }
    if (flag === "--projects" && Number.isInteger(numbers[0])) options.projects = numbers[0] as number;
    else if (flag === "--replicas" && numbers.every(Number.isInteger)) options.replicas = numbers;
    else if (flag === "--deadline-min") options.deadlineMs = (numbers[0] as number) * 60_000;
    else throw new Error(`bad argument ${arg}; ${usage}`);
  }
  return options;
}

/** One engineering run as the database has it, with its terminal events counted. */
interface RunRow {
  projectId: string;
  runId: string;
  status: string;
  createdMs: number;
  finishedMs: number | null;
  terminalEvents: number;
}

/** What one arm measured. */
interface Arm {
  replicas: number;
  projects: number;
  runs: RunRow[];
  /** Projects without exactly one engineering run in a terminal state with one terminal event. */
  problems: string[];
  /** Runs cancelled when the deadline came (not finished in time). */
  cancelledAtDeadline: number;
  /** First run created -> last run finished (or the deadline, when it came first), in minutes. */
  spanMin: number;
  succeeded: number;
  perMinute: number;
  p50Ms: number;
  p95Ms: number;
  /** Runs seen executing, per engine process (by the lease owner's pid). */
  runsPerEngine: Map<string, Set<string>>;
  /** Median milliseconds per stage over the green runs (queued: created -> first stage). */
  stageMedians: Map<string, number>;
}

/** Milliseconds per stage of each run, from consecutive run.stage_changed events (queued first). */
async function stageDurations(db: pg.Client): Promise<Map<string, number[]>> {
  const { rows } = await db.query<{
    run_id: string;
    stage: string;
    at: Date;
    created_at: Date;
    finished_at: Date;
  }>(
    `SELECT e.run_id, e.data->>'stage' AS stage, e.at, r.created_at, r.finished_at
       FROM run_events e JOIN runs r ON r.id = e.run_id
      WHERE r.kind = 'engineering' AND r.status = 'succeeded' AND e.type = 'run.stage_changed'
      ORDER BY e.run_id, e.seq`,
  );
  const perRun = new Map<string, typeof rows>();
  for (const row of rows) perRun.set(row.run_id, [...(perRun.get(row.run_id) ?? []), row]);
  const out = new Map<string, number[]>();
  const add = (stage: string, ms: number) => out.set(stage, [...(out.get(stage) ?? []), ms]);
  for (const events of perRun.values()) {
    const first = events[0];
    if (first) add("queued", first.at.getTime() - first.created_at.getTime());
    events.forEach((e, i) => {
      const end = events[i + 1]?.at ?? e.finished_at;
      add(e.stage, end.getTime() - e.at.getTime());
    });
  }
  return out;
}

async function readRuns(db: pg.Client): Promise<RunRow[]> {
  const { rows } = await db.query<{
    project_id: string;
    id: string;
    status: string;
    created_at: Date;
    finished_at: Date | null;
    terminal_events: string;
  }>(
    `SELECT r.project_id, r.id, r.status, r.created_at, r.finished_at,
            (SELECT count(*) FROM run_events e
              WHERE e.run_id = r.id AND e.type = 'run.status_changed'
                AND e.data->>'to' = ANY($1)) AS terminal_events
       FROM runs r WHERE r.kind = 'engineering'`,
    [TERMINAL],
  );
  return rows.map((r) => ({
    projectId: r.project_id,
    runId: r.id,
    status: r.status,
    createdMs: r.created_at.getTime(),
    finishedMs: r.finished_at?.getTime() ?? null,
    terminalEvents: Number(r.terminal_events),
  }));
}

/** Each project's verdict: exactly one engineering run, terminal, with exactly one terminal event. */
function problemsOf(projectIds: readonly string[], runs: readonly RunRow[]): string[] {
  const byProject = new Map<string, RunRow[]>();
  for (const run of runs) byProject.set(run.projectId, [...(byProject.get(run.projectId) ?? []), run]);
  const problems: string[] = [];
  for (const id of projectIds) {
    const mine = byProject.get(id) ?? [];
    if (mine.length !== 1) {
      problems.push(`project ${id}: ${mine.length} engineering runs`);
      continue;
    }
    const run = mine[0] as RunRow;
    if (!(TERMINAL as readonly string[]).includes(run.status)) {
      problems.push(`run ${run.runId}: still ${run.status} (lost, or not finished by the deadline)`);
    } else if (run.terminalEvents !== 1) {
      problems.push(`run ${run.runId}: ${run.terminalEvents} terminal status events`);
    }
  }
  return problems;
}

async function api<T>(url: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T & { data?: T };
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return path.startsWith("/api/tools/") ? (json.data as T) : json;
}

/** Starts a role process and waits for its /health. */
async function startRole(
  roles: string,
  env: NodeJS.ProcessEnv,
  procs: RunningCli[],
): Promise<{ proc: RunningCli; url: string }> {
  const port = await freePort();
  const proc = startCli(["serve", "--roles", roles], { ...env, ORCHESTRATOR_PORT: String(port) });
  procs.push(proc);
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(`${url}/health`, START_DEADLINE_MS, proc);
  return { proc, url };
}

async function runArm(replicas: number, opts: Options): Promise<Arm> {
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const scratch = await mkdtemp(join(tmpdir(), `bench-scale-${replicas}-`));
  const procs: RunningCli[] = [];
  const db = new pg.Client({ connectionString: postgres.url });
  try {
    const playbook = join(scratch, "playbook.json");
    await writeFile(playbook, JSON.stringify(scalePlaybook()));
    const apiPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const env = distributedEnv(
      { databaseUrl: postgres.url, redisUrl: redis.url, apiUrl, dataDir: join(scratch, "shared") },
      {
        ENGINE_RECOVERY_INTERVAL: RECOVERY_INTERVAL,
        DEPLOY_DRIVER: "ssh-compose",
        LOG_LEVEL: "warn",
      },
    );
    const apiProc = startCli(["serve", "--roles", "api"], { ...env, ORCHESTRATOR_PORT: String(apiPort) });
    procs.push(apiProc);
    await waitForHealth(`${apiUrl}/health`, START_DEADLINE_MS, apiProc);
    const token = /orc_[A-Za-z0-9_-]{43}/.exec(apiProc.output())?.[0];
    if (!token) throw new Error(`the api printed no admin token:\n${apiProc.output()}`);
    for (const node of ["architect", "developer"]) {
      await api(apiUrl, token, "PATCH", `/api/agent-configs/${node}`, { backend: "scripted" });
    }
    await startRole(
      "workers",
      { ...env, ORCHESTRATOR_DATA_DIR: join(scratch, "workers"), SCRIPTED_PLAYBOOK: playbook },
      procs,
    );
    for (let i = 0; i < replicas; i++) await startRole("engine", env, procs);
    await db.connect();

    const projectIds: string[] = [];
    for (let i = 1; i <= opts.projects; i++) {
      const project = await api<{ id: string }>(apiUrl, token, "POST", "/api/projects", {
        name: `scale ${replicas} ${i}`,
      });
      projectIds.push(project.id);
    }
    console.error(`scale, ${replicas} engine(s): ${opts.projects} projects created; submitting every brief`);
    const submitted = Date.now();
    await Promise.all(
      projectIds.map((projectId) =>
        api(apiUrl, token, "POST", "/api/tools/engineering.start", { projectId, brief: BRIEF }),
      ),
    );

    const runsPerEngine = new Map<string, Set<string>>();
    let runs: RunRow[] = [];
    let lastReport = 0;
    let deadlineAt: number | null = null;
    for (;;) {
      runs = await readRuns(db);
      const { rows: leased } = await db.query<{ id: string; lease_owner: string }>(
        "SELECT id, lease_owner FROM runs WHERE kind = 'engineering' AND status = 'running' AND lease_owner IS NOT NULL",
      );
      for (const { id, lease_owner } of leased) {
        // The lease owner is `engine-<pid>-<random>`: one process, whatever it calls itself.
        const engine = lease_owner.split("-").slice(0, 2).join("-");
        runsPerEngine.set(engine, (runsPerEngine.get(engine) ?? new Set()).add(id));
      }
      const done = runs.filter((r) => (TERMINAL as readonly string[]).includes(r.status)).length;
      if (done >= opts.projects) break;
      if (deadlineAt === null && Date.now() - submitted > opts.deadlineMs) {
        // What is left is cancelled, so that every run still ends, once, before the check below.
        deadlineAt = Date.now();
        const open = runs.filter((r) => !(TERMINAL as readonly string[]).includes(r.status));
        console.error(
          `scale, ${replicas} engine(s): deadline reached with ${done}/${opts.projects} finished; cancelling ${open.length}`,
        );
        for (const run of open) {
          await api(apiUrl, token, "POST", "/api/tools/run.cancel", {
            runId: run.runId,
            reason: "bench/scale deadline",
          }).catch((error: unknown) => console.error(`could not cancel run ${run.runId}: ${String(error)}`));
        }
      }
      if (deadlineAt !== null && Date.now() - deadlineAt > CANCEL_DEADLINE_MS) {
        console.error(
          `scale, ${replicas} engine(s): runs still open ${CANCEL_DEADLINE_MS / 1000} s after cancelling`,
        );
        break;
      }
      if (Date.now() - lastReport > 30_000) {
        lastReport = Date.now();
        console.error(
          `scale, ${replicas} engine(s): ${done}/${opts.projects} finished after ${Math.round((Date.now() - submitted) / 1000)} s`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }

    const green = runs.filter((r) => r.status === "succeeded" && r.finishedMs !== null);
    const toGreen = green.map((r) => (r.finishedMs as number) - r.createdMs);
    const first = Math.min(...runs.map((r) => r.createdMs));
    const last =
      deadlineAt ?? Math.max(...runs.map((r) => r.finishedMs ?? Number.NaN).filter(Number.isFinite));
    const spanMin = (last - first) / 60_000;
    return {
      replicas,
      projects: opts.projects,
      runs,
      problems: problemsOf(projectIds, runs),
      cancelledAtDeadline: deadlineAt === null ? 0 : runs.filter((r) => r.status === "cancelled").length,
      spanMin,
      succeeded: green.length,
      perMinute: green.length / spanMin,
      p50Ms: percentile(toGreen, 50),
      p95Ms: percentile(toGreen, 95),
      runsPerEngine,
      stageMedians: new Map(
        [...(await stageDurations(db)).entries()].map(([stage, ms]) => [stage, percentile(ms, 50)]),
      ),
    };
  } finally {
    await db.end().catch(() => undefined);
    // Engines first (they hold runs), then workers and the API.
    for (const proc of [...procs].reverse()) await terminate(proc.child, STOP_GRACE_MS);
    await Promise.all([postgres.stop(), redis.stop()]);
    await rm(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const opts = optionsFromArgs(process.argv.slice(2));
  const arms: Arm[] = [];
  for (const replicas of opts.replicas) {
    const arm = await runArm(replicas, opts);
    arms.push(arm);
    console.error(
      `scale, ${replicas} engine(s): ${arm.succeeded}/${arm.projects} green in ${arm.spanMin.toFixed(1)} min`,
    );
  }
  console.log(
    `\nbench/scale: ${opts.projects} projects submitted at once per arm; api, workers (process runtime, ` +
      "scripted agent, bench/scale-playbook.ts) and 1 or 2 engine processes on PostgreSQL + Redis; " +
      `no deploy; ENGINE_RECOVERY_INTERVAL=${RECOVERY_INTERVAL}\n`,
  );
  printTable(
    [
      "engines",
      "green",
      "failed or blocked",
      "cancelled at deadline",
      "never ended",
      "minutes",
      "green/min",
      "p50 to green s",
      "p95 to green s",
      "runs seen per engine",
      "lost or duplicated",
    ],
    arms.map((a) => {
      const terminal = a.runs.filter((r) => (TERMINAL as readonly string[]).includes(r.status)).length;
      return [
        String(a.replicas),
        a.succeeded,
        terminal - a.succeeded - a.cancelledAtDeadline,
        a.cancelledAtDeadline,
        a.projects - terminal,
        a.spanMin,
        a.perMinute,
        a.p50Ms / 1000,
        a.p95Ms / 1000,
        [...a.runsPerEngine.values()].map((s) => s.size).join(" + "),
        a.problems.length,
      ];
    }),
  );
  for (const a of arms.filter((x) => x.cancelledAtDeadline > 0)) {
    console.log(
      `\n${a.replicas} engine(s): ${a.projects} projects did not fit in the deadline on this machine ` +
        `(${a.succeeded} green in ${a.spanMin.toFixed(1)} min; ${a.cancelledAtDeadline} cancelled when it came): ` +
        "the figures are for what ran",
    );
  }
  const stages = [...new Set(arms.flatMap((a) => [...a.stageMedians.keys()]))];
  console.log("\nmedian seconds per stage of the green runs (queued: created -> first stage)\n");
  printTable(
    ["engines", ...stages],
    arms.map((a) => [String(a.replicas), ...stages.map((s) => (a.stageMedians.get(s) ?? Number.NaN) / 1000)]),
  );
  const one = arms.find((a) => a.replicas === 1);
  const two = arms.find((a) => a.replicas === 2);
  if (one && two) {
    console.log(
      `\nthroughput with 2 engines / with 1: ${(two.perMinute / one.perMinute).toFixed(2)} (same machine, same run)`,
    );
    await recordSummary([
      {
        bench: "scale",
        measure: `${opts.projects} projects at once, 2 engine replicas: green/min`,
        unit: "projects/min",
        value: two.perMinute,
        baselineLabel: "the same with 1 engine",
        baseline: one.perMinute,
        ratio: two.perMinute / one.perMinute,
      },
      {
        bench: "scale",
        measure: `${opts.projects} projects at once, 2 engine replicas: p95 to green`,
        unit: "s",
        value: two.p95Ms / 1000,
        baselineLabel: "the same with 1 engine",
        baseline: one.p95Ms / 1000,
        ratio: two.p95Ms / one.p95Ms,
      },
    ]);
  }
  const problems = arms.flatMap((a) => a.problems.map((p) => `${a.replicas} engine(s): ${p}`));
  if (problems.length > 0) {
    console.log(`\nLOST OR DUPLICATED: ${problems.length}, e.g.\n  ${problems.slice(0, 10).join("\n  ")}`);
    process.exitCode = 1;
  } else {
    console.log(
      "\nevery project had exactly one engineering run, which ended once (none lost or duplicated)",
    );
  }
}

await main();
