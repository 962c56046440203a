import { type AdoptCandidate, LocalDriver } from "../../deploy/drivers/local/index.js";
import type { DevopsDeps } from "./deps.js";
import { currentDeployment, environmentFor, localServer, manifestAt } from "./helpers.js";

/** A release that should run but could not be adopted, and why (for the log). */
export interface AdoptionFailure {
  projectId: string;
  release: string;
  reason: string;
  /** Settings the environment lacks, when that is the reason. */
  missing: string[];
  error: unknown;
}

/** What one pass of `adoptLocalReleases` did. */
export interface AdoptionReport {
  adopted: string[];
  failed: AdoptionFailure[];
}

/**
 * Starts again, under this engine, every local release that should run and that nobody supervises:
 * after a restart, those of this orchestrator's previous life; with several engines, those whose
 * owner is gone. Only a release that is still the project's serving deployment is adopted, on its
 * recorded port, with the environment resolved afresh from the vault. `root` holds the
 * `current.json` records. Never throws for one project: its failure is in the report.
 */
export async function adoptLocalReleases(deps: DevopsDeps, root: string): Promise<AdoptionReport> {
  const report: AdoptionReport = { adopted: [], failed: [] };
  const driver = deps.driver;
  if (!(driver instanceof LocalDriver)) return report;
  for (const candidate of await driver.adoptable(await LocalDriver.recorded(root))) {
    try {
      const outcome = await adoptOne(deps, driver, candidate);
      if (outcome === "adopted") report.adopted.push(candidate.projectId);
      else if (outcome !== "skipped") report.failed.push(outcome);
    } catch (error) {
      report.failed.push({
        projectId: candidate.projectId,
        release: candidate.release,
        reason: error instanceof Error ? error.message : String(error),
        missing: [],
        error,
      });
    }
  }
  return report;
}

/**
 * `adoptLocalReleases` at start, with every failure logged: brings back what ran before this
 * orchestrator (or a gone engine) stopped. Returns the projects brought back.
 */
export async function reconcileLocal(deps: DevopsDeps, root: string): Promise<string[]> {
  const report = await adoptLocalReleases(deps, root);
  for (const failure of report.failed) logAdoptionFailure(deps, failure);
  if (report.adopted.length > 0) deps.logger.info({ projects: report.adopted }, "restored running releases");
  return report.adopted;
}

/** Logs why a release could not be brought back. */
export function logAdoptionFailure(deps: Pick<DevopsDeps, "logger">, failure: AdoptionFailure): void {
  const { projectId, release } = failure;
  if (failure.missing.length > 0) {
    deps.logger.warn(
      { projectId, release, missing: failure.missing },
      "cannot restore a release: settings missing",
    );
  } else {
    deps.logger.error(
      { err: failure.error, projectId, release },
      `cannot restore a release: ${failure.reason}`,
    );
  }
}

/**
 * One candidate: `skipped` when it is not the serving release any more (a newer deploy replaced
 * it, or the project was torn down) or another engine adopted it first.
 */
async function adoptOne(
  deps: DevopsDeps,
  driver: LocalDriver,
  candidate: AdoptCandidate,
): Promise<"adopted" | "skipped" | AdoptionFailure> {
  const project = await deps.store.projects.get(candidate.projectId);
  const current = await currentDeployment(deps.store, project.id);
  if (!current || current.release !== candidate.release) return "skipped";
  const release = (await driver.releases(project.id, null)).find((r) => r.id === candidate.release);
  if (!release) {
    return {
      projectId: project.id,
      release: candidate.release,
      reason: "the release is not built in this data directory",
      missing: [],
      error: null,
    };
  }
  const manifest = await manifestAt(deps, project.slug, release.commit);
  const server = await localServer(deps.store);
  const entry = manifest.env.find((e) => e.kind === "allocated-port");
  const ports = entry && candidate.port !== null ? { [entry.name]: candidate.port } : {};
  const env = await environmentFor(deps, { projectId: project.id, manifest, server, ports });
  if (!env.ok) {
    return {
      projectId: project.id,
      release: release.id,
      reason: "settings missing",
      missing: env.missing,
      error: null,
    };
  }
  const isAdopted = await driver.adopt(
    { release, env: env.env, port: candidate.port, manifest, slug: project.slug, server: null },
    candidate,
  );
  return isAdopted ? "adopted" : "skipped";
}
