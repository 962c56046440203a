import { readFileSync } from "node:fs";
import type { CgroupV2 } from "./cgroup-v2.js";
import { readPids } from "./process-sandbox-files.js";
import { collectTree, hasEnvEntry, listProcesses, parseProcStat } from "./process-tree.js";

/**
 * The variable the WorkerManager sets in every command's environment. The runtime reads it back
 * from `/proc/<pid>/environ` to prove a process belongs to a sandbox before killing it.
 */
export const WORKER_ID_ENV = "ORCHESTRATOR_WORKER_ID";

/**
 * Every live process of a sandbox (folder `dir`): the trees of the commands recorded in `pids` (a
 * leader counts only when its start time matches the record, or, for a bare pid, when it carries
 * the worker marker, so a recycled pid is never touched), marked members of groups whose leader is
 * gone, and the members of the sandbox's cgroup.
 */
export async function sandboxProcesses(
  dir: string,
  workerId: string,
  cgroup: CgroupV2 | null,
): Promise<Set<number>> {
  const inGroup = new Set(cgroup ? await cgroup.pids(workerId) : []);
  const entries = readPids(dir);
  // Nothing recorded (no command running, the usual case at a pause or a teardown): no tree to walk
  // and no leaderless group to search, so the scan of every process in /proc is skipped.
  if (entries.length === 0) return new Set([...inGroup].filter((pid) => pid !== process.pid));
  const all = await listProcesses();
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const owns = async (pid: number) => inGroup.has(pid) || (await hasEnvEntry(pid, WORKER_ID_ENV, workerId));
  const leaders: number[] = [];
  const leaderless = new Set<number>();
  for (const entry of entries) {
    const stat = byPid.get(entry.pid);
    const alive = stat !== undefined && stat.state !== "Z";
    const same =
      alive && (entry.startTime !== null ? stat.startTime === entry.startTime : await owns(entry.pid));
    if (same) leaders.push(entry.pid);
    else leaderless.add(entry.pid);
  }
  const found = collectTree(leaders, all);
  for (const p of all) {
    if (leaderless.has(p.pgid) && p.pid !== p.pgid && !found.has(p.pid) && (await owns(p.pid))) {
      for (const pid of collectTree([p.pid], all)) found.add(pid);
    }
  }
  for (const pid of inGroup) if (pid !== process.pid) found.add(pid);
  return found;
}

/** Start time of a just-spawned process, read synchronously so it is recorded before anything else. */
export function startTimeOf(pid: number): number | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"))?.startTime ?? null;
  } catch {
    return null;
  }
}
