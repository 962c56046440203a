import { readFileSync, writeFileSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../../contracts/index.js";
import { LABEL_WORKER } from "../runtime.js";

/**
 * The files that describe a process sandbox on disk, so that a later orchestrator process can find
 * it (`sandbox.json`), know whether it is frozen (`paused`) and kill what it left running (`pids`).
 */

const WORKER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Rejects worker ids that are not one safe path segment (they name folders and cgroups). */
export function assertWorkerId(workerId: string): void {
  if (!WORKER_ID.test(workerId)) {
    throw new AppError(
      "invalid",
      "invalid_worker_id",
      "a worker id must be letters, digits, '.', '_' or '-'",
      {
        details: [{ path: "workerId", message: "not a safe name" }],
      },
    );
  }
}

/** The content of `sandbox.json`. */
export interface SandboxRecord {
  workerId: string;
  labels: Record<string, string>;
  createdAt: string;
}

/** Writes `sandbox.json` atomically (a crash never leaves half a record). */
export async function writeRecord(dir: string, record: SandboxRecord): Promise<void> {
  const tmp = join(dir, `.sandbox.json.${process.pid}.tmp`);
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`);
  await rename(tmp, join(dir, "sandbox.json"));
}

/** Reads `sandbox.json`, or null when the sandbox (or its record) is gone. */
export async function readRecord(dir: string): Promise<SandboxRecord | null> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, "sandbox.json"), "utf8")) as Partial<SandboxRecord>;
    const labels = typeof parsed.labels === "object" && parsed.labels !== null ? parsed.labels : {};
    const workerId = typeof parsed.workerId === "string" ? parsed.workerId : (labels[LABEL_WORKER] ?? "");
    return { workerId, labels, createdAt: String(parsed.createdAt ?? "") };
  } catch {
    return null;
  }
}

/** One running command recorded in `pids`: its process group leader and that process's start time. */
export interface PidEntry {
  pid: number;
  /** Null when the line held only a pid; ownership is then checked by the worker marker. */
  startTime: number | null;
}

/** Parses the `pids` file: one `<pid> <startTime>` per line; bad lines are ignored. */
export function parsePids(text: string): PidEntry[] {
  const entries: PidEntry[] = [];
  for (const line of text.split("\n")) {
    const [pid, start] = line.trim().split(/\s+/);
    const n = Number(pid);
    if (!pid || !Number.isInteger(n) || n <= 1) continue;
    const s = start === undefined ? null : Number(start);
    entries.push({ pid: n, startTime: s !== null && Number.isFinite(s) ? s : null });
  }
  return entries;
}

/** Reads the `pids` file of a sandbox (empty when absent). */
export function readPids(dir: string): PidEntry[] {
  try {
    return parsePids(readFileSync(join(dir, "pids"), "utf8"));
  } catch {
    return [];
  }
}

/**
 * Adds or removes one entry. Synchronous on purpose: the record must be on disk before the
 * command can outlive this process, and sync writes need no queue to stay ordered. Does nothing
 * when the sandbox folder is gone (destroyed meanwhile).
 */
export function updatePids(dir: string, change: { add?: PidEntry; remove?: number }): void {
  const entries = readPids(dir).filter((e) => e.pid !== change.add?.pid && e.pid !== change.remove);
  if (change.add) entries.push(change.add);
  const text = entries.map((e) => (e.startTime === null ? `${e.pid}` : `${e.pid} ${e.startTime}`)).join("\n");
  try {
    writeFileSync(join(dir, "pids"), text ? `${text}\n` : "");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
