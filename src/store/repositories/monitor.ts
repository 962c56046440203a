import { and, asc, count, desc, eq, gte, inArray, isNotNull, isNull, lt, sql } from "drizzle-orm";
import {
  AppError,
  HealthTransition,
  HealthTransitionCreate,
  Incident,
  IncidentCreate,
  IncidentStatus,
  parseOrThrow,
} from "../../contracts/index.js";
import type { SecretRedactor } from "../../observability/index.js";
import { healthTransitions, incidents, projects } from "../schema.js";
import type { HealthTransitionRepository, IncidentRepository } from "../store.js";
import {
  type Db,
  filterId,
  firstOrNotFound,
  guard,
  iso,
  isoOrNull,
  isUniqueViolation,
  mapDbError,
  pageOf,
  requireId,
  toContract,
} from "./common.js";

type TransitionRow = typeof healthTransitions.$inferSelect;
type IncidentRow = typeof incidents.$inferSelect;

function toTransition(row: TransitionRow): HealthTransition {
  return toContract(
    HealthTransition,
    {
      id: row.id,
      projectId: row.projectId,
      deploymentId: row.deploymentId,
      isUp: row.isUp,
      reason: row.reason,
      at: iso(row.at),
    },
    "health transition",
  );
}

function toIncident(row: IncidentRow): Incident {
  return toContract(
    Incident,
    {
      id: row.id,
      projectId: row.projectId,
      deploymentId: row.deploymentId,
      status: row.closedAt === null ? "open" : "closed",
      reason: row.reason,
      logsExcerpt: row.logsExcerpt,
      restarts: row.restarts,
      repairRunId: row.repairRunId,
      repairStartedAt: isoOrNull(row.repairStartedAt),
      openedAt: iso(row.openedAt),
      closedAt: isoOrNull(row.closedAt),
    },
    "incident",
  );
}

const ago = (ms: number) => sql`clock_timestamp() - ${`${Math.round(ms)} milliseconds`}::interval`;

/** The monitor's transitions on any Postgres driver; a reason (a probe's words) is redacted. */
export function createHealthTransitionRepository(
  db: Db,
  redactor: SecretRedactor,
): HealthTransitionRepository {
  return {
    async record(input) {
      const data = parseOrThrow(HealthTransitionCreate, input, "health transition");
      const reason = data.reason === null ? null : redactor.redact(data.reason);
      const [row] = await guard(() =>
        db
          .insert(healthTransitions)
          .values({ ...data, reason })
          .returning(),
      );
      return toTransition(row as TransitionRow);
    },
    async last(projectId) {
      const id = filterId("projectId", projectId);
      const [row] = await guard(() =>
        db
          .select()
          .from(healthTransitions)
          .where(eq(healthTransitions.projectId, id))
          .orderBy(desc(healthTransitions.at), desc(healthTransitions.id))
          .limit(1),
      );
      return row ? toTransition(row) : null;
    },
    async window(projectId, windowMs) {
      const id = filterId("projectId", projectId);
      return guard(async () => {
        // The last one before the window tells the state the window starts in.
        const before = await db
          .select()
          .from(healthTransitions)
          .where(and(eq(healthTransitions.projectId, id), lt(healthTransitions.at, ago(windowMs))))
          .orderBy(desc(healthTransitions.at), desc(healthTransitions.id))
          .limit(1);
        const inside = await db
          .select()
          .from(healthTransitions)
          .where(and(eq(healthTransitions.projectId, id), gte(healthTransitions.at, ago(windowMs))))
          .orderBy(asc(healthTransitions.at), asc(healthTransitions.id));
        return [...before, ...inside].map(toTransition);
      });
    },
    async prune(olderThanMs) {
      // Keeps each project's newest row, whatever its age: it is the state now.
      const rows = await guard(() =>
        db
          .delete(healthTransitions)
          .where(
            and(
              lt(healthTransitions.at, ago(olderThanMs)),
              sql`${healthTransitions.id} not in (select distinct on (project_id) id from health_transitions order by project_id, "at" desc, id desc)`,
            ),
          )
          .returning({ id: healthTransitions.id }),
      );
      return rows.length;
    },
  };
}

