import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import {
  AgentRole,
  AppError,
  parseOrThrow,
  Worker,
  WorkerCreate,
  WorkerReport,
  WorkerStateMachine,
} from "../../contracts/index.js";
import type { SecretRedactor } from "../../observability/index.js";
import { workers } from "../schema.js";
import type { WorkerRepository } from "../store.js";
import {
  casMove,
  type Db,
  filterId,
  firstOrNotFound,
  guard,
  iso,
  isoOrNull,
  listPage,
  requireId,
  toContract,
} from "./common.js";

type Row = typeof workers.$inferSelect;

function toWorker(row: Row): Worker {
  return toContract(
    Worker,
    {
      id: row.id,
      role: row.role,
      backend: row.backend,
      runtime: row.runtime,
      state: row.state,
      projectId: row.projectId,
      runId: row.runId,
      sessionId: row.sessionId,
      contextTokens: row.contextTokens,
      lastActivityAt: iso(row.lastActivityAt),
      labels: row.labels,
      report: row.report ?? null,
      reportedAt: isoOrNull(row.reportedAt),
      expiresAt: isoOrNull(row.expiresAt),
      createdAt: iso(row.createdAt),
      updatedAt: iso(row.updatedAt),
    },
    "worker",
  );
}

/**
 * Workers on any Postgres driver; state moves are compare-and-set through `WorkerStateMachine`.
 * Reports are redacted before they are stored.
 */
export function createWorkerRepository(db: Db, redactor: SecretRedactor): WorkerRepository {
  const byId = (id: string) => db.select().from(workers).where(eq(workers.id, id));

  return {
    async create(input) {
      const parsed = parseOrThrow(WorkerCreate, input, "worker");
      const data = { ...parsed, expiresAt: parsed.expiresAt ? new Date(parsed.expiresAt) : null };
      const [row] = await guard(() => db.insert(workers).values(data).returning());
      return toWorker(row as Row);
    },
    async get(id) {
      requireId("worker", id);
      return toWorker(await firstOrNotFound(byId(id), "worker", id));
    },
    async list(page) {
      const filters: SQL[] = [];
      if (page.projectId) filters.push(eq(workers.projectId, filterId("projectId", page.projectId)));
      if (page.state)
        filters.push(eq(workers.state, parseOrThrow(WorkerStateMachine.schema, page.state, "state")));
      if (page.role) filters.push(eq(workers.role, parseOrThrow(AgentRole, page.role, "role")));
      return listPage(db, workers, and(...filters), page, toWorker);
    },
    async setState(id, to) {
      requireId("worker", id);
      const target = parseOrThrow(WorkerStateMachine.schema, to, "worker state");
      const row = await casMove({
        entity: "worker",
        id,
        to: target,
        read: async () => (await byId(id))[0],
        statusOf: (r) => r.state,
        assert: (from, next) => WorkerStateMachine.assertTransition(from, next),
        write: async (from) =>
          (
            await db
              .update(workers)
              .set({
                state: target,
                updatedAt: sql`clock_timestamp()`,
                lastActivityAt: sql`clock_timestamp()`,
              })
              .where(and(eq(workers.id, id), eq(workers.state, from)))
              .returning()
          )[0],
      });
      return toWorker(row);
    },
    async setReport(id, report) {
      requireId("worker", id);
      const value =
        report === null ? null : redactor.redactValue(parseOrThrow(WorkerReport, report, "report"));
      return toWorker(
        await firstOrNotFound(
          db
            .update(workers)
            .set({
              report: value,
              reportedAt: value === null ? null : sql`clock_timestamp()`,
              lastActivityAt: sql`clock_timestamp()`,
              updatedAt: sql`clock_timestamp()`,
            })
            .where(eq(workers.id, id))
            .returning(),
          "worker",
          id,
        ),
      );
    },
    async deleteEnded(olderThanMs) {
      if (!(Number.isSafeInteger(olderThanMs) && olderThanMs >= 0)) {
        throw new AppError("invalid", "invalid_input", "invalid age of ended workers", {
          details: [{ path: "olderThanMs", message: "must be a non-negative integer" }],
        });
      }
      // Judged by the database's clock, as leases are: replicas need not agree on the time.
      const rows = await db
        .delete(workers)
        .where(
          and(
            inArray(workers.state, [...WorkerStateMachine.terminal]),
            sql`${workers.updatedAt} < clock_timestamp() - make_interval(secs => ${olderThanMs / 1000})`,
          ),
        )
        .returning({ id: workers.id });
      return rows.length;
    },
    async touch(id, change) {
      requireId("worker", id);
      const { sessionId, contextTokens } = change;
      if (contextTokens !== undefined && !(Number.isInteger(contextTokens) && contextTokens >= 0)) {
        throw new AppError("invalid", "invalid_input", "invalid worker activity", {
          details: [{ path: "contextTokens", message: "must be a non-negative integer" }],
        });
      }
      return toWorker(
        await firstOrNotFound(
          db
            .update(workers)
            .set({
              lastActivityAt: sql`clock_timestamp()`,
              updatedAt: sql`clock_timestamp()`,
              ...(sessionId !== undefined ? { sessionId } : {}),
              ...(contextTokens !== undefined ? { contextTokens } : {}),
            })
            .where(eq(workers.id, id))
            .returning(),
          "worker",
          id,
        ),
      );
    },
  };
}
