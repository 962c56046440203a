import { and, asc, eq, gt } from "drizzle-orm";
import { AppError, parseOrThrow, RunEvent, RunEventCreate } from "../../contracts/index.js";
import type { SecretRedactor } from "../../observability/index.js";
import { runEvents } from "../schema.js";
import type { RunEventRepository } from "../store.js";
import { type Db, guard, iso, isUuid, requireId, toContract } from "./common.js";

type Row = typeof runEvents.$inferSelect;

/** Page size when the caller gives none, and the most one read returns. */
const DEFAULT_LIMIT = 500;
const MAX_LIMIT = 5000;

/** A stored run event as the contract has it. */
export function toEvent(row: Row): RunEvent {
  return toContract(
    RunEvent,
    { seq: row.seq, runId: row.runId, at: iso(row.at), type: row.type, data: row.data },
    "run event",
  );
}

/** The row of a new event: validated against its type's payload, its data redacted. */
export function runEventValues(input: RunEventCreate, redactor: SecretRedactor) {
  const data = parseOrThrow(RunEventCreate, input, "run event");
  requireId("run", data.runId);
  return { ...data, data: redactor.redactValue(data.data) };
}

/**
 * The append-only run event log on any Postgres driver; `seq` is a global bigserial. Event data is
 * redacted before it is stored (agent output, tool results and test tails land here).
 */
export function createRunEventRepository(db: Db, redactor: SecretRedactor): RunEventRepository {
  return {
    async append(input) {
      const values = runEventValues(input, redactor);
      const [row] = await guard(() => db.insert(runEvents).values(values).returning());
      return toEvent(row as Row);
    },
    async list(runId, opts) {
      if (!isUuid(runId)) return [];
      const afterSeq = opts.afterSeq ?? 0;
      const limit = opts.limit ?? DEFAULT_LIMIT;
      checkPage(afterSeq, limit);
      const rows = await guard(() =>
        db
          .select()
          .from(runEvents)
          .where(and(eq(runEvents.runId, runId), gt(runEvents.seq, afterSeq)))
          .orderBy(asc(runEvents.seq))
          .limit(limit),
      );
      return rows.map(toEvent);
    },
    async listAfter(afterSeq, limit) {
      checkPage(afterSeq, limit);
      const rows = await guard(() =>
        db
          .select()
          .from(runEvents)
          .where(gt(runEvents.seq, afterSeq))
          .orderBy(asc(runEvents.seq))
          .limit(limit),
      );
      return rows.map(toEvent);
    },
  };
}

/** A page of the log: after an integer seq, 1..MAX_LIMIT events. */
function checkPage(afterSeq: number, limit: number): void {
  if (!Number.isInteger(afterSeq) || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new AppError("invalid", "invalid_input", "invalid run event query", {
      details: [{ path: "", message: `afterSeq must be an integer, limit 1..${MAX_LIMIT}` }],
    });
  }
}
