import { z } from "zod";
import { Id, Slug, Timestamp } from "./ids.js";
import { Incident, Uptime } from "./monitor.js";
import { RunKind } from "./runs.js";
import { SecretKind } from "./secrets.js";
import { ProjectStatus, RunStatus } from "./status.js";

/** Projects one `project.status` answer covers at most when no project is named (the newest). */
export const PROJECT_STATUS_LIMIT = 20;
/** Failed or blocked runs reported per project. */
export const RECENT_FAILURES = 3;

/**
 * How a project's release is doing, from checks the store recorded (never a guess): `live` (its
 * health gate passed and nothing recorded since says otherwise), `down` (a recorded fact says it
 * does not run), `unknown` (a recorded check could not tell), `none` (nothing is deployed).
 */
export const HealthState = z.enum(["live", "down", "unknown", "none"]);
export type HealthState = z.infer<typeof HealthState>;

/**
 * The record a health verdict rests on: the deployment's health gate, a later deploy run (which
 * stopped or restored the release), the local release's supervisor, the server's periodic check,
 * the health monitor's open incident, or the deployments alone (nothing serves).
 */
export const HealthBasis = z.enum([
  "health_gate",
  "deploy_run",
  "release_owner",
  "server_check",
  "deployments",
  "health_monitor",
]);
export type HealthBasis = z.infer<typeof HealthBasis>;

export const ProjectHealth = z.object({
  state: HealthState,
  /** When the record the verdict rests on was made; null when there is none. */
  checkedAt: Timestamp.nullable(),
  basis: HealthBasis,
  /** Why, in words a person can read, when it is not plainly live. */
  reason: z.string().nullable(),
  /** The deployment that should serve (the `healthy` one), or null. */
  deploymentId: Id.nullable(),
  url: z.string().nullable(),
});
export type ProjectHealth = z.infer<typeof ProjectHealth>;

/** The project's latest deploy or rollback run (teardowns aside) and what it produced. */
export const LastDeploy = z.object({
  runId: Id,
  action: z.enum(["deploy", "rollback"]),
  status: RunStatus,
  finishedAt: Timestamp.nullable(),
  url: z.string().nullable(),
  botUsername: z.string().nullable(),
  commit: z.string().nullable(),
});
export type LastDeploy = z.infer<typeof LastDeploy>;

/** A run still under way: queued, running, or paused on its budget (`awaiting_approval`). */
export const ActiveRun = z.object({
  runId: Id,
  kind: RunKind,
  status: z.enum(["queued", "running", "awaiting_approval"]),
  stage: z.string().nullable(),
  iteration: z.number().int().min(0),
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
});
export type ActiveRun = z.infer<typeof ActiveRun>;

/** A run that ended failed or blocked, with what the person may need to act on it. */
export const RunFailure = z.object({
  runId: Id,
  kind: RunKind,
  status: z.enum(["failed", "blocked"]),
  at: Timestamp.nullable(),
  code: z.string().nullable(),
  message: z.string().nullable(),
  /** A blocked engineering run's question for the person (answer it with `engineering.answer`). */
  question: z.string().nullable(),
  /** A blocked deploy's required secrets without a value: names only. */
  missingSecrets: z.array(z.string()),
  /** The engineering run that continues this one with the person's answer, or null. */
  continuedBy: Id.nullable(),
});
export type RunFailure = z.infer<typeof RunFailure>;

/** One project as `project.status` reports it. */
export const ProjectStatusReport = z.object({
  id: Id,
  slug: Slug,
  name: z.string(),
  status: ProjectStatus,
  health: ProjectHealth,
  lastDeploy: LastDeploy.nullable(),
  /** When the serving release last came up healthy; null unless `health.state` is `live`. */
  liveSince: Timestamp.nullable(),
  /** Seconds since `liveSince`; null with it. */
  uptimeSeconds: z.number().int().min(0).nullable(),
  activeRun: ActiveRun.nullable(),
  recentFailures: z.array(RunFailure).max(RECENT_FAILURES),
  /** Share of the last 24 hours its release answered the health monitor (null: never observed). */
  uptime24h: Uptime,
  /** The health monitor's open incident (at most one), without its log excerpt. */
  openIncidents: z.array(Incident.omit({ logsExcerpt: true })).max(1),
});
export type ProjectStatusReport = z.infer<typeof ProjectStatusReport>;

export const ProjectStatusInput = z.object({
  projectId: Id.optional().describe("project UUID; without it, every project you may see (newest 20)"),
});
export type ProjectStatusInput = z.infer<typeof ProjectStatusInput>;

export const ProjectStatusList = z.object({
  items: z.array(ProjectStatusReport),
  /** Projects the caller may see in all; more than `items` holds when the list was cut. */
  total: z.number().int().min(0),
  /** The moment the answer was put together (uptimes count up to it). */
  asOf: Timestamp,
});
export type ProjectStatusList = z.infer<typeof ProjectStatusList>;

/**
 * A project's secret as its owner (and the Product Owner acting for them) may see it: the name,
 * who provides it and whether it has a value. Never the value, its length or who wrote it.
 */
export const ProjectSecretInfo = z.object({
  key: z.string(),
  kind: SecretKind,
  isFilled: z.boolean(),
  updatedAt: Timestamp,
});
export type ProjectSecretInfo = z.infer<typeof ProjectSecretInfo>;

export const ProjectSecretsList = z.object({
  projectId: Id,
  secrets: z.array(ProjectSecretInfo),
  /** Required secrets the latest deploy was blocked on that still have no value: names only. */
  missing: z.array(z.string()),
});
export type ProjectSecretsList = z.infer<typeof ProjectSecretsList>;
