import { readdir, readFile } from "node:fs/promises";

/**
 * Reading and signalling Linux processes through `/proc`: the process runtime finds everything a
 * command started (its process group and every descendant, also across the session bubblewrap
 * creates inside) to freeze, measure and kill it.
 */

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on every Linux we run on). */
const TICKS_PER_SECOND = 100;

/** The fields of `/proc/<pid>/stat` the runtime uses. */
export interface ProcStat {
  pid: number;
  ppid: number;
  pgid: number;
  /** Single-letter state; `Z` is a zombie (already dead, waiting to be reaped). */
  state: string;
  /** Start time in clock ticks after boot: with the pid, identifies one process (pids are recycled). */
  startTime: number;
  /** utime + stime + cutime + cstime in milliseconds: its own CPU and that of its reaped children. */
  cpuMs: number;
}

/** Parses one `/proc/<pid>/stat` line, or null when it is not one. The name may hold spaces and ")". */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf(" (");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open));
  // After the name, field 3 (state) is at index 0: field n sits at index n - 3.
  const f = text
    .slice(close + 2)
    .trim()
    .split(" ");
  const num = (n: number) => Number(f[n - 3]);
  const stat: ProcStat = {
    pid,
    ppid: num(4),
    pgid: num(5),
    state: f[0] ?? "?",
    startTime: num(22),
    cpuMs: ((num(14) + num(15) + num(16) + num(17)) * 1000) / TICKS_PER_SECOND,
  };
  return Object.values(stat).some((v) => typeof v === "number" && !Number.isFinite(v)) ? null : stat;
}

/** The stat of one process, or null when it no longer exists. */
export async function readProcStat(pid: number): Promise<ProcStat | null> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null;
  }
}

/** True when the process exists and is not a zombie. */
export async function isAlive(pid: number): Promise<boolean> {
  const stat = await readProcStat(pid);
  return stat !== null && stat.state !== "Z";
}

/** Every process visible in `/proc` (those that vanish while reading are skipped). */
export async function listProcesses(): Promise<ProcStat[]> {
  const names = await readdir("/proc");
  const stats = await Promise.all(names.filter((n) => /^\d+$/.test(n)).map((n) => readProcStat(Number(n))));
  return stats.filter((s): s is ProcStat => s !== null);
}

/** True when `/proc/<pid>/environ` holds exactly `key=value` (false when unreadable or gone). */
export async function hasEnvEntry(pid: number, key: string, value: string): Promise<boolean> {
  try {
    const environ = await readFile(`/proc/${pid}/environ`, "utf8");
    return environ.split("\0").includes(`${key}=${value}`);
  } catch {
    return false;
  }
}

/**
 * The processes started from `roots`: every member of the roots' process groups and, transitively,
 * every child of those. Bubblewrap's `--new-session` puts the command in another group, so the
 * descendant walk is what reaches it. Never contains this process or pid 1.
 */
export function collectTree(roots: number[], all: ProcStat[]): Set<number> {
  const groups = new Set(roots);
  const found = new Set<number>();
  for (const p of all) if (groups.has(p.pgid) || groups.has(p.pid)) found.add(p.pid);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) {
      if (!found.has(p.pid) && found.has(p.ppid)) {
        found.add(p.pid);
        grew = true;
      }
    }
  }
  found.delete(process.pid);
  found.delete(1);
  return found;
}

/** Sends `signal` to each pid, ignoring those already gone. */
export function signalEach(pids: Iterable<number>, signal: NodeJS.Signals): void {
  for (const pid of pids) {
    if (pid <= 1 || pid === process.pid) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // ESRCH: it exited meanwhile.
    }
  }
}

/** Sends `signal` to a whole process group, ignoring a group that no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (pgid <= 1) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nobody left in the group.
  }
}

/** Waits until none of `pids` is alive, polling, for at most `timeoutMs`. True when all are gone. */
export async function waitGone(pids: Iterable<number>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let left = [...pids];
  for (;;) {
    const alive = await Promise.all(left.map(isAlive));
    left = left.filter((_, i) => alive[i]);
    if (left.length === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}
