import { eq, sql } from "drizzle-orm";
import { AppError } from "../../contracts/index.js";
import { eventCursors } from "../schema.js";
import type { EventCursorRepository } from "../store.js";
import { type Db, guard } from "./common.js";

function checkName(subscriber: string): void {
  if (subscriber.trim().length === 0 || subscriber.length > 200) {
    throw new AppError("invalid", "invalid_input", "invalid event subscriber name", {
      details: [{ path: "subscriber", message: "1..200 characters" }],
    });
  }
}

/**
 * Durable cursors of run event subscribers. `advance` is an upsert that keeps the greater seq, so a
 * slow writer that lost a race can never move a cursor back.
 */
export function createEventCursorRepository(db: Db): EventCursorRepository {
  return {
    async get(subscriber) {
      checkName(subscriber);
      const [row] = await guard(() =>
        db.select().from(eventCursors).where(eq(eventCursors.subscriber, subscriber)).limit(1),
      );
      return row ? Number(row.seq) : 0;
    },
    async advance(subscriber, seq) {
      checkName(subscriber);
      if (!Number.isSafeInteger(seq) || seq < 0) {
        throw new AppError("invalid", "invalid_input", "invalid event cursor", {
          details: [{ path: "seq", message: "a non-negative integer" }],
        });
      }
      await guard(() =>
        db
          .insert(eventCursors)
          .values({ subscriber, seq })
          .onConflictDoUpdate({
            target: eventCursors.subscriber,
            set: { seq: sql`greatest(${eventCursors.seq}, excluded.seq)`, updatedAt: sql`clock_timestamp()` },
          }),
      );
    },
  };
}
