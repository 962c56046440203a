import type { DevopsDeps } from "./deps.js";
import { auditSecretReads, environmentFor, mainPort, manifestAt, targetOf } from "./helpers.js";
import { runGate } from "./smoke.js";
import type { DevopsStateValue, DevopsUpdate } from "./state.js";

/**
 * Rollback: the started release failed (it did not start, or did not pass its gate). The release
 * that served before this attempt is started again and must pass the gate itself before the run
 * says it was restored; with nothing serving before, what was started is stopped. Ends the run
 * `failed` with the failure's reason.
 */
export async function rollback(deps: DevopsDeps, state: DevopsStateValue): Promise<DevopsUpdate> {
  const failure = state.failure;
  if (!failure) throw new Error("rollback stage without a failure");
  await deps.journal.stage(state.runId, "rollback");
  const restored = await restorePrevious(deps, state);
  return {
    outcome: {
      status: "failed",
      code: failure.code,
      message: `${failure.message}${restored ? "; the previous release is serving again" : ""}`,
      missing: [],
      url: null,
      botUsername: null,
      restoredPrevious: restored,
    },
  };
}

/** Starts the release that served before this attempt again; true only when it passes the gate. */
async function restorePrevious(deps: DevopsDeps, state: DevopsStateValue): Promise<boolean> {
  const { input, serverId } = state;
  if (!serverId) throw new Error("rollback stage before allocation");
  const server = await deps.store.servers.get(serverId);
  const target = targetOf(deps.driver, server).server;
  if (!state.previousDeploymentId) {
    await deps.driver.stop(input.projectId, target);
    await deps.journal.log(state.runId, "nothing served before this attempt: the failed release is stopped");
    return false;
  }
  const previous = await deps.store.deployments.get(state.previousDeploymentId);
  const release = (await deps.driver.releases(input.projectId, target)).find(
    (r) => r.id === previous.release,
  );
  if (!release) {
    await deps.journal.log(
      state.runId,
      `previous release ${previous.release} is no longer kept: nothing to restore`,
    );
    return false;
  }
  const project = await deps.store.projects.get(input.projectId);
  const manifest = await manifestAt(deps, project.slug, previous.commitSha);
  const env = await environmentFor(deps, {
    projectId: input.projectId,
    manifest,
    server,
    ports: state.ports,
  });
  if (!env.ok) return false;
  await auditSecretReads(deps, { projectId: input.projectId, runId: state.runId, manifest, env: env.env });
  // The port this attempt was given (the allocation the previous release also ran on).
  const port = state.manifest ? mainPort(state.manifest, state.ports) : null;
  try {
    await deps.driver.run({ release, env: env.env, port, manifest, slug: project.slug, server: target });
  } catch (error) {
    await deps.journal.log(
      state.runId,
      `previous release could not be started again: ${error instanceof Error ? error.message : String(error)}`,
    );
    return false;
  }
  const gate = await runGate(deps, input.projectId, manifest, server, port);
  await deps.journal.log(
    state.runId,
    gate.ok
      ? "previous release restored and healthy"
      : `previous release restarted but unhealthy: ${gate.reason}`,
  );
  return gate.ok;
}
