import { setTimeout as sleep } from "node:timers/promises";
import type { Bus } from "../../bus/index.js";
import {
  type Deployment,
  DeployRunInput,
  type Incident,
  type Server,
  type TemplateManifest,
} from "../../contracts/index.js";
import { httpHealthGate } from "../../deploy/index.js";
import type { Metrics } from "../../observability/index.js";
import type { Job } from "../../scheduler/index.js";
import { requestEngineering } from "../engineering/index.js";
import type { DevopsDeps } from "./deps.js";
import { localServer, manifestAt, targetOf } from "./helpers.js";
import { decide, type MonitorPolicy } from "./monitor-decision.js";
import { recoveryContext } from "./recovery.js";

/** Lines of the release's output an incident keeps. */
const INCIDENT_LOG_LINES = 60;
/** Live deployments one pass looks at (oldest first). */
const MAX_WATCHED = 1_000;
/** Deployments probed at once. */
const CONCURRENCY = 4;
/** Transitions older than this go (each project keeps its newest). */
const TRANSITIONS_KEPT_MS = 7 * 24 * 3_600_000;
const DAY_MS = 24 * 3_600_000;

/** What the monitor works with: the devops stages' dependencies, its bounds, and its counters. */
export interface MonitorDeps {
  devops: DevopsDeps;
  /** Where a repair run is triggered. */
  bus: Bus;
  policy: MonitorPolicy & {
    /** Pause between passes. */
    intervalMs: number;
    /** How long a service's health check may take to answer 2xx, after a restart too. */
    probeTimeoutMs: number;
  };
  metrics?: Pick<Metrics, "monitorChecks" | "monitorRestarts" | "monitorIncidents" | "monitorRepairs"> | null;
}

/** Where a deployment runs and how it is probed. */
interface Target {
  deployment: Deployment;
  server: Server | null;
  host: string;
  manifest: TemplateManifest;
  port: number | null;
}

type Probe = { isUp: true } | { isUp: false; reason: string };

/**
 * The health monitor of live deployments as a leader job (one engine at a time, where the deploy
 * driver is, since restarts need it). Each pass probes every project whose newest deployment is
 * healthy: the health check the gate uses for a service, the process or container for a bot. A
 * failing one is restarted (bounded, with backoff); one that stays down opens an incident with the
 * tail of its output, told to the chat the project came from, and, with the project's auto-repair
 * on and the day's bound allowing, an engineering run with the failure as its change request.
 * Coming back closes the incident and says so. Only changes of state are recorded (uptime).
 */
export function healthMonitorJob(deps: MonitorDeps): Job {
  const monitor = new HealthMonitor(deps);
  deps.devops.logger.info(
    { intervalMs: deps.policy.intervalMs, restarts: deps.policy.restarts },
    "health monitor of live deployments on",
  );
  return {
    name: "deploy.monitor",
    intervalMs: deps.policy.intervalMs,
    scope: "leader",
    run: (signal) => monitor.pass(signal),
  };
}

class HealthMonitor {
  /** Manifests by deployment id: a deployment's commit never changes. */
  private readonly manifests = new Map<string, TemplateManifest>();
  /** Open incidents whose opening this process has seen told: their run's events are read once. */
  private readonly announced = new Set<string>();

  constructor(private readonly deps: MonitorDeps) {}