/** Incidents on any Postgres driver; the reason and the log excerpt are redacted before they are kept. */
export function createIncidentRepository(db: Db, redactor: SecretRedactor): IncidentRepository {
  const openOf = (projectId: string) =>
    db
      .select()
      .from(incidents)
      .where(and(eq(incidents.projectId, projectId), isNull(incidents.closedAt)));
  return {
    async open(input) {
      const data = parseOrThrow(IncidentCreate, input, "incident");
      const values = {
        ...data,
        reason: redactor.redact(data.reason),
        logsExcerpt: redactor.redact(data.logsExcerpt),
      };
      try {
        const [row] = await db.insert(incidents).values(values).returning();
        return { incident: toIncident(row as IncidentRow), isCreated: true };
      } catch (error) {
        if (!isUniqueViolation(error, "incidents_one_open_per_project")) throw mapDbError(error);
        const [row] = await guard(() => openOf(data.projectId));
        if (!row) throw mapDbError(error);
        return { incident: toIncident(row), isCreated: false };
      }
    },
    async get(id) {
      requireId("incident", id);
      return toIncident(
        await firstOrNotFound(db.select().from(incidents).where(eq(incidents.id, id)), "incident", id),
      );
    },
    async openFor(projectId) {
      const [row] = await guard(() => openOf(filterId("projectId", projectId)));
      return row ? toIncident(row) : null;
    },
    async close(id) {
      requireId("incident", id);
      const [row] = await guard(() =>
        db
          .update(incidents)
          .set({ closedAt: sql`clock_timestamp()` })
          .where(and(eq(incidents.id, id), isNull(incidents.closedAt)))
          .returning(),
      );
      if (row) return { incident: toIncident(row), isClosed: true };
      return { incident: await this.get(id), isClosed: false };
    },
    async setRestarts(id, restarts) {
      requireId("incident", id);
      return toIncident(
        await firstOrNotFound(
          db.update(incidents).set({ restarts }).where(eq(incidents.id, id)).returning(),
          "incident",
          id,
        ),
      );
    },
    async setRepair(id, runId) {
      requireId("incident", id);
      requireId("run", runId);
      const [row] = await guard(() =>
        db
          .update(incidents)
          .set({ repairRunId: runId, repairStartedAt: sql`clock_timestamp()` })
          .where(and(eq(incidents.id, id), isNull(incidents.repairStartedAt)))
          .returning(),
      );
      if (!row) {
        const current = await this.get(id);
        throw new AppError("conflict", "concurrent_update", `incident ${id} has a repair run already`, {
          details: [{ path: "repairRunId", message: `run ${current.repairRunId ?? "(deleted)"}` }],
        });
      }
      return toIncident(row);
    },
    async repairsSince(projectId, windowMs) {
      const id = filterId("projectId", projectId);
      const [row] = await guard(() =>
        db
          .select({ n: count() })
          .from(incidents)
          .where(
            and(
              eq(incidents.projectId, id),
              isNotNull(incidents.repairStartedAt),
              gte(incidents.repairStartedAt, ago(windowMs)),
            ),
          ),
      );
      return row?.n ?? 0;
    },
    async list(query) {
      const { limit, offset } = pageOf(query);
      const status =
        query.status === undefined ? undefined : parseOrThrow(IncidentStatus, query.status, "status");
      const owned = query.ownerId
        ? inArray(
            incidents.projectId,
            db
              .select({ id: projects.id })
              .from(projects)
              .where(eq(projects.ownerId, filterId("ownerId", query.ownerId))),
          )
        : undefined;
      const where = and(
        query.projectId ? eq(incidents.projectId, filterId("projectId", query.projectId)) : undefined,
        owned,
        status === "open"
          ? isNull(incidents.closedAt)
          : status === "closed"
            ? isNotNull(incidents.closedAt)
            : undefined,
      );
      return guard(async () => {
        const rows = await db
          .select()
          .from(incidents)
          .where(where)
          .orderBy(desc(incidents.openedAt), desc(incidents.id))
          .limit(limit)
          .offset(offset);
        const [total] = await db.select({ n: count() }).from(incidents).where(where);
        return { items: rows.map(toIncident), total: total?.n ?? 0, limit, offset };
      });
    },
  };
}
