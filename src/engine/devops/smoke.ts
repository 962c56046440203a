import type { Server } from "../../contracts/index.js";
import { httpHealthGate, RELEASES_KEPT, telegramHealthGate } from "../../deploy/index.js";
import { failSpan, inSpan } from "../../observability/index.js";
import { start } from "./deployer.js";
import type { DevopsDeps } from "./deps.js";
import { mainPort, moveProject, targetOf } from "./helpers.js";
import { type DevopsStateValue, type DevopsUpdate, publicUrl } from "./state.js";

const LOG_LINES = 40;

/**
 * The start and health gate steps of one graph run. The gate watches the process its own engine
 * started: a run taken over at its gate (the engine that started the release died, this one
 * resumed the run) first starts the release again here, which takes it over from the gone engine
 * and ends its leftover process. Gated as it was, the release would look exited to this engine
 * (nobody supervises it) and a healthy release would fail and roll back.
 */
export function startAndGate(deps: DevopsDeps): {
  start(state: DevopsStateValue): Promise<DevopsUpdate>;
  gate(state: DevopsStateValue): Promise<DevopsUpdate>;
} {
  const startedHere = new Set<string>();
  const startHere = async (state: DevopsStateValue) => {
    const update = await start(deps, state);
    if (!update.failure && state.deploymentId) startedHere.add(state.deploymentId);
    return update;
  };
  return {
    start: startHere,
    async gate(state) {
      if (state.deploymentId && !startedHere.has(state.deploymentId)) {
        deps.logger.warn(
          { deploymentId: state.deploymentId, release: state.release },
          "the deploy resumes at its health gate: starting the release again under this engine",
        );
        const restarted = await startHere(state);
        if (restarted.failure) return restarted;
      }
      return gate(deps, state);
    },
  };
}

/**
 * Health gate (SmokeTest): the gate decides. Green goes on to `record`; red marks the deployment
 * `failed` with the last log lines and hands over to the rollback step.
 */
async function gate(deps: DevopsDeps, state: DevopsStateValue): Promise<DevopsUpdate> {
  const { runId, input, manifest, serverId, deploymentId, release } = state;
  if (!manifest || !serverId || !deploymentId || !release) throw new Error("smoke stage before a deploy");
  await deps.journal.stage(runId, "smoke");
  const server = await deps.store.servers.get(serverId);
  const result = await runGate(deps, input.projectId, manifest, server, mainPort(manifest, state.ports));
  if (result.ok) return { gate: { ...result.record, botUsername: result.botUsername } };
  const target = targetOf(deps.driver, server).server;
  const logs = (await deps.driver.logs(input.projectId, target, LOG_LINES).catch(() => [])).join("\n");
  await deps.store.deployments.finish(deploymentId, "failed", {
    healthCheck: result.record,
    logsExcerpt: logs,
  });
  return {
    gate: result.record,
    failure: {
      code: "health_gate_failed",
      message: `the release did not pass its health gate: ${result.reason}`,
    },
  };
}

/**
 * Record: the release passed its gate. The deployment is `healthy`, the one before it `superseded`
 * (or `rolled_back` by a rollback), old releases pruned, the project `live`.
 */
export async function record(deps: DevopsDeps, state: DevopsStateValue): Promise<DevopsUpdate> {
  const { input, manifest, serverId, deploymentId } = state;
  if (!manifest || !serverId || !deploymentId) throw new Error("record stage before a deploy");
  const server = await deps.store.servers.get(serverId);
  const { botUsername = null, ...healthCheck } = (state.gate ?? {}) as { botUsername?: string | null };
  const url = publicUrl(manifest.healthCheck, server.host, mainPort(manifest, state.ports));
  await deps.store.deployments.finish(deploymentId, "healthy", { url, healthCheck });
  if (state.previousDeploymentId && state.previousDeploymentId !== deploymentId) {
    const previous = await deps.store.deployments.get(state.previousDeploymentId);
    if (previous.status === "healthy") {
      const status = input.action === "rollback" ? "rolled_back" : "superseded";
      await deps.store.deployments.finish(previous.id, status, {});
    }
  }
  await deps.driver.prune(input.projectId, targetOf(deps.driver, server).server, RELEASES_KEPT);
  await moveProject(deps.store, input.projectId, "live");
  return {
    gate: healthCheck,
    outcome: {
      status: "succeeded",
      code: "healthy",
      message: url ? `live at ${url}` : `@${botUsername} is live`,
      missing: [],
      url,
      botUsername,
      restoredPrevious: false,
    },
  };
}

type GateOutcome = {
  ok: boolean;
  reason: string;
  botUsername: string | null;
  record: Record<string, unknown>;
};

/**
 * The manifest's health gate against the running release: HTTP on the driver's host, or a bot's
 * `getMe`. Traced as a `deploy.health_gate` span: its kind, verdict, attempts and time taken.
 */
export function runGate(
  deps: DevopsDeps,
  projectId: string,
  manifest: NonNullable<DevopsStateValue["manifest"]>,
  server: Server,
  port: number | null,
): Promise<GateOutcome> {
  const attributes = {
    "project.id": projectId,
    "server.id": server.id,
    "deploy.health_check.kind": manifest.healthCheck.kind,
  };
  return inSpan("deploy.health_gate", attributes, async (span) => {
    const outcome = await checkHealth(deps, projectId, manifest, server, port);
    const { attempts, elapsedMs } = outcome.record as { attempts?: number; elapsedMs?: number };
    span.setAttributes({
      "deploy.health_gate.ok": outcome.ok,
      ...(typeof attempts === "number" ? { "deploy.health_gate.attempts": attempts } : {}),
      ...(typeof elapsedMs === "number" ? { "deploy.health_gate.elapsed_ms": elapsedMs } : {}),
    });
    if (!outcome.ok) failSpan(span, "health_gate_failed");
    return outcome;
  });
}

async function checkHealth(
  deps: DevopsDeps,
  projectId: string,
  manifest: NonNullable<DevopsStateValue["manifest"]>,
  server: Server,
  port: number | null,
): Promise<GateOutcome> {
  const target = targetOf(deps.driver, server);
  const isAlive = () => deps.driver.isRunning(projectId, target.server);
  const check = manifest.healthCheck;
  if (check.kind === "http") {
    const result = await httpHealthGate({
      url: `http://${target.host}:${port}`,
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