  /** One pass over every live deployment; a failure with one is logged and the others go on. */
  async pass(signal: AbortSignal): Promise<void> {
    const { store, logger } = this.deps.devops;
    const queue = await store.deployments.serving(MAX_WATCHED);
    const live = new Set(queue.map((d) => d.id));
    for (const id of this.manifests.keys()) if (!live.has(id)) this.manifests.delete(id);
    const worker = async () => {
      for (let next = queue.shift(); next && !signal.aborted; next = queue.shift()) {
        const deployment = next;
        await this.watch(deployment, signal).catch((error: unknown) => {
          if (!signal.aborted)
            logger.warn({ err: error, projectId: deployment.projectId }, "monitor check failed");
        });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await store.healthTransitions.prune(TRANSITIONS_KEPT_MS);
  }

  private async watch(deployment: Deployment, signal: AbortSignal): Promise<void> {
    const { store } = this.deps.devops;
    const { projectId } = deployment;
    // A deploy under way changes what runs: the deploy's own gate judges it.
    if (await this.isDeploying(projectId)) return;
    const target = await this.targetOf(deployment);
    let probe = await this.probe(target);
    this.deps.metrics?.monitorChecks.inc({ result: probe.isUp ? "up" : "down" });
    let incident = await store.incidents.openFor(projectId);
    const project = await store.projects.get(projectId);
    const repairsToday = probe.isUp ? 0 : await store.incidents.repairsSince(projectId, DAY_MS);
    let restartsTried = 0;
    // What the failing process printed: a restart starts a new output, so it is kept from before.
    let failedOutput: string[] = [];
    for (;;) {
      const step = decide(
        {
          isUp: probe.isUp,
          restartsTried,
          incident: incident ? { hasRepair: incident.repairStartedAt !== null } : null,
          autoRepair: project.autoRepair,
          repairsToday,
        },
        this.deps.policy,
      );
      if (step.kind === "restart") {
        await sleep(step.delayMs, undefined, { signal });
        // A deploy that started meanwhile decides what runs: no restart of the old release under it.
        if (await this.isDeploying(projectId)) return;
        if (restartsTried === 0) failedOutput = await this.output(target);
        restartsTried += 1;
        probe = await this.restart(target);
        this.deps.metrics?.monitorRestarts.inc({ result: probe.isUp ? "up" : "down" });
        continue;
      }
      if (step.kind === "healthy") {
        await this.noteUp(deployment);
        return;
      }
      if (step.kind === "recovered" && incident) {
        await this.noteUp(deployment);
        await this.close(incident, deployment);
        return;
      }
      if (step.kind === "down") {
        const reason = probe.isUp ? "" : probe.reason;
        await this.noteDown(deployment, reason);
        if (step.openIncident) {
          incident = await this.open(target, reason, restartsTried, step.repair, failedOutput);
        } else if (incident) {
          incident = await store.incidents.setRestarts(incident.id, incident.restarts + restartsTried);
          await this.ensureAnnounced(incident, deployment);
          if (step.repair) await this.repair(incident, deployment);
        }
      }
      return;
    }
  }

  private async isDeploying(projectId: string): Promise<boolean> {
    const { store } = this.deps.devops;
    for (const status of ["queued", "running"] as const) {
      const page = await store.runs.list({ projectId, kind: "deploy", status, limit: 1, offset: 0 });
      if (page.items.length > 0) return true;
    }
    return false;
  }

  private async targetOf(deployment: Deployment): Promise<Target> {
    const deps = this.deps.devops;
    const record = deployment.serverId
      ? await deps.store.servers.get(deployment.serverId)
      : await localServer(deps.store);
    const target = targetOf(deps.driver, record);
    let manifest = this.manifests.get(deployment.id);
    if (!manifest) {
      const project = await deps.store.projects.get(deployment.projectId);
      manifest = await manifestAt(deps, project.slug, deployment.commitSha);
      this.manifests.set(deployment.id, manifest);
    }
    const entry = manifest.env.find((e) => e.kind === "allocated-port");
    const ports = entry
      ? await deps.store.ports.list({
          projectId: deployment.projectId,
          serverId: record.id,
          limit: 200,
          offset: 0,
        })
      : null;
    const port = entry ? (ports?.items.find((p) => p.service === entry.name)?.port ?? null) : null;
    return { deployment, server: target.server, host: target.host, manifest, port };
  }

  /** The health gate's check, bounded by the probe timeout: HTTP 2xx for a service, a running process for a bot. */
  private async probe(target: Target): Promise<Probe> {
    const { driver } = this.deps.devops;
    const { projectId } = target.deployment;
    const isAlive = () => driver.isRunning(projectId, target.server);
    const check = target.manifest.healthCheck;
    if (check.kind !== "http") {
      return (await isAlive()) ? { isUp: true } : { isUp: false, reason: "the bot's process is not running" };
    }
    if (target.port === null) return { isUp: false, reason: "the service has no allocated port" };
    const result = await httpHealthGate({
      url: `http://${target.host}:${target.port}`,
      path: check.path,
      intervalMs: Math.min(250, this.deps.policy.probeTimeoutMs),
      deadlineMs: this.deps.policy.probeTimeoutMs,
    });
    return result.ok ? { isUp: true } : { isUp: false, reason: result.reason };
  }

  /** Starts the serving release again through the driver (environment resolved afresh), then probes it. */
  private async restart(target: Target): Promise<Probe> {
    const deps = this.deps.devops;
    const { projectId, release: releaseId } = target.deployment;
    const release = (await deps.driver.releases(projectId, target.server)).find((r) => r.id === releaseId);
    if (!release) return { isUp: false, reason: `release ${releaseId} is no longer kept` };
    const spec = await recoveryContext(deps).runSpecFor(projectId, release, target.port);
    if (!spec.ok) return { isUp: false, reason: `settings without a value: ${spec.missing.join(", ")}` };
    try {
      await deps.driver.run(spec.spec);
    } catch (error) {
      deps.logger.warn(
        { err: error, projectId, release: releaseId },
        "monitor could not restart the release",
      );
      return {
        isUp: false,
        reason: `the restart failed: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    deps.logger.info({ projectId, release: releaseId }, "monitor restarted the release");
    return this.probe(target);
  }

  private async noteUp(deployment: Deployment): Promise<void> {
    const { store } = this.deps.devops;
    const last = await store.healthTransitions.last(deployment.projectId);
    if (last?.isUp && last.deploymentId === deployment.id) return;
    await store.healthTransitions.record({
      projectId: deployment.projectId,
      deploymentId: deployment.id,
      isUp: true,
      reason: null,
    });
  }

  private async noteDown(deployment: Deployment, reason: string): Promise<void> {
    const { store } = this.deps.devops;
    const last = await store.healthTransitions.last(deployment.projectId);
    if (last && !last.isUp && last.deploymentId === deployment.id) return;
    await store.healthTransitions.record({
      projectId: deployment.projectId,
      deploymentId: deployment.id,
      isUp: false,
      reason: reason.slice(0, 2_000),
    });
  }

  /** Opens the incident with the release's output tail, starts a repair when allowed, and tells the owner. */
  /** The last lines of the release's output (of its latest process), or why they cannot be read. */
  private output(target: Target): Promise<string[]> {
    return this.deps.devops.driver
      .logs(target.deployment.projectId, target.server, INCIDENT_LOG_LINES)
      .catch((error: unknown) => [`(the release's output could not be read: ${String(error)})`]);
  }

  /**
   * Opens the incident with the output of the process that failed and of the latest restart,
   * starts a repair when allowed, and tells the owner.
   */
  private async open(
    target: Target,
    reason: string,
    restarts: number,
    repair: boolean,
    failedOutput: string[],
  ): Promise<Incident> {
    const deps = this.deps.devops;
    const { deployment } = target;
    const latest = await this.output(target);
    const lines =
      restarts > 0
        ? [...failedOutput, `--- after ${restarts} restart(s) by the health monitor ---`, ...latest]
        : latest;
    const opened = await deps.store.incidents.open({
      projectId: deployment.projectId,
      deploymentId: deployment.id,
      reason: reason || "the release does not answer",
      logsExcerpt: lines.join("\n"),
      restarts,
    });
    let incident = opened.incident;
    if (!opened.isCreated) return incident;
    this.deps.metrics?.monitorIncidents.inc({ event: "opened" });
    deps.logger.warn({ projectId: deployment.projectId, incidentId: incident.id, reason }, "incident opened");
    if (repair) incident = await this.repair(incident, deployment);
    if (deployment.runId) await this.announceOpened(incident, deployment.runId);
    return incident;
  }

  /**
   * Announces the recovery, then closes the incident: a crash in between leaves it open, so the
   * next pass announces again (the chat keys its message per incident: nothing doubles) and closes.
   */
  private async close(incident: Incident, deployment: Deployment): Promise<void> {
    const deps = this.deps.devops;
    const downSeconds = Math.max(0, Math.round((Date.now() - Date.parse(incident.openedAt)) / 1000));
    if (deployment.runId) {
      await deps.journal.append({
        runId: deployment.runId,
        type: "deploy.incident_closed",
        data: {
          incidentId: incident.id,
          projectId: incident.projectId,
          deploymentId: incident.deploymentId,
          downSeconds,
        },
      });
    }
    const closed = await deps.store.incidents.close(incident.id);
    this.announced.delete(incident.id);
    if (!closed.isClosed) return;
    this.deps.metrics?.monitorIncidents.inc({ event: "closed" });
    deps.logger.info(
      { projectId: incident.projectId, incidentId: incident.id, downSeconds },
      "incident closed",
    );
  }

  /**
   * An open incident's opening is told once: a crash between opening it and telling left no event,
   * so a later pass that finds it still down tells it then.
   */
  private async ensureAnnounced(incident: Incident, deployment: Deployment): Promise<void> {
    const runId = deployment.runId;
    if (!runId || incident.deploymentId !== deployment.id || this.announced.has(incident.id)) return;
    const events = await this.deps.devops.store.runEvents.list(runId, { limit: 5_000 });
    const told = events.some((e) => e.type === "deploy.incident_opened" && e.data.incidentId === incident.id);
    if (told) this.announced.add(incident.id);
    else await this.announceOpened(incident, runId);
  }

  private async announceOpened(incident: Incident, runId: string): Promise<void> {
    await this.deps.devops.journal.append({
      runId,
      type: "deploy.incident_opened",
      data: {
        incidentId: incident.id,
        projectId: incident.projectId,
        deploymentId: incident.deploymentId,
        reason: incident.reason,
        restarts: incident.restarts,
        repairRunId: incident.repairRunId,
      },
    });
    this.announced.add(incident.id);
  }

  /**
   * Starts an engineering change run with the failure as its request (the masked log excerpt the
   * incident keeps), shown in the chat the project came from. A run already under way is left to
   * finish: no repair then, and none counted.
   */
  private async repair(incident: Incident, deployment: Deployment): Promise<Incident> {
    const deps = this.deps.devops;
    const request = [
      `The live release of this project stopped answering its health check and stayed down after ${incident.restarts} restart(s): ${incident.reason}.`,
      "Find the cause in its output below and fix it, with a test that shows the fix.",
      "",
      "Output of the release (newest last):",
      incident.logsExcerpt || "(no output)",
    ].join("\n");
    let run: Awaited<ReturnType<typeof requestEngineering>>;
    try {
      run = await requestEngineering(
        { store: deps.store, bus: this.deps.bus, journal: deps.journal },
        { projectId: incident.projectId, changeRequest: request.slice(0, 20_000) },
      );
    } catch (error) {
      deps.logger.warn({ err: error, projectId: incident.projectId }, "monitor could not start a repair run");
      return incident;
    }
    const repaired = await deps.store.incidents.setRepair(incident.id, run.id);
    this.deps.metrics?.monitorRepairs.inc();
    deps.logger.warn({ projectId: incident.projectId, runId: run.id }, "repair run started");
    const conversation = await this.conversationOf(deployment);
    if (conversation) await deps.store.conversations.linkRun(run.id, conversation);
    return repaired;
  }

  /** The chat the deployment's run came from: its own, or that of the run it followed. */
  private async conversationOf(deployment: Deployment): Promise<string | null> {
    const { store } = this.deps.devops;
    if (!deployment.runId) return null;
    const own = await store.conversations.originOf(deployment.runId);
    if (own) return own;
    const run = await store.runs.get(deployment.runId);
    const input = DeployRunInput.safeParse(run.input).data;
    const source = input?.sourceRunId ?? input?.resumes ?? null;
    return source ? store.conversations.originOf(source) : null;
  }
}
