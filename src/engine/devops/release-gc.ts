import { AppError, type Server } from "../../contracts/index.js";
import { RELEASES_KEPT } from "../../deploy/index.js";
import type { Metrics } from "../../observability/index.js";
import { gcJob, type Job } from "../../scheduler/index.js";
import type { DevopsDeps } from "./deps.js";
import { localServer, targetOf } from "./helpers.js";

const PAGE = 100;

/**
 * Prunes every project's releases beyond the newest `RELEASES_KEPT` (`gc.releases`), also those of
 * projects whose last deploys failed (a successful deploy prunes as it records). The running
 * release is never removed (each driver protects it). With the `local` driver releases live on
 * each engine's disk, so every engine prunes its own; with `ssh-compose` they live on the servers,
 * so one engine at a time (leader) prunes them over SSH.
 */
export function releasesGcJob(
  deps: DevopsDeps & { intervalMs: number; metrics?: Pick<Metrics, "recordGc"> | null },
): Job {
  return gcJob({
    name: "gc.releases",
    kind: "releases",
    scope: deps.driver.needsServer ? "leader" : "every-process",
    intervalMs: deps.intervalMs,
    logger: deps.logger,
    metrics: deps.metrics ?? null,
    collect: (signal) => collectReleases(deps, signal),
  });
}

/**
 * One pass of `releasesGcJob`; returns the releases removed. A project whose server cannot be
 * reached is logged and passed by; the pass then fails with their count, after the others.
 */
export async function collectReleases(deps: DevopsDeps, signal?: AbortSignal): Promise<number> {
  let removed = 0;
  let failed = 0;
  for (let offset = 0; ; offset += PAGE) {
    const page = await deps.store.projects.list({ limit: PAGE, offset });
    for (const project of page.items) {
      if (signal?.aborted) return removed;
      try {
        const server = await serverOf(deps, project.id);
        if (server === undefined) continue;
        removed += await deps.driver.prune(project.id, targetOf(deps.driver, server).server, RELEASES_KEPT);
      } catch (error) {
        failed += 1;
        deps.logger.warn({ err: error, projectId: project.id }, "could not prune a project's releases");
      }
    }
    if (page.items.length < PAGE) break;
  }
  if (failed > 0) {
    throw new AppError(
      "unavailable",
      "gc_incomplete",
      `releases of ${failed} project(s) could not be pruned`,
    );
  }
  return removed;
}

/** Where the project's releases are: its newest deployment's server; undefined when it has none. */
async function serverOf(deps: DevopsDeps, projectId: string): Promise<Server | undefined> {
  const newest = (await deps.store.deployments.list({ projectId, limit: 1, offset: 0 })).items[0];
  if (newest?.serverId) return deps.store.servers.get(newest.serverId);
  // The local driver keeps a project's releases on this machine, deployed or not.
  return deps.driver.needsServer ? undefined : localServer(deps.store);
}
