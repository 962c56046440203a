import type { Server } from "../../contracts/index.js";
import { RELEASES_KEPT } from "../../deploy/driver.js";
import { httpHealthGate, telegramHealthGate } from "../../deploy/health/index.js";
import type { DevopsDeps } from "./deps.js";
import { environmentFor, mainPort, manifestAt, moveProject, driverServer as serverFor } from "./helpers.js";
import { type DevopsStateValue, type DevopsUpdate, publicUrl } from "./state.js";

const LOG_LINES = 40;

/**
 * SmokeTest: the health gate decides. Green: the deployment is `healthy`, the one before it
 * `superseded` (or `rolled_back` by a rollback), old releases pruned, the project `live`. Red: the
 * deployment is `failed` with the last log lines, and the release that served before is started
 * again and must pass the gate itself before the run says it was restored.
 */
export async function smoke(deps: DevopsDeps, state: DevopsStateValue): Promise<DevopsUpdate> {
  const { runId, input, manifest, serverId, deploymentId, release } = state;
  if (!manifest || !serverId || !deploymentId || !release) throw new Error("smoke stage before a deploy");
  await deps.journal.stage(runId, "smoke");
  const server = await deps.store.servers.get(serverId);
  const driverServer = serverFor(deps.driver, server);
  const port = mainPort(manifest, state.ports);
  const gate = await runGate(deps, input.projectId, manifest, server, driverServer, port);
  if (gate.ok) {
    const url = publicUrl(manifest.healthCheck, server.host, port);
    await deps.store.deployments.finish(deploymentId, "healthy", { url, healthCheck: gate.record });
    if (state.previousDeploymentId && state.previousDeploymentId !== deploymentId) {
      const previous = await deps.store.deployments.get(state.previousDeploymentId);
      if (previous.status === "healthy") {
        await deps.store.deployments.finish(
          previous.id,
          input.action === "rollback" ? "rolled_back" : "superseded",
          {},
        );
      }
    }
    await deps.driver.prune(input.projectId, driverServer, RELEASES_KEPT);
    await moveProject(deps.store, input.projectId, "live");
    return {
      gate: gate.record,
      outcome: {
        status: "succeeded",
        code: "healthy",
        message: url ? `live at ${url}` : `@${gate.botUsername} is live`,
        missing: [],
        url,
        botUsername: gate.botUsername,
        restoredPrevious: false,
      },
    };
  }
  const logs = (await deps.driver.logs(input.projectId, driverServer, LOG_LINES).catch(() => [])).join("\n");
  await deps.store.deployments.finish(deploymentId, "failed", {
    healthCheck: gate.record,
    logsExcerpt: logs,
  });
  const restored = await restorePrevious(deps, state, server, driverServer, port);
  return {
    gate: gate.record,
    outcome: {
      status: "failed",
      code: "health_gate_failed",
      message: `the release did not pass its health gate: ${gate.reason}${restored ? "; the previous release is serving again" : ""}`,
      missing: [],
      url: null,
      botUsername: null,
      restoredPrevious: restored,
    },
  };
}

async function runGate(
  deps: DevopsDeps,
  projectId: string,
  manifest: NonNullable<DevopsStateValue["manifest"]>,
  server: Server,
  driverServer: Server | null,
  port: number | null,
): Promise<{ ok: boolean; reason: string; botUsername: string | null; record: Record<string, unknown> }> {
  const isAlive = () => deps.driver.isRunning(projectId, driverServer);
  const check = manifest.healthCheck;
  if (check.kind === "http") {
    const host = deps.driver.kind === "local" ? "127.0.0.1" : server.host;
    const result = await httpHealthGate({
      url: `http://${host}:${port}`,
      path: check.path,
      isAlive,
      intervalMs: deps.gate.intervalMs,
      deadlineMs: deps.gate.deadlineMs,
    });
    return {
      ok: result.ok,
      reason: result.ok ? "" : result.reason,
      botUsername: null,
      record: { kind: "http", path: check.path, ...result },
    };
  }
  const token = await deps.secrets.get(projectId, check.tokenVariable);
  const probe = deps.botProbe;
  const result = await telegramHealthGate({
    apiRoot: deps.telegramApiRoot ?? "https://api.telegram.org",
    token: token ?? "",
    isAlive,
    ...(probe && token ? { probe: (username: string) => probe.probe(token, username) } : {}),
    intervalMs: deps.gate.intervalMs,
    deadlineMs: deps.gate.deadlineMs,
  });
  const { botUsername, ...record } = result;
  return {
    ok: result.ok,
    reason: result.ok ? "" : result.reason,
    botUsername,
    record: { kind: "telegram", ...record },
  };
}

/** Starts the release that served before this attempt again; true only when it passes the gate. */
export async function restorePrevious(
  deps: DevopsDeps,
  state: DevopsStateValue,
  server: Server,
  driverServer: Server | null,
  port: number | null,
): Promise<boolean> {
  const { input } = state;
  if (!state.previousDeploymentId) {
    await deps.driver.stop(input.projectId, driverServer);
    return false;
  }
  const previous = await deps.store.deployments.get(state.previousDeploymentId);
  const releases = await deps.driver.releases(input.projectId, driverServer);
  const release = releases.find((r) => r.id === previous.release);
  if (!release) return false;
  const project = await deps.store.projects.get(input.projectId);
  const manifest = await manifestAt(deps, project.slug, previous.commitSha);
  const env = await environmentFor(deps, {
    projectId: input.projectId,
    manifest,
    server,
    ports: state.ports,
  });
  if (!env.ok) return false;
  try {
    await deps.driver.run({
      release,
      env: env.env,
      port,
      manifest,
      slug: project.slug,
      server: driverServer,
    });
  } catch (error) {
    await deps.journal.log(
      state.runId,
      `previous release could not be started again: ${error instanceof Error ? error.message : String(error)}`,
    );
    return false;
  }
  const gate = await runGate(deps, input.projectId, manifest, server, driverServer, port);
  await deps.journal.log(
    state.runId,
    gate.ok
      ? "previous release restored and healthy"
      : `previous release restarted but unhealthy: ${gate.reason}`,
  );
  return gate.ok;
}
