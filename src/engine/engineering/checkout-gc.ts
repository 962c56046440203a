import { lstat, readdir, rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import type { Logger, Metrics } from "../../observability/index.js";
import { gcJob, type Job } from "../../scheduler/index.js";

/** The folder of the engine's throwaway checkouts under its work directory (Preparer, merge). */
export function checkoutsRoot(workDir: string): string {
  return join(workDir, "checkouts");
}

/**
 * The work directory of one engine process, under the engine folder of the data directory: named
 * by the process's incarnation, so engines sharing a data directory tell their own checkouts from
 * those a killed one left (its incarnation is no longer alive).
 */
export function processWorkDir(engineDir: string, incarnation: string): string {
  return join(engineDir, incarnation);
}

const INCARNATION = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Where the checkouts of the engines sharing `engineDir` live, and which of them are alive. */
export interface CheckoutOwners {
  /** The engine folder of the data directory (`<data>/engine`). */
  engineDir: string;
  /** This process's incarnation: its work directory is never collected while it runs. */
  self: string;
  /** The incarnations of processes alive now (`store.instances`). */
  liveIncarnations(): Promise<ReadonlySet<string>>;
}

/**
 * Removes the engine's throwaway checkouts left behind by a crash (`gc.checkouts`): the work
 * directory of an engine process no longer alive (killed; a clean stop removes its own), and, in
 * a work directory without an owner name, a checkout not modified for `ageMs` (a stage disposes of
 * its own when it ends, and its git commands are bounded far below that). Per process: the folder
 * is on its disk.
 */
export function checkoutsGcJob(deps: {
  workDir: string;
  ageMs: number;
  intervalMs: number;
  logger: Logger;
  owners?: CheckoutOwners;
  metrics?: Pick<Metrics, "recordGc"> | null;
}): Job {
  return gcJob({
    name: "gc.checkouts",
    kind: "checkouts",
    scope: "every-process",
    intervalMs: deps.intervalMs,
    logger: deps.logger,
    metrics: deps.metrics ?? null,
    collect: async (signal) =>
      (await collectCheckouts(deps.workDir, deps.ageMs, signal)) +
      (deps.owners ? await collectDeadOwners(deps.owners, signal) : 0),
  });
}

/** One pass of the age rule of `checkoutsGcJob`; returns the checkouts removed. */
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

/** Removes the work directories of engine processes no longer alive; returns how many. */
export async function collectDeadOwners(owners: CheckoutOwners, signal?: AbortSignal): Promise<number> {
  const names = (await readdir(owners.engineDir).catch(() => [] as string[])).filter(
    (name) => INCARNATION.test(name) && name !== owners.self,
  );
  if (names.length === 0) return 0;
  const live = await owners.liveIncarnations();
  let removed = 0;
  for (const name of names.sort()) {
    if (signal?.aborted) break;
    if (live.has(name)) continue;
    await rm(join(owners.engineDir, name), { recursive: true, force: true, maxRetries: 3 });
    removed += 1;
  }
  return removed;
}

/**
 * On a clean stop, once its runs have stopped: removes this process's work directory, those of
 * engines no longer alive, and the engine folder itself when nothing else is left in it (another
 * live engine's work directory keeps it).
 */
export async function disposeWorkDir(owners: CheckoutOwners): Promise<void> {
  await rm(processWorkDir(owners.engineDir, owners.self), { recursive: true, force: true, maxRetries: 3 });
  await collectDeadOwners(owners);
  await rmdir(owners.engineDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOTEMPTY" && error.code !== "ENOENT" && error.code !== "EEXIST") throw error;
  });
}
