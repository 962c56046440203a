import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { AppError, RunStatusMachine, type Worker, type WorkerState } from "../contracts/index.js";
import type { Logger, Metrics } from "../observability/index.js";
import { gcJob, type Job } from "../scheduler/index.js";
import type { Store } from "../store/index.js";
import { nodeOf, type WorkerManager } from "./manager.js";

const LIVE: WorkerState[] = ["starting", "running", "paused"];
const PAGE = 200;

/** What every workers garbage collection job is given. */
export interface WorkersGcDeps {
  store: Store;
  logger: Logger;
  metrics?: Pick<Metrics, "recordGc"> | null;
  intervalMs: number;
}

/**
 * Deletes the records of workers that ended more than `ageMs` ago (`gc.worker-records`). Cluster
 * state, so a leader job: one process at a time, and a second delete finds nothing.
 */
export function workerRecordsGcJob(deps: WorkersGcDeps & { ageMs: number }): Job {
  return gcJob({
    name: "gc.worker-records",
    kind: "worker_records",
    scope: "leader",
    intervalMs: deps.intervalMs,
    logger: deps.logger,
    metrics: deps.metrics ?? null,
    collect: () => deps.store.workers.deleteEnded(deps.ageMs),
  });
}

/**
 * Removes the workspaces of finished runs (`gc.workspaces`): a live worker of this node whose run
 * ended more than `ageMs` ago is terminated, its sandbox and workspace going with it. A worker of
 * a run that has not ended, one in a turn, or one without a run is never touched. Per node: each
 * workers node removes its own sandboxes.
 */
export function runWorkspacesGcJob(deps: WorkersGcDeps & { manager: WorkerManager; ageMs: number }): Job {
  return gcJob({
    name: "gc.workspaces",
    kind: "workspaces",
    scope: "every-process",
    intervalMs: deps.intervalMs,
    logger: deps.logger,
    metrics: deps.metrics ?? null,
    collect: (signal) => collectRunWorkspaces(deps, signal),
  });
}

/** One pass of `runWorkspacesGcJob`; returns the workers terminated. */
export async function collectRunWorkspaces(
  deps: { store: Store; manager: WorkerManager; ageMs: number },
  signal?: AbortSignal,
): Promise<number> {
  const { store, manager } = deps;
  const now = Date.now();
  const finishedAt = new Map<string, number | null>();
  let removed = 0;
  for (const worker of await liveWorkers(store, (w) => nodeOf(w) === manager.node)) {
    if (signal?.aborted) break;
    if (worker.runId === null || manager.isBusy(worker.id)) continue;
    if (!finishedAt.has(worker.runId)) finishedAt.set(worker.runId, await runFinishedAt(store, worker.runId));
    const ended = finishedAt.get(worker.runId);
    if (ended === null || ended === undefined || now - ended < deps.ageMs) continue;
    await manager.terminate(worker.id, "its run finished: workspace collected");
    removed += 1;
  }
  return removed;
}

/**
 * Removes the npm caches of projects that are gone (`gc.npm-caches`): archived (torn down) or no
 * longer recorded, and with no live worker. Per node: the caches live on each node's disk, under
 * `cacheRoots` (`<cacheRoot>/<projectId>/npm`).
 */
export function npmCachesGcJob(deps: WorkersGcDeps & { cacheRoots: readonly string[] }): Job {
  return gcJob({
    name: "gc.npm-caches",
    kind: "npm_caches",
    scope: "every-process",
    intervalMs: deps.intervalMs,
    logger: deps.logger,
    metrics: deps.metrics ?? null,
    collect: (signal) => collectNpmCaches(deps, signal),
  });
}

/** One pass of `npmCachesGcJob`; returns the project cache folders removed. */
export async function collectNpmCaches(
  deps: { store: Store; cacheRoots: readonly string[] },
  signal?: AbortSignal,
): Promise<number> {
  let removed = 0;
  for (const root of deps.cacheRoots) {
    const names = await readdir(root).catch(() => [] as string[]);
    for (const projectId of names.sort()) {
      if (signal?.aborted) return removed;
      if (!(await isProjectGone(deps.store, projectId))) continue;
      await rm(join(root, projectId), { recursive: true, force: true, maxRetries: 3 });
      removed += 1;
    }
  }
  return removed;
}

/** Archived or not recorded at all, with no live worker left (one may be winding down). */
async function isProjectGone(store: Store, projectId: string): Promise<boolean> {
  let status: string;
  try {
    status = (await store.projects.get(projectId)).status;
  } catch (error) {
    // A folder named by no project id at all (or a deleted project) is nobody's cache.
    if (error instanceof AppError && (error.kind === "not_found" || error.kind === "invalid")) return true;
    throw error;
  }
  if (status !== "archived") return false;
  for (const state of LIVE) {
    if ((await store.workers.list({ projectId, state, limit: 1, offset: 0 })).items.length > 0) return false;
  }
  return true;
}

/** When the run ended (ms since epoch), or null while it has not. */
async function runFinishedAt(store: Store, runId: string): Promise<number | null> {
  const run = await store.runs.get(runId);
  if (!RunStatusMachine.terminal.includes(run.status)) return null;
  return Date.parse(run.finishedAt ?? run.createdAt);
}

async function liveWorkers(store: Store, keep: (worker: Worker) => boolean): Promise<Worker[]> {
  const all: Worker[] = [];
  for (const state of LIVE) {
    for (let offset = 0; ; offset += PAGE) {
      const page = await store.workers.list({ state, limit: PAGE, offset });
      all.push(...page.items.filter(keep));
      if (page.items.length < PAGE) break;
    }
  }
  return all;
}
