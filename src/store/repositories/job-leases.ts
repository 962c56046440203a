import { and, eq, gt, sql } from "drizzle-orm";
import { AppError } from "../../contracts/index.js";
import { jobLeases } from "../schema.js";
import type { JobLeaseRepository } from "../store.js";
import { type Db, guard } from "./common.js";

function check(job: string, holder: string, ttlMs?: number): void {
  const details: { path: string; message: string }[] = [];
  if (job.trim().length === 0 || job.length > 200)
    details.push({ path: "job", message: "1..200 characters" });
  if (holder.trim().length === 0 || holder.length > 200) {
    details.push({ path: "holder", message: "1..200 characters" });
  }
  if (ttlMs !== undefined && (!Number.isSafeInteger(ttlMs) || ttlMs <= 0)) {
    details.push({ path: "ttlMs", message: "a positive integer" });
  }
  if (details.length > 0) throw new AppError("invalid", "invalid_input", "invalid job lease", { details });
}

/**
 * Job leases on any Postgres driver. `tryAcquire` is one upsert whose update only applies when the
 * lease is expired or already the caller's, so two processes racing for a free lease cannot both win.
 */
export function createJobLeaseRepository(db: Db): JobLeaseRepository {
  return {
    async tryAcquire(job, holder, ttlMs) {
      check(job, holder, ttlMs);
      const expiresAt = sql`clock_timestamp() + ${`${ttlMs} milliseconds`}::interval`;
      const rows = await guard(() =>
        db
          .insert(jobLeases)
          .values({ job, holder, expiresAt })
          .onConflictDoUpdate({
            target: jobLeases.job,
            set: { holder, expiresAt, updatedAt: sql`clock_timestamp()` },
            setWhere: sql`${jobLeases.holder} = ${holder} or ${jobLeases.expiresAt} <= clock_timestamp()`,
          })
          .returning({ holder: jobLeases.holder }),
      );
      return rows[0]?.holder === holder;
    },
    async release(job, holder) {
      check(job, holder);
      await guard(() =>
        db.delete(jobLeases).where(and(eq(jobLeases.job, job), eq(jobLeases.holder, holder))),
      );
    },
    async holder(job) {
      const rows = await guard(() =>
        db
          .select({ holder: jobLeases.holder })
          .from(jobLeases)
          .where(and(eq(jobLeases.job, job), gt(jobLeases.expiresAt, sql`clock_timestamp()`)))
          .limit(1),
      );
      return rows[0]?.holder ?? null;
    },
  };
}
