import { z } from "zod";
import { Id, PageQuery, Timestamp } from "./ids.js";

/**
 * What the health monitor found when it probed a project's serving release: `up` (its health check
 * answered) or `down` (it did not, after the restarts the monitor tried). Only changes are stored.
 */
export const HealthTransition = z.object({
  id: Id,
  projectId: Id,
  deploymentId: Id.nullable(),
  isUp: z.boolean(),
  /** Why it is down (the probe's problem); null when up. */
  reason: z.string().nullable(),
  at: Timestamp,
});
export type HealthTransition = z.infer<typeof HealthTransition>;

export const HealthTransitionCreate = z.object({
  projectId: Id,
  deploymentId: Id.nullable(),
  isUp: z.boolean(),
  reason: z.string().max(2_000).nullable(),
});
export type HealthTransitionCreate = z.infer<typeof HealthTransitionCreate>;

/** `open` while the serving release stays down after its restarts; `closed` once it answers again. */
export const IncidentStatus = z.enum(["open", "closed"]);
export type IncidentStatus = z.infer<typeof IncidentStatus>;

/** Longest log excerpt an incident keeps (characters, the newest lines). */
export const INCIDENT_LOG_CHARS = 8_000;

/**
 * A live release that went down and stayed down after the monitor's restarts: when, why, the tail
 * of its output (secrets masked), how many restarts were tried, and the engineering run started to
 * repair it (when the project's `autoRepair` is on and the day's bound allowed one).
 */
export const Incident = z.object({
  id: Id,
  projectId: Id,
  deploymentId: Id.nullable(),
  status: IncidentStatus,
  reason: z.string(),
  logsExcerpt: z.string(),
  restarts: z.number().int().min(0),
  repairRunId: Id.nullable(),
  repairStartedAt: Timestamp.nullable(),
  openedAt: Timestamp,
  closedAt: Timestamp.nullable(),
});
export type Incident = z.infer<typeof Incident>;

export const IncidentCreate = z.object({
  projectId: Id,
  deploymentId: Id.nullable(),
  reason: z.string().min(1).max(2_000),
  logsExcerpt: z.string().transform((text) => text.slice(-INCIDENT_LOG_CHARS)),
  restarts: z.number().int().min(0),
});
export type IncidentCreate = z.input<typeof IncidentCreate>;

/** `project.incidents`: one project's incidents (or those of every project the caller may see). */
export const ProjectIncidentsInput = PageQuery.extend({
  projectId: Id.optional().describe("project UUID; without it, incidents of every project you may see"),
  status: IncidentStatus.optional().describe("only open or only closed incidents"),
});
export type ProjectIncidentsInput = z.infer<typeof ProjectIncidentsInput>;

/** How much of a time window a project's release was up, from the monitor's recorded transitions. */
export const Uptime = z.object({
  /** Share of the observed part of the window the release was up, 0..1; null when never observed. */
  ratio: z.number().min(0).max(1).nullable(),
  /** The window's length (seconds). */
  windowSeconds: z.number().int().positive(),
  /** The part of the window the monitor observed (seconds). */
  observedSeconds: z.number().int().min(0),
  downSeconds: z.number().int().min(0),
});
export type Uptime = z.infer<typeof Uptime>;

/**
 * The uptime over `[now - windowMs, now]` from a project's transitions (oldest first): the state
 * before the window is the last transition before it; time before the first transition is not
 * observed and left out.
 */
export function uptimeOf(transitions: readonly HealthTransition[], now: Date, windowMs: number): Uptime {
  const end = now.getTime();
  const start = end - windowMs;
  let observed = 0;
  let down = 0;
  for (const [i, t] of transitions.entries()) {
    const from = Math.max(start, Date.parse(t.at));
    const next = transitions[i + 1];
    const to = Math.min(end, next ? Date.parse(next.at) : end);
    if (to <= from) continue;
    observed += to - from;
    if (!t.isUp) down += to - from;
  }
  const seconds = (ms: number) => Math.round(ms / 1000);
  return {
    ratio: observed > 0 ? Math.min(1, Math.max(0, (observed - down) / observed)) : null,
    windowSeconds: seconds(windowMs),
    observedSeconds: seconds(observed),
    downSeconds: seconds(down),
  };
}

/** The day of uptime `project.status` reports. */
export const UPTIME_WINDOW_MS = 24 * 3_600_000;
