// bench/run-profile: what one light engineering run costs in CPU, per process. The roles of
// bench/scale (api, workers with the process runtime and the scripted agent playing
// bench/scale-playbook.ts, one engine) on a fresh PostgreSQL and Redis; N light projects run one
// after another (each to its terminal state before the next starts), and the CPU seconds each role
// used meanwhile (its own, plus every child and grandchild it spawned, live or reaped), PostgreSQL's
// and Redis's, are divided by N. CPU seconds, not wall time: the machine is shared.
//   npm run build && npm run bench:run-profile -- [--runs 6] [--at-once 1] [--strace] [--cpu-prof DIR]
// --strace attaches `strace -f -e trace=execve` to each role during the runs and counts the programs
// each one executed per run (it slows everything down: its CPU figures are not the plain ones).
// --cpu-prof DIR writes a V8 CPU profile of each role process into DIR when it stops.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
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
import { printTable } from "./stats.js";

const TERMINAL = ["succeeded", "failed", "blocked", "cancelled"] as const;
const POLL_MS = 250;
const RUN_DEADLINE_MS = 5 * 60_000;
const STOP_GRACE_MS = 20_000;
const BRIEF = "A service that answers ping with pong.";
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;
/** How long the processes are watched with no run, before the runs. */
const IDLE_WINDOW_MS = 20_000;

interface Options {
  runs: number;
  /** Runs submitted together (each batch ends before the next); 1 is one after another. */
  atOnce: number;
  strace: boolean;
  cpuProfDir: string | null;
}

function optionsFromArgs(argv: string[]): Options {
  const options: Options = { runs: 6, atOnce: 1, strace: false, cpuProfDir: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--runs") options.runs = Number(argv[++i]);
    else if (arg === "--at-once") options.atOnce = Number(argv[++i]);
    else if (arg === "--strace") options.strace = true;
    else if (arg === "--cpu-prof") options.cpuProfDir = argv[++i] ?? null;
    else
      throw new Error(
        `bad argument ${arg}; usage: tsx bench/run-profile.ts [--runs N] [--at-once K] [--strace] [--cpu-prof DIR]`,
      );
  }
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error("--runs takes a positive integer");
  if (!Number.isInteger(options.atOnce) || options.atOnce < 1)
    throw new Error("--at-once takes a positive integer");
  return options;
}

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, own threads. */
  ownTicks: number;
  /** cutime + cstime: children this process waited for (and their reaped descendants). */
  reapedTicks: number;
}

async function readStat(pid: number): Promise<ProcStat | null> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // fields[0] is the state (stat field 3): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
    return {
      pid,
      ppid: Number(fields[1]),
      ownTicks: Number(fields[11]) + Number(fields[12]),
      reapedTicks: Number(fields[13]) + Number(fields[14]),
    };
  } catch {
    return null;
  }
}

async function allStats(): Promise<ProcStat[]> {
  const pids = (await readdir("/proc")).filter((d) => /^\d+$/.test(d)).map(Number);
  return (await Promise.all(pids.map(readStat))).filter((s): s is ProcStat => s !== null);
}

/** CPU ticks of `root` and every descendant, live or reaped. */
function treeTicks(root: number, stats: readonly ProcStat[]): number {
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const self = stats.find((s) => s.pid === root);
  if (!self) return 0;
  let total = 0;
  const queue = [self];
  while (queue.length > 0) {
    const s = queue.pop() as ProcStat;
    total += s.ownTicks + s.reapedTicks;
    queue.push(...(children.get(s.pid) ?? []));
  }
  return total;
}

