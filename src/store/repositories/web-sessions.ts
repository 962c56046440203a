import { and, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import { WebSession } from "../../contracts/index.js";
import { webSessions } from "../schema.js";
import type { WebSessionRepository } from "../store.js";
import { type Db, firstOrNotFound, guard, iso, isoOrNull, requireId, toContract } from "./common.js";

type Row = typeof webSessions.$inferSelect;

/** The secret's hash and the CSRF value never leave the store through this shape. */
function toSession(row: Row): WebSession {
  return toContract(
    WebSession,
    {
      id: row.id,
      tokenId: row.tokenId,
      createdAt: iso(row.createdAt),
      expiresAt: iso(row.expiresAt),
      revokedAt: isoOrNull(row.revokedAt),
    },
    "web session",
  );
}

/** Web app sign-ins on any Postgres driver; "live" is judged by the database's clock. */
export function createWebSessionRepository(db: Db): WebSessionRepository {
  return {
    async create({ secretHash, tokenId, csrfToken, ttlMs }) {
      requireId("api token", tokenId);
      const [row] = await guard(() =>
        db
          .insert(webSessions)
          .values({
            secretHash,
            tokenId,
            csrfToken,
            expiresAt: sql`clock_timestamp() + ${`${Math.round(ttlMs)} milliseconds`}::interval`,
          })
          .returning(),
      );
      return toSession(row as Row);
    },
    async findLive(secretHash) {
      const [row] = await guard(() =>
        db
          .select()
          .from(webSessions)
          .where(
            and(
              eq(webSessions.secretHash, secretHash),
              isNull(webSessions.revokedAt),
              gt(webSessions.expiresAt, sql`clock_timestamp()`),
            ),
          ),
      );
      return row ? { session: toSession(row), csrfToken: row.csrfToken } : null;
    },
    async revoke(id) {
      requireId("web session", id);
      await firstOrNotFound(
        db
          .update(webSessions)
          .set({ revokedAt: sql`coalesce(${webSessions.revokedAt}, clock_timestamp())` })
          .where(eq(webSessions.id, id))
          .returning({ id: webSessions.id }),
        "web session",
        id,
      );
    },
    async deleteEnded(olderThanMs) {
      const before = sql`clock_timestamp() - ${`${Math.round(olderThanMs)} milliseconds`}::interval`;
      const rows = await guard(() =>
        db
          .delete(webSessions)
          .where(or(lt(webSessions.expiresAt, before), lt(webSessions.revokedAt, before)))
          .returning({ id: webSessions.id }),
      );
      return rows.length;
    },
  };
}
