import {
  type Deployment,
  DeployRunResult,
  type HealthBasis,
  type HealthState,
  type Incident,
  type Instance,
  type ProjectHealth,
  type Run,
  type Server,
} from "../../contracts/index.js";
import type { ReleaseOwner } from "../../store/index.js";

/** What the store recorded about a project's release, gathered by `project.status`. */
export interface HealthEvidence {
  /** The newest `healthy` deployment: what should serve. */
  serving: Deployment | null;
  /** The newest deployment of any status (why nothing serves). */
  latest: Deployment | null;
  /** Deploy and rollback runs of the project, newest first. */
  deployRuns: readonly Run[];
  /** The serving deployment's server. */
  server: Server | null;
  /** The local driver's supervision record of the project, when that driver keeps one. */
  owner: ReleaseOwner | null;
  /** The heartbeat of the engine named as the owner. */
  ownerInstance: Instance | null;
  /** The health monitor's open incident of the project, if any. */
  incident?: Omit<Incident, "logsExcerpt"> | null;
}

interface Verdict {
  state: HealthState;
  at: string | null;
  basis: HealthBasis;
  reason: string | null;
}

const SEVERITY: Record<HealthState, number> = { none: 0, live: 1, unknown: 2, down: 3 };
const time = (iso: string | null | undefined) => (iso ? Date.parse(iso) : Number.NaN);

/**
 * The health of a project's release and since when it serves, judged only from recorded checks:
 * the health gate a deployment passed, a later deploy run that replaced the release and could not
 * bring the previous one back, the local supervisor's record (no live engine holds the release),
 * the server's periodic check. The most severe recorded verdict wins; among equals, the newest.
 */
export function healthOf(e: HealthEvidence): { health: ProjectHealth; liveSince: string | null } {
  const serving = e.serving;
  if (!serving) {
    const reason =
      e.latest === null
        ? "never deployed"
        : e.latest.status === "stopped"
          ? "torn down"
          : e.latest.status === "failed"
            ? "the last deploy did not pass its health gate"
            : `the last deployment is ${e.latest.status}`;
    return {
      health: {
        state: "none",
        checkedAt: e.latest?.finishedAt ?? null,
        basis: "deployments",
        reason,
        deploymentId: null,
        url: null,
      },
      liveSince: null,
    };
  }
  const gateAt = serving.finishedAt ?? serving.createdAt;
  let liveSince = gateAt;
  const verdicts: Verdict[] = [{ state: "live", at: gateAt, basis: "health_gate", reason: null }];

  // A deploy that started its release after this one, failed its gate and rolled back: the
  // previous release serves only if the rollback brought it back through the gate.
  const rolledBack = e.deployRuns.find(
    (r) => r.status === "failed" && r.stage === "rollback" && time(r.finishedAt) > time(gateAt),
  );
  if (rolledBack?.finishedAt) {
    const result = DeployRunResult.safeParse(rolledBack.result);
    if (result.success && result.data.restoredPrevious) {
      liveSince = rolledBack.finishedAt;
      verdicts.push({ state: "live", at: rolledBack.finishedAt, basis: "deploy_run", reason: null });
    } else {
      verdicts.push({
        state: "down",
        at: rolledBack.finishedAt,
        basis: "deploy_run",
        reason: `deploy run ${rolledBack.id} failed (${rolledBack.error?.code ?? "failed"}) and the previous release could not be brought back`,
      });
    }
  }

  const owner = e.owner;
  if (owner && owner.release === serving.release) {
    const held = owner.owner;
    // Held only by a live engine in the incarnation that claimed it: a restart ends its releases.
    const isHeld =
      held !== null && e.ownerInstance?.alive === true && e.ownerInstance.incarnation === held.incarnation;
    if (!isHeld) {
      verdicts.push({
        state: "down",
        at: owner.updatedAt,
        basis: "release_owner",
        reason: "no running engine supervises the release; it starts again when an engine adopts it",
      });
    } else if (owner.pid === null) {
      verdicts.push({
        state: "unknown",
        at: owner.updatedAt,
        basis: "release_owner",
        reason: "its engine is restarting the release",
      });
    }
  }

  const incident = e.incident;
  if (incident && (incident.deploymentId === null || incident.deploymentId === serving.id)) {
    verdicts.push({
      state: "down",
      at: incident.openedAt,
      basis: "health_monitor",
      reason: `the health monitor found it down: ${incident.reason}`,
    });
  }

  const server = e.server;
  if (server?.status === "removed") {
    verdicts.push({
      state: "down",
      at: server.updatedAt,
      basis: "server_check",
      reason: `server ${server.handle} was removed`,
    });
  } else if (server?.status === "error" && time(server.lastHealthCheckAt) >= time(gateAt)) {
    verdicts.push({
      state: "unknown",
      at: server.lastHealthCheckAt,
      basis: "server_check",
      reason: `server ${server.handle} failed its last check${server.lastError ? `: ${server.lastError}` : ""}`,
    });
  }

  const picked = verdicts.reduce((best, v) =>
    SEVERITY[v.state] > SEVERITY[best.state] ||
    (SEVERITY[v.state] === SEVERITY[best.state] && time(v.at) > time(best.at))
      ? v
      : best,
  );
  return {
    health: {
      state: picked.state,
      checkedAt: picked.at,
      basis: picked.basis,
      reason: picked.reason,
      deploymentId: serving.id,
      url: serving.url,
    },
    liveSince: picked.state === "live" ? liveSince : null,
  };
}