/** The pid of the process whose command line has `name` and `port` (PostgreSQL's postmaster, Redis). */
async function pidByCmdline(name: string, port: string): Promise<number | null> {
  for (const d of (await readdir("/proc")).filter((x) => /^\d+$/.test(x))) {
    const cmd = await readFile(`/proc/${d}/cmdline`, "utf8").catch(() => "");
    // Redis rewrites its title to `redis-server 127.0.0.1:<port>`: match the start and the port.
    const program = basename(cmd.split("\0")[0] ?? "");
    if (program.startsWith(name) && cmd.includes(port)) {
      return Number(d);
    }
  }
  return null;
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

async function startRole(
  roles: string,
  nodeArgs: string[],
  env: NodeJS.ProcessEnv,
  procs: RunningCli[],
): Promise<RunningCli> {
  const port = await freePort();
  const proc = startCli(["serve", "--roles", roles], { ...env, ORCHESTRATOR_PORT: String(port) }, nodeArgs);
  procs.push(proc);
  await waitForHealth(`http://127.0.0.1:${port}/health`, START_DEADLINE_MS, proc);
  return proc;
}

/** Programs executed per strace log, by base name. */
function countExecs(log: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of log.split("\n")) {
    const m = /execve\("([^"]+)", \[([^\]]*)\]/.exec(line);
    if (!m || line.includes("ENOENT")) continue;
    const argv = (m[2] as string).split(", ").map((a) => a.replace(/^"|"\.*$|"$/g, ""));
    let name = basename(m[1] as string);
    // What node and git were asked to do says more than their name.
    if (name === "node") name = `node ${argv.slice(1, 3).join(" ")}`.slice(0, 60);
    if (name === "git")
      name = `git ${argv.slice(1).find((a) => !a.startsWith("-") && !a.includes("=")) ?? ""}`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

async function main(): Promise<void> {
  const opts = optionsFromArgs(process.argv.slice(2));
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const scratch = await mkdtemp(join(tmpdir(), "bench-run-profile-"));
  const procs: RunningCli[] = [];
  const tracers: ChildProcess[] = [];
  const db = new pg.Client({ connectionString: postgres.url });
  try {
    const playbook = join(scratch, "playbook.json");
    await writeFile(playbook, JSON.stringify(scalePlaybook()));
    const apiPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const env = distributedEnv(
      { databaseUrl: postgres.url, redisUrl: redis.url, apiUrl, dataDir: join(scratch, "shared") },
      {
        DEPLOY_DRIVER: "ssh-compose",
        LOG_LEVEL: "warn",
      },
    );
    const nodeArgs = opts.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
    const apiProc = startCli(
      ["serve", "--roles", "api"],
      { ...env, ORCHESTRATOR_PORT: String(apiPort) },
      nodeArgs,
    );
    procs.push(apiProc);
    await waitForHealth(`${apiUrl}/health`, START_DEADLINE_MS, apiProc);
    const token = /orc_[A-Za-z0-9_-]{43}/.exec(apiProc.output())?.[0];
    if (!token) throw new Error(`the api printed no admin token:\n${apiProc.output()}`);
    for (const node of ["architect", "developer"]) {
      await api(apiUrl, token, "PATCH", `/api/agent-configs/${node}`, { backend: "scripted" });
    }
    const workersProc = await startRole(
      "workers",
      nodeArgs,
      { ...env, ORCHESTRATOR_DATA_DIR: join(scratch, "workers"), SCRIPTED_PLAYBOOK: playbook },
      procs,
    );
    const engineProc = await startRole("engine", nodeArgs, env, procs);
    await db.connect();
    const pgPort = new URL(postgres.url).port;
    const redisPort = new URL(redis.url).port;
    const roots: [string, number | null][] = [
      ["api", apiProc.child.pid ?? null],
      ["workers", workersProc.child.pid ?? null],
      ["engine", engineProc.child.pid ?? null],
      ["postgres", await pidByCmdline("postgres", pgPort)],
      ["redis", await pidByCmdline("redis-server", redisPort)],
    ];

    // One warm-up run (first loads of modules, first connections), not counted.
    const runOne = async (i: number): Promise<{ status: string; ms: number }> => {
      const project = await api<{ id: string }>(apiUrl, token, "POST", "/api/projects", {
        name: `profile ${i}`,
      });
      const started = Date.now();
      await api(apiUrl, token, "POST", "/api/tools/engineering.start", {
        projectId: project.id,
        brief: BRIEF,
      });
      for (;;) {
        const { rows } = await db.query<{ status: string; error: { code: string; message: string } | null }>(
          "SELECT status, error FROM runs WHERE project_id = $1 AND kind = 'engineering'",
          [project.id],
        );
        const status = rows[0]?.status;
        if (status && status !== "succeeded" && (TERMINAL as readonly string[]).includes(status)) {
          console.error(`run of project ${i} ${status}: ${JSON.stringify(rows[0]?.error)}`);
        }
        if (status && (TERMINAL as readonly string[]).includes(status)) {
          // The green run's deploy is queued next and ends in its first stage: let it, so that its
          // cost lands in this run's window rather than the next one's.
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          return { status, ms: Date.now() - started };
        }
        if (Date.now() - started > RUN_DEADLINE_MS)
          throw new Error(`run of project ${project.id} did not end`);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    };
    const warm = await runOne(0);
    console.error(`warm-up run: ${warm.status} in ${(warm.ms / 1000).toFixed(1)} s`);

    const straceLogs: [string, string][] = [];
    if (opts.strace) {
      for (const [role, pid] of roots.slice(0, 3)) {
        const log = join(scratch, `strace-${role}.log`);
        straceLogs.push([role, log]);
        tracers.push(
          spawn("strace", ["-f", "-qq", "-e", "trace=execve", "-o", log, "-p", String(pid)], {
            stdio: "ignore",
          }),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }

    // What the processes burn with nothing to do (polling, heartbeats), per second: the runs'
    // figures include it for as long as they take.
    const idleBefore = await allStats();
    await new Promise((resolve) => setTimeout(resolve, IDLE_WINDOW_MS));
    const idleAfter = await allStats();

    const before = await allStats();
    const wallStart = Date.now();
    const statuses: string[] = [];
    for (let first = 1; first <= opts.runs; first += opts.atOnce) {
      const batch = Array.from({ length: Math.min(opts.atOnce, opts.runs - first + 1) }, (_, k) => first + k);
      await Promise.all(
        batch.map(async (i) => {
          const r = await runOne(i);
          statuses.push(r.status);
          console.error(`run ${i}/${opts.runs}: ${r.status} in ${(r.ms / 1000).toFixed(1)} s`);
        }),
      );
    }
    const after = await allStats();
    const wallS = (Date.now() - wallStart) / 1000;

    console.log(
      `\nbench/run-profile: ${opts.runs} light runs ${opts.atOnce === 1 ? "one after another" : `${opts.atOnce} at once`} (bench/scale's roles and playbook, 1 engine)` +
        `${opts.strace ? ", under strace" : ""}; statuses: ${[...new Set(statuses)].join(", ")}\n`,
    );
    let total = 0;
    const own = (pid: number, stats: readonly ProcStat[]) => stats.find((s) => s.pid === pid)?.ownTicks ?? 0;
    let totalOwn = 0;
    let totalIdle = 0;
    const rows = roots.map(([role, pid]) => {
      const ticks = pid === null ? Number.NaN : treeTicks(pid, after) - treeTicks(pid, before);
      const ownTicks = pid === null ? Number.NaN : own(pid, after) - own(pid, before);
      const idleTicks = pid === null ? Number.NaN : treeTicks(pid, idleAfter) - treeTicks(pid, idleBefore);
      const perRunS = ticks / TICKS_PER_S / opts.runs;
      const ownS = ownTicks / TICKS_PER_S / opts.runs;
      const idlePerS = idleTicks / TICKS_PER_S / (IDLE_WINDOW_MS / 1000);
      total += perRunS;
      totalOwn += ownS;
      totalIdle += idlePerS;
      return [role, perRunS, ownS, perRunS - ownS, idlePerS * 1000];
    });
    rows.push(["total", total, totalOwn, total - totalOwn, totalIdle * 1000]);
    printTable(["process", "CPU s per run", "its own", "its children", "idle CPU ms per s"], rows);
    const workS = total - (totalIdle * wallS) / opts.runs;
    console.log(
      `\nwall: ${(wallS / opts.runs).toFixed(1)} s per run; CPU per run less the idle rate over that wall: ${workS.toFixed(2)} s`,
    );

    const { rows: events } = await db.query<{ type: string; n: string }>(
      "SELECT type, count(*) AS n FROM run_events GROUP BY type ORDER BY count(*) DESC",
    );
    const { rows: runCount } = await db.query<{ n: string }>("SELECT count(*) AS n FROM runs");
    console.log(`\nrun events per engineering run (${runCount[0]?.n} runs of any kind, warm-up included)\n`);
    printTable(
      ["type", "per run"],
      events.map((e) => [e.type, Number(e.n) / (opts.runs + 1)]),
    );

    if (opts.strace) {
      for (const t of tracers) t.kill("SIGINT");
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      for (const [role, log] of straceLogs) {
        const counts = countExecs(await readFile(log, "utf8").catch(() => ""));
        console.log(`\nprograms executed by ${role} and its children, per run\n`);
        printTable(
          ["program", "per run"],
          [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([name, n]) => [name, n / opts.runs]),
        );
      }
    }
  } finally {
    for (const t of tracers) if (t.exitCode === null) t.kill("SIGKILL");
    await db.end().catch(() => undefined);
    for (const proc of [...procs].reverse()) await terminate(proc.child, STOP_GRACE_MS);
    await Promise.all([postgres.stop(), redis.stop()]);
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
