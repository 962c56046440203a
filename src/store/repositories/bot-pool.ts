import { asc, eq, gte, sql } from "drizzle-orm";
import { AppError, PoolBot } from "../../contracts/index.js";
import type { BotPoolRepository, SealedPoolBot } from "../bot-pool-repository.js";
import { botPool, botPoolWaits, secretAudit } from "../schema.js";
import { type Db, guard, iso, isoOrNull, isUuid, sinceDate, toContract } from "./common.js";

type Row = typeof botPool.$inferSelect;

/** The audit trail's name for a pool token: the variable it becomes in a project. */
const POOL_KEY = "TELEGRAM_BOT_TOKEN";

function toPoolBot(row: Row): PoolBot {
  return toContract(
    PoolBot,
    {
      id: row.id,
      botId: row.botId,
      botUsername: row.botUsername,
      masked: `${row.botId}:${"•".repeat(6)} (${row.length} characters)`,
      projectId: row.projectId,
      addedBy: row.addedBy,
      createdAt: iso(row.createdAt),
      takenAt: isoOrNull(row.takenAt),
    },
    "pool bot",
  );
}

function sealed(row: Row): SealedPoolBot {
  return { bot: toPoolBot(row), ciphertext: row.ciphertext };
}

function checkUuid(path: string, value: string): void {
  if (!isUuid(value)) {
    throw new AppError("invalid", "invalid_input", `invalid ${path}`, {
      details: [{ path, message: "must be a UUID" }],
    });
  }
}

/** The pool on any Postgres driver; taking a bot is one `UPDATE … FOR UPDATE SKIP LOCKED`. */
export function createBotPoolRepository(db: Db): BotPoolRepository {
  return {
    async add(input) {
      const [row] = await guard(() =>
        db.transaction(async (tx) => {
          const written = await tx.insert(botPool).values(input).returning();
          await tx
            .insert(secretAudit)
            .values({ projectId: null, key: POOL_KEY, action: "pool_add", actor: input.addedBy });
          return written;
        }),
      );
      return toPoolBot(row as Row);
    },
    async list() {
      const rows = await guard(() =>
        db.select().from(botPool).orderBy(sql`${botPool.projectId} is not null`, asc(botPool.createdAt)),
      );
      return rows.map(toPoolBot);
    },
    async take(projectId, actor) {
      checkUuid("projectId", projectId);
      return guard(() =>
        db.transaction(async (tx) => {
          const [held] = await tx.select().from(botPool).where(eq(botPool.projectId, projectId));
          if (held) return sealed(held);
          const taken = (await tx.execute(sql`
            update ${botPool} set project_id = ${projectId}, taken_at = clock_timestamp(),
              updated_at = clock_timestamp()
            where id = (
              select id from ${botPool} where project_id is null
              order by created_at limit 1 for update skip locked
            )
            returning id`)) as unknown as { rows: { id: string }[] };
          const id = taken.rows[0]?.id;
          if (!id) return null;
          const [row] = await tx.select().from(botPool).where(eq(botPool.id, id));
          await tx.delete(botPoolWaits).where(eq(botPoolWaits.projectId, projectId));
          await tx.insert(secretAudit).values({ projectId, key: POOL_KEY, action: "pool_take", actor });
          return sealed(row as Row);
        }),
      );
    },
    async heldBy(projectId) {
      checkUuid("projectId", projectId);
      const [row] = await guard(() => db.select().from(botPool).where(eq(botPool.projectId, projectId)));
      return row ? sealed(row) : null;
    },
    async giveBack(projectId, actor) {
      checkUuid("projectId", projectId);
      return guard(() =>
        db.transaction(async (tx) => {
          const [row] = await tx
            .update(botPool)
            .set({ projectId: null, takenAt: null, updatedAt: sql`clock_timestamp()` })
            .where(eq(botPool.projectId, projectId))
            .returning();
          if (!row) return null;
          await tx.insert(secretAudit).values({ projectId, key: POOL_KEY, action: "pool_return", actor });
          return toPoolBot(row);
        }),
      );
    },
    async remove(id, actor) {
      checkUuid("id", id);
      return guard(() =>
        db.transaction(async (tx) => {
          const [row] = await tx.select().from(botPool).where(eq(botPool.id, id)).for("update");
          if (!row) throw AppError.notFound("pool bot", id);
          if (row.projectId !== null) {
            throw new AppError("conflict", "pool_bot_taken", `@${row.botUsername} is held by a project`, {
              details: [{ path: "id", message: `held by project ${row.projectId}; tear it down first` }],
            });
          }
          await tx.delete(botPool).where(eq(botPool.id, id));
          await tx.insert(secretAudit).values({ projectId: null, key: POOL_KEY, action: "remove", actor });
          return toPoolBot(row);
        }),
      );
    },
    async wait(projectId) {
      checkUuid("projectId", projectId);
      await guard(() => db.insert(botPoolWaits).values({ projectId }).onConflictDoNothing());
    },
    async waiting() {
      const rows = await guard(() =>
        db.select({ projectId: botPoolWaits.projectId }).from(botPoolWaits).orderBy(asc(botPoolWaits.since)),
      );
      return rows.map((row) => row.projectId);
    },
    async stopWaiting(projectId) {
      checkUuid("projectId", projectId);
      await guard(() => db.delete(botPoolWaits).where(eq(botPoolWaits.projectId, projectId)));
    },
    async listCiphertexts(opts) {
      const since = sinceDate(opts.changedSince);
      const rows = await guard(() =>
        db
          .select({
            ciphertext: botPool.ciphertext,
            updatedAt: botPool.updatedAt,
            botUsername: botPool.botUsername,
          })
          .from(botPool)
          .where(since === null ? undefined : gte(botPool.updatedAt, since))
          .orderBy(asc(botPool.updatedAt)),
      );
      return rows.map((row) => ({
        ciphertext: row.ciphertext,
        updatedAt: iso(row.updatedAt),
        label: `pool bot @${row.botUsername}`,
      }));
    },
  };
}
