import { rm } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../../contracts/index.js";
import type { WorkerService } from "../../workers/index.js";
import type { HostCheckout } from "./host-repo.js";
import type { AcceptanceFiles } from "./state.js";

/** Acceptance questions the Architect answers per run; past it the run ends `blocked` with the question. */
export const ACCEPTANCE_REVISIONS_PER_RUN = 2;
/** Bounds on what the Architect may put into the acceptance folder. */
const MAX_FILES = 50;
const MAX_FILE_BYTES = 60_000;
const READ_MS = 30_000;

/** True when `path` (repository-relative) lies inside the folder `dir`. */
export function isUnder(dir: string, path: string): boolean {
  return path.startsWith(`${dir}/`);
}

/**
 * The acceptance files an agent wrote in its workspace. Without `base` (a fresh folder, the
 * Architect of a new project): every file under `dir`. With `base` (a clone): what differs from
 * that commit, deleted files as null. Throws `invalid` when the folder holds more than it may.
 */
export async function readAcceptanceFiles(
  workers: WorkerService,
  workerId: string,
  dir: string,
  base: string | null,
): Promise<AcceptanceFiles> {
  const exec = (argv: string[]) => workers.exec(workerId, argv, { timeoutMs: READ_MS });
  const changes: [string, "write" | "delete"][] = [];
  if (base === null) {
    const found = await exec(["find", dir, "-type", "f"]);
    if (found.exitCode === 0) {
      for (const path of lines(found.stdout)) changes.push([path, "write"]);
    }
  } else {
    await exec(["git", "add", "-A", "--", dir]);
    const diff = await exec(["git", "diff", "--cached", "--name-status", "--no-renames", base, "--", dir]);
    for (const { status, path } of parseNameStatus(diff.stdout)) {
      changes.push([path, status === "D" ? "delete" : "write"]);
    }
  }
  if (changes.length > MAX_FILES) {
    throw new AppError("invalid", "acceptance_too_large", `more than ${MAX_FILES} files in ${dir}/`);
  }
  const files: AcceptanceFiles = {};
  for (const [path, change] of changes) {
    if (!isUnder(dir, path)) continue;
    if (change === "delete") {
      files[path] = null;
      continue;
    }
    const read = await exec(["head", "-c", String(MAX_FILE_BYTES + 1), "--", path]);
    if (read.exitCode !== 0) continue;
    if (Buffer.byteLength(read.stdout) > MAX_FILE_BYTES) {
      throw new AppError("invalid", "acceptance_too_large", `${path} is over ${MAX_FILE_BYTES} bytes`);
    }
    files[path] = read.stdout;
  }
  return files;
}

/** Writes acceptance files into a host checkout (null deletes), only inside `dir`. */
export async function applyAcceptanceFiles(
  checkout: HostCheckout,
  dir: string,
  files: AcceptanceFiles,
): Promise<void> {
  const writes: Record<string, string> = {};
  for (const [path, content] of Object.entries(files)) {
    if (!isUnder(dir, path) || path.split("/").includes("..")) continue;
    if (content === null) await rm(join(checkout.dir, path), { force: true });
    else writes[path] = content;
  }
  await checkout.writeFiles(writes);
}

/** Makes `dir` in a host checkout exactly as it is at `commit` (added files gone, edits undone). */
export async function restoreAcceptanceDir(
  checkout: HostCheckout,
  dir: string,
  commit: string,
): Promise<void> {
  await checkout.git(["rm", "-r", "-q", "--ignore-unmatch", "--", dir]);
  await rm(join(checkout.dir, dir), { recursive: true, force: true });
  await checkout.git(["checkout", commit, "--", dir]);
}

/** One line of `git diff --name-status`. */
export interface NameStatus {
  status: "A" | "M" | "D" | "T";
  path: string;
}

/** Parses `git diff --name-status --no-renames` output. */
export function parseNameStatus(text: string): NameStatus[] {
  const entries: NameStatus[] = [];
  for (const line of lines(text)) {
    const [status, path] = line.split("\t");
    if (!path || !status) continue;
    const code = status.charAt(0);
    if (code === "A" || code === "M" || code === "D" || code === "T") entries.push({ status: code, path });
  }
  return entries;
}

function lines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
}
