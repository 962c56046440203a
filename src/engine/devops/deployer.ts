import { AppError } from "../../contracts/index.js";
import type { Release } from "../../deploy/index.js";
import type { DevopsDeps } from "./deps.js";
import { auditSecretReads, environmentFor, mainPort, targetOf } from "./helpers.js";
import type { DevopsStateValue, DevopsUpdate } from "./state.js";

/**
 * Build: builds the release of the commit (or finds it built) and records the attempt as a
 * Deployment. A build failure fails the run with the build's output tail; the previous release
 * keeps serving (nothing to undo). A replay after a crash first closes the attempt the crash
 * interrupted, so no Deployment stays `in_progress`.
 */
export async function build(deps: DevopsDeps, state: DevopsStateValue): Promise<DevopsUpdate> {
  const { runId, input, manifest, serverId, commit } = state;
  if (!manifest || !serverId || !commit) throw new Error("build stage before allocation");
  await deps.journal.stage(runId, "deploy");
  const project = await deps.store.projects.get(input.projectId);
  const server = await deps.store.servers.get(serverId);
  await closeInterrupted(deps, runId, project.id);
  let release: Release;
  try {
    release = await deps.driver.build({
      projectId: project.id,
      slug: project.slug,
      commit,
      source: await deps.forge.orchestratorAccess({ name: project.slug }),
      manifest,
      server: targetOf(deps.driver, server).server,
    });
  } catch (error) {
    const failed = await deps.store.deployments.create({
      projectId: project.id,
      runId,
      serverId,
      commitSha: commit,
      release: "unbuilt",
    });
    const detail = error instanceof AppError ? (error.details[0]?.message ?? error.message) : String(error);
    await deps.store.deployments.finish(failed.id, "failed", { logsExcerpt: detail.slice(-4_000) });
    return {
      deploymentId: failed.id,
      outcome: {
        status: "failed",
        code: error instanceof AppError ? error.code : "build_failed",
        message: `the release could not be built: ${error instanceof Error ? error.message : String(error)}`,
        missing: [],
        url: null,
        botUsername: null,
        restoredPrevious: false,
      },
    };
  }
  const deployment = await deps.store.deployments.create({
    projectId: project.id,
    runId,
    serverId,
    commitSha: commit,
    release: release.id,
  });
  await deps.store.deployments.finish(deployment.id, "in_progress", {});
  return { deploymentId: deployment.id, release: release.id };
}

/**
 * Start: resolves the environment in memory and makes the built release the running one. A
 * release that cannot be started (e.g. its port is taken on the server) fails its Deployment and
 * hands over to the rollback step.
 */
export async function start(deps: DevopsDeps, state: DevopsStateValue): Promise<DevopsUpdate> {
  const { runId, input, manifest, serverId, deploymentId, release: releaseId } = state;
  if (!manifest || !serverId || !deploymentId || !releaseId) throw new Error("start stage before a build");
  await deps.journal.stage(runId, "start");
  const project = await deps.store.projects.get(input.projectId);
  const server = await deps.store.servers.get(serverId);
  const target = targetOf(deps.driver, server).server;
  const release = (await deps.driver.releases(project.id, target)).find((r) => r.id === releaseId);
  if (!release) throw new AppError("not_found", "release_not_found", `release ${releaseId} is gone`);
  const resolved = await environmentFor(deps, {
    projectId: project.id,
    manifest,
    server,
    ports: state.ports,
  });
  if (!resolved.ok)
    throw new AppError("conflict", "secrets_changed", "a required setting disappeared during the deploy");
  await auditSecretReads(deps, { projectId: project.id, runId, manifest, env: resolved.env });
  try {
    await deps.driver.run({
      release,
      env: resolved.env,
      port: mainPort(manifest, state.ports),
      manifest,
      slug: project.slug,
      server: target,
    });
  } catch (error) {
    const detail = error instanceof AppError ? (error.details[0]?.message ?? error.message) : String(error);
    await deps.store.deployments.finish(deploymentId, "failed", { logsExcerpt: detail.slice(-4_000) });
    return {
      failure: {
        code: error instanceof AppError ? error.code : "deploy_start_failed",
        message: `the release could not be started: ${error instanceof Error ? error.message : String(error)}`,
      },
    };
  }
  return {};
}

/** Marks this run's attempts that never finished (the engine died during them) `failed`. */
async function closeInterrupted(deps: DevopsDeps, runId: string, projectId: string): Promise<void> {
  const page = await deps.store.deployments.list({ projectId, limit: 20, offset: 0 });
  for (const d of page.items) {
    if (d.runId === runId && (d.status === "pending" || d.status === "in_progress")) {
      await deps.store.deployments.finish(d.id, "failed", {
        logsExcerpt: "interrupted: the engine stopped during this attempt; the run retried it",
      });
    }
  }
}
