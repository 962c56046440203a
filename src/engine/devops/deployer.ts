import { AppError } from "../../contracts/index.js";
import type { Release } from "../../deploy/driver.js";
import type { DevopsDeps } from "./deps.js";
import { environmentFor, mainPort, driverServer as serverFor } from "./helpers.js";
import { restorePrevious } from "./smoke.js";
import type { DevopsStateValue, DevopsUpdate } from "./state.js";

/**
 * Deployer: builds the release of the commit (or finds it built), records the attempt as a
 * Deployment, resolves the environment in memory and makes the release the running one. A build
 * failure fails the run with the build's output tail; the previous release keeps serving. A
 * release that cannot be started (e.g. its port is taken on the server) fails its Deployment and
 * the previous release is started again. A replay after a crash first closes the attempt the crash
 * interrupted, so no Deployment stays `in_progress`.
 */
export async function deployer(deps: DevopsDeps, state: DevopsStateValue): Promise<DevopsUpdate> {
  const { runId, input, manifest, serverId, commit } = state;
  if (!manifest || !serverId || !commit) throw new Error("deployer stage before allocation");
  await deps.journal.stage(runId, "deploy");
  const project = await deps.store.projects.get(input.projectId);
  const server = await deps.store.servers.get(serverId);
  const driverServer = serverFor(deps.driver, server);
  await closeInterrupted(deps, runId, project.id);
  let release: Release;
  try {
    release = await deps.driver.build({
      projectId: project.id,
      slug: project.slug,
      commit,
      source: await deps.forge.orchestratorAccess({ name: project.slug }),
      manifest,
      server: driverServer,
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
  const resolved = await environmentFor(deps, {
    projectId: project.id,
    manifest,
    server,
    ports: state.ports,
  });
  if (!resolved.ok)
    throw new AppError("conflict", "secrets_changed", "a required setting disappeared during the deploy");
  const port = mainPort(manifest, state.ports);
  try {
    await deps.driver.run({
      release,
      env: resolved.env,
      port,
      manifest,
      slug: project.slug,
      server: driverServer,
    });
  } catch (error) {
    const detail = error instanceof AppError ? (error.details[0]?.message ?? error.message) : String(error);
    await deps.store.deployments.finish(deployment.id, "failed", { logsExcerpt: detail.slice(-4_000) });
    const restored = await restorePrevious(deps, state, server, driverServer, port);
    return {
      deploymentId: deployment.id,
      release: release.id,
      outcome: {
        status: "failed",
        code: error instanceof AppError ? error.code : "deploy_start_failed",
        message: `the release could not be started: ${error instanceof Error ? error.message : String(error)}${restored ? "; the previous release is serving again" : ""}`,
        missing: [],
        url: null,
        botUsername: null,
        restoredPrevious: restored,
      },
    };
  }
  return { deploymentId: deployment.id, release: release.id };
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
