import { and, asc, eq, inArray, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import {
  AppError,
  parseOrThrow,
  Run,
  RunCreate,
  type RunEvent,
  type RunEventCreate,
  RunKind,
  RunStatusMachine,
} from "../../contracts/index.js";
import type { SecretRedactor } from "../../observability/index.js";
import { runEvents, runs } from "../schema.js";
import type { RunRepository, RunTransition } from "../store.js";
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
import { runEventValues, toEvent } from "./run-events.js";

type Row = typeof runs.$inferSelect;
type RunStatus = Run["status"];

function toRun(row: Row): Run {
  return toContract(
    Run,
    {
      id: row.id,
      projectId: row.projectId,
      kind: row.kind,
      status: row.status,
      stage: row.stage,
      attempt: row.attempt,
      iteration: row.iteration,
      input: row.input,
      result: row.result,
      error: row.error,
      tokensIn: row.tokensIn,
      tokensOut: row.tokensOut,
      costUsd: row.costUsd,
      budgetUsd: row.budgetUsd,
      traceId: row.traceId,
      createdAt: iso(row.createdAt),
      startedAt: isoOrNull(row.startedAt),
      finishedAt: isoOrNull(row.finishedAt),
    },
    "run",
  );
}

/** A terminal run must say what came of it (ground truth, never narration); failures must say why. */
function checkOutcome(to: RunStatus, change: RunTransition): void {
  if (!RunStatusMachine.isTerminal(to)) return;
  if (change.result == null) {
    throw new AppError("invalid", "result_required", `a run moving to ${to} needs a result`, {
      details: [{ path: "result", message: "required for a terminal status" }],
    });
  }
  if ((to === "failed" || to === "blocked") && change.error == null) {
    throw new AppError("invalid", "error_required", `a run moving to ${to} needs an error`, {
      details: [{ path: "error", message: `required for ${to}` }],
    });
  }
}

/** Statuses in which a run still has work to do (and so can be leased). */
const ACTIVE: RunStatus[] = ["queued", "running"];

function checkLease(owner: string, ttlMs: number): void {
  if (!owner || owner.length > 200 || !Number.isFinite(ttlMs) || ttlMs < 1) {
    throw new AppError("invalid", "invalid_input", "invalid lease", {
      details: [{ path: "lease", message: "an owner name and a positive ttl" }],
    });
  }
}

/**
 * Runs on any Postgres driver; status moves are compare-and-set through `RunStatusMachine`. Input,
 * result and error are redacted before they are stored.
 */
export function createRunRepository(db: Db, redactor: SecretRedactor): RunRepository {
  const byId = (id: string) => db.select().from(runs).where(eq(runs.id, id));
  const updateReturning = async (id: string, set: Partial<Record<keyof Row, unknown>>) => {
    requireId("run", id);
    return toRun(
      await firstOrNotFound(
        db
          .update(runs)
          .set(set as Partial<Row>)
          .where(eq(runs.id, id))
          .returning(),
        "run",
        id,
      ),
    );
  };

  /**
   * Moves the run by compare-and-set and, in the same transaction, appends the events `eventsOf`
   * makes from the status it left: either both are stored or neither.
   */
  const move = async (
    id: string,
    to: RunStatus,
    change: RunTransition,
    eventsOf: (from: RunStatus) => RunEventCreate[],
  ): Promise<{ run: Run; events: RunEvent[] }> => {
    requireId("run", id);
    const target = parseOrThrow(RunStatusMachine.schema, to, "run status");
    const isTerminal = RunStatusMachine.isTerminal(target);
    let stored: RunEvent[] = [];
    const row = await casMove({
      entity: "run",
      id,
      to: target,
      read: async () => (await byId(id))[0],
      statusOf: (r) => r.status,
      assert: (from, next) => {
        RunStatusMachine.assertTransition(from, next);
        checkOutcome(next, change);
      },
      write: (from) =>
        db.transaction(async (tx) => {
          const [moved] = await tx
            .update(runs)
            .set({
              status: target,
              ...(change.stage !== undefined ? { stage: change.stage } : {}),
              ...(isTerminal
                ? { result: redactor.redactValue(change.result ?? null), finishedAt: sql`clock_timestamp()` }
                : {}),
              ...(change.error !== undefined ? { error: redactor.redactValue(change.error) } : {}),
              // A run resumed after waiting for approval keeps the time it first started.
              ...(target === "running"
                ? { startedAt: sql`coalesce(${runs.startedAt}, clock_timestamp())` }
                : {}),
            })
            .where(and(eq(runs.id, id), eq(runs.status, from)))
            .returning();
          if (moved === undefined) return undefined;
          const values = eventsOf(from).map((event) => runEventValues(event, redactor));
          stored =
            values.length === 0 ? [] : (await tx.insert(runEvents).values(values).returning()).map(toEvent);
          return moved;
        }),
    });
    return { run: toRun(row), events: stored };
  };

  return {
    async create(input) {
      const data = parseOrThrow(RunCreate, input, "run");
      const values = { ...data, input: redactor.redactValue(data.input) };
      const [row] = await guard(() => db.insert(runs).values(values).returning());
      return toRun(row as Row);
    },
    async get(id) {
      requireId("run", id);
      return toRun(await firstOrNotFound(byId(id), "run", id));
    },
    async list(page) {
      const filters: SQL[] = [];
      if (page.projectId) filters.push(eq(runs.projectId, filterId("projectId", page.projectId)));
      if (page.kind) filters.push(eq(runs.kind, parseOrThrow(RunKind, page.kind, "kind")));
      if (page.status)
        filters.push(eq(runs.status, parseOrThrow(RunStatusMachine.schema, page.status, "status")));
      return listPage(db, runs, and(...filters), page, toRun);
    },
    async transition(id, to, change = {}) {
      return (await move(id, to, change, () => [])).run;
    },
    transitionWithEvents(id, to, change, events) {
      return move(id, to, change, events);
    },
    async setStage(id, stage) {
      return updateReturning(id, { stage });
    },
    async incrementIteration(id) {
      return updateReturning(id, { iteration: sql`${runs.iteration} + 1` });
    },
    async setIteration(id, iteration) {
      if (!Number.isInteger(iteration) || iteration < 0) {
        throw new AppError("invalid", "invalid_input", "invalid iteration", {
          details: [{ path: "iteration", message: "a non-negative integer" }],
        });
      }
      return updateReturning(id, { iteration });
    },
    async claimLease(id, owner, ttlMs) {
      requireId("run", id);
      checkLease(owner, ttlMs);
      const rows = await guard(() =>
        db
          .update(runs)
          .set({
            leaseOwner: owner,
            leaseExpiresAt: sql`clock_timestamp() + ${`${Math.round(ttlMs)} milliseconds`}::interval`,
          })
          .where(
            and(
              eq(runs.id, id),
              inArray(runs.status, ACTIVE),
              or(
                isNull(runs.leaseOwner),
                eq(runs.leaseOwner, owner),
                lt(runs.leaseExpiresAt, sql`clock_timestamp()`),
              ),
            ),
          )
          .returning({ id: runs.id }),
      );
      return rows.length === 1;
    },
    async releaseLease(id, owner) {
      requireId("run", id);
      await guard(() =>
        db
          .update(runs)
          .set({ leaseOwner: null, leaseExpiresAt: null })
          .where(and(eq(runs.id, id), eq(runs.leaseOwner, owner))),
      );
    },
    async listClaimable(kind, limit) {
      const rows = await guard(() =>
        db
          .select()
          .from(runs)
          .where(
            and(
              eq(runs.kind, parseOrThrow(RunKind, kind, "kind")),
              inArray(runs.status, ACTIVE),
              or(isNull(runs.leaseOwner), lt(runs.leaseExpiresAt, sql`clock_timestamp()`)),
            ),
          )
          .orderBy(asc(runs.createdAt))
          .limit(Math.max(1, Math.min(limit, 1000))),
      );
      return rows.map(toRun);
    },
    async setBudget(id, budgetUsd) {
      if (budgetUsd !== null && !(Number.isFinite(budgetUsd) && budgetUsd > 0)) {
        throw new AppError("invalid", "invalid_input", "a budget must be a positive number", {
          details: [{ path: "budgetUsd", message: "a positive number of USD, or null" }],
        });
      }
      return updateReturning(id, { budgetUsd });
    },
    async addUsage(id, usage) {
      const { tokensIn, tokensOut, costUsd } = usage;
      if (![tokensIn, tokensOut, costUsd].every((n) => Number.isFinite(n) && n >= 0)) {
        throw new AppError("invalid", "invalid_input", "usage must be non-negative numbers", {
          details: [{ path: "", message: "tokensIn, tokensOut and costUsd must be >= 0" }],
        });
      }
      return updateReturning(id, {
        tokensIn: sql`${runs.tokensIn} + ${Math.round(tokensIn)}`,
        tokensOut: sql`${runs.tokensOut} + ${Math.round(tokensOut)}`,
        costUsd: sql`${runs.costUsd} + ${costUsd}`,
      });
    },
  };
}
