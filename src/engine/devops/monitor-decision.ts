/**
 * The health monitor's decisions as a pure function of what it knows about one live deployment:
 * the probe's verdict, the restarts tried so far in this pass, the project's open incident and its
 * auto-repair setting with the repairs of the last day. The job (`monitor.ts`) carries the steps out.
 */

/** Bounds the monitor works within (from `MONITOR_*` settings). */
export interface MonitorPolicy {
  /** Restarts per pass before an incident opens. */
  restarts: number;
  /** Wait before the first restart; doubled before each next one, at most ten times this. */
  restartBackoffMs: number;
  /** Repair runs per project and 24 hours. */
  repairsPerDay: number;
}

/** What the monitor knows about one deployment at one step of a pass. */
export interface MonitorObservation {
  isUp: boolean;
  /** Restarts tried in this pass so far. */
  restartsTried: number;
  /** The project's open incident, or null. */
  incident: { hasRepair: boolean } | null;
  /** The project's `autoRepair` setting. */
  autoRepair: boolean;
  /** Repair runs started for the project in the last 24 hours. */
  repairsToday: number;
}

/**
 * `healthy`: up, nothing open. `recovered`: up again, close the incident and say so. `restart`:
 * restart the serving release after `delayMs`. `down`: stays down after the restarts: open an
 * incident unless one is open (and tell the owner), and start a repair run when `repair`.
 */
export type MonitorStep =
  | { kind: "healthy" }
  | { kind: "recovered" }
  | { kind: "restart"; delayMs: number }
  | { kind: "down"; openIncident: boolean; repair: boolean };

/** Backoff growth is capped at this many times the first wait. */
const BACKOFF_CAP = 10;

/** Wait before the `attempt`-th restart of a pass (1-based). */
export function restartDelayMs(attempt: number, backoffMs: number): number {
  return Math.min(backoffMs * 2 ** Math.max(0, attempt - 1), backoffMs * BACKOFF_CAP);
}

/**
 * The next step for one deployment. A release already under an open incident gets one restart per
 * pass (it keeps being tried, without the whole backoff sequence each interval); a fresh failure
 * gets `policy.restarts`. A repair run is started at most once per incident, only with auto-repair
 * on and while the project's day's bound allows.
 */
export function decide(seen: MonitorObservation, policy: MonitorPolicy): MonitorStep {
  if (seen.isUp) return seen.incident ? { kind: "recovered" } : { kind: "healthy" };
  const allowed = seen.incident ? Math.min(1, policy.restarts) : policy.restarts;
  if (seen.restartsTried < allowed) {
    return { kind: "restart", delayMs: restartDelayMs(seen.restartsTried + 1, policy.restartBackoffMs) };
  }
  const repair = seen.autoRepair && !seen.incident?.hasRepair && seen.repairsToday < policy.repairsPerDay;
  return { kind: "down", openIncident: seen.incident === null, repair };
}
