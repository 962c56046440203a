import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger, Metrics } from "../../observability/index.js";
import { gcJob, type Job } from "../../scheduler/index.js";

/** The folder of the engine's throwaway checkouts under its work directory (Preparer, merge). */
export function checkoutsRoot(workDir: string): string {
  return join(workDir, "checkouts");
}

/**
 * Removes the engine's throwaway checkouts left behind by a crash (`gc.checkouts`): each stage
 * disposes of its own when it ends, so one not modified for `ageMs` belongs to no running stage
 * (a stage's git commands are bounded far below that). Per process: the folder is on its disk.
 */
export function checkoutsGcJob(deps: {
  workDir: string;
  ageMs: number;
  intervalMs: number;
  logger: Logger;
  metrics?: Pick<Metrics, "recordGc"> | null;
}): Job {
  return gcJob({
    name: "gc.checkouts",
    kind: "checkouts",
    scope: "every-process",
    intervalMs: deps.intervalMs,
    logger: deps.logger,
    metrics: deps.metrics ?? null,
    collect: (signal) => collectCheckouts(deps.workDir, deps.ageMs, signal),
  });
}

/** One pass of `checkoutsGcJob`; returns the checkouts removed. */
export async function collectCheckouts(
  workDir: string,
  ageMs: number,
  signal?: AbortSignal,
): Promise<number> {
  const root = checkoutsRoot(workDir);
  const names = await readdir(root).catch(() => [] as string[]);
  const now = Date.now();
  let removed = 0;
  for (const name of names.sort()) {
    if (signal?.aborted) break;
    const path = join(root, name);
    const stat = await lstat(path).catch(() => null);
    if (!stat || now - stat.mtimeMs < ageMs) continue;
    await rm(path, { recursive: true, force: true, maxRetries: 3 });
    removed += 1;
  }
  return removed;
}
