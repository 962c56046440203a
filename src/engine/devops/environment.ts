import type { DevopsDeps } from "./deps.js";
import { environmentFor } from "./helpers.js";
import type { DevopsStateValue, DevopsUpdate } from "./state.js";

/**
 * EnvResolver and Readiness: every required variable of the contract has a value (missing user
 * secrets end the run `blocked` with their names, for the Product Owner to ask), and the server is
 * ready. Values are resolved here only to check them; the Deployer resolves them again in memory.
 */
export async function environment(deps: DevopsDeps, state: DevopsStateValue): Promise<DevopsUpdate> {
  const { runId, input, manifest, serverId } = state;
  if (!manifest || !serverId) throw new Error("environment stage before allocation");
  await deps.journal.stage(runId, "environment");
  const server = await deps.store.servers.get(serverId);
  const resolved = await environmentFor(deps, {
    projectId: input.projectId,
    manifest,
    server,
    ports: state.ports,
  });
  if (!resolved.ok) {
    return {
      outcome: {
        status: "blocked",
        code: "missing_secrets",
        message: `missing required settings: ${resolved.missing.join(", ")}`,
        missing: resolved.missing,
        url: null,
        botUsername: null,
        restoredPrevious: false,
      },
    };
  }
  await deps.journal.stage(runId, "readiness");
  if (server.status !== "ready") {
    return {
      outcome: {
        status: "failed",
        code: "server_not_ready",
        message: `server ${server.handle} is ${server.status}${server.lastError ? `: ${server.lastError}` : ""}`,
        missing: [],
        url: null,
        botUsername: null,
        restoredPrevious: false,
      },
    };
  }
  return {};
}
