import { and, asc, eq, gt, isNotNull, isNull, or, sql } from "drizzle-orm";
import type { SealedTable } from "../../contracts/index.js";
import { AppError } from "../../contracts/index.js";
import { botPool, conversationSecrets, secretAudit, secrets, servers, vaultCheck } from "../schema.js";
import type { SealedRow, VaultCheck, VaultRepository } from "../vault-repository.js";
import { type Db, guard, iso } from "./common.js";

/** The check is one row, always this id. */
const CHECK_ID = 1;
/** The audit trail's name for a pool token, as the pool's own rows name it. */
const POOL_KEY = "TELEGRAM_BOT_TOKEN";

function toCheck(row: typeof vaultCheck.$inferSelect): VaultCheck {
  return {
    keyId: row.keyId,
    ciphertext: row.ciphertext,
    rotatingTo: row.rotatingTo,
    updatedAt: iso(row.updatedAt),
  };
}

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new AppError("invalid", "invalid_input", "invalid limit", {
      details: [{ path: "limit", message: "an integer from 1 to 1000" }],
    });
  }
}

/** Rows of one table for a page of a rotation, and the compare-and-set that replaces one row's ciphertext. */
interface SealedTableAccess {
  read(db: Db, after: string | null, limit: number): Promise<Omit<SealedRow, "table">[]>;
  /** Replaces the ciphertext of row `id` if it still is `from`; answers how many rows changed. */
  write(db: Db, id: string, from: string, to: string): Promise<number>;
}

/** `updated_at` is stamped on every reseal, so each process's redactor (which follows changes) learns it. */
const now = sql`clock_timestamp()`;

const TABLES: Record<SealedTable, SealedTableAccess> = {
  secrets: {
    read: (db, after, limit) =>
      db
        .select({
          id: secrets.id,
          ciphertext: secrets.ciphertext,
          projectId: secrets.projectId,
          key: secrets.key,
        })
        .from(secrets)
        .where(after === null ? undefined : gt(secrets.id, after))
        .orderBy(asc(secrets.id))
        .limit(limit),
    write: async (db, id, from, to) =>
      (
        await db
          .update(secrets)
          .set({ ciphertext: to, updatedAt: now })
          .where(and(eq(secrets.id, id), eq(secrets.ciphertext, from)))
          .returning({ id: secrets.id })
      ).length,
  },
  conversation_secrets: {
    read: async (db, after, limit) =>
      (
        await db
          .select({
            id: conversationSecrets.id,
            ciphertext: conversationSecrets.ciphertext,
            key: conversationSecrets.key,
          })
          .from(conversationSecrets)
          .where(after === null ? undefined : gt(conversationSecrets.id, after))
          .orderBy(asc(conversationSecrets.id))
          .limit(limit)
      ).map((row) => ({ ...row, projectId: null })),
    write: async (db, id, from, to) =>
      (
        await db
          .update(conversationSecrets)
          .set({ ciphertext: to, updatedAt: now })
          .where(and(eq(conversationSecrets.id, id), eq(conversationSecrets.ciphertext, from)))
          .returning({ id: conversationSecrets.id })
      ).length,
  },
  bot_pool: {
    read: async (db, after, limit) =>
      (
        await db
          .select({ id: botPool.id, ciphertext: botPool.ciphertext, projectId: botPool.projectId })
          .from(botPool)
          .where(after === null ? undefined : gt(botPool.id, after))
          .orderBy(asc(botPool.id))
          .limit(limit)
      ).map((row) => ({ ...row, key: POOL_KEY })),
    write: async (db, id, from, to) =>
      (
        await db
          .update(botPool)
          .set({ ciphertext: to, updatedAt: now })
          .where(and(eq(botPool.id, id), eq(botPool.ciphertext, from)))
          .returning({ id: botPool.id })
      ).length,
  },
  servers: {
    read: async (db, after, limit) =>
      (
        await db
          .select({ id: servers.id, ciphertext: servers.sshKeyCiphertext, handle: servers.handle })
          .from(servers)
          // A server without an SSH key has nothing sealed.
          .where(and(isNotNull(servers.sshKeyCiphertext), after === null ? undefined : gt(servers.id, after)))
          .orderBy(asc(servers.id))
          .limit(limit)
      ).map((row) => ({
        id: row.id,
        ciphertext: row.ciphertext ?? "",
        projectId: null,
        key: `SSH_KEY@${row.handle}`,
      })),
    write: async (db, id, from, to) =>
      (
        await db
          .update(servers)
          .set({ sshKeyCiphertext: to, updatedAt: now })
          .where(and(eq(servers.id, id), eq(servers.sshKeyCiphertext, from)))
          .returning({ id: servers.id })
      ).length,
  },
};

/** The key check and the sealed rows of every table, on any Postgres driver. */
export function createVaultRepository(db: Db): VaultRepository {
  const readCheck = async (): Promise<VaultCheck | null> => {
    const [row] = await guard(() => db.select().from(vaultCheck).where(eq(vaultCheck.id, CHECK_ID)));
    return row ? toCheck(row) : null;
  };
  return {
    getCheck: readCheck,
    async putCheckIfAbsent(check) {
      await guard(() =>
        db
          .insert(vaultCheck)
          .values({ id: CHECK_ID, keyId: check.keyId, ciphertext: check.ciphertext })
          .onConflictDoNothing({ target: vaultCheck.id }),
      );
      const stands = await readCheck();
      if (!stands) throw new AppError("internal", "database_error", "the vault check was not written");
      return stands;
    },
    async markRotating(fromKeyId, toKeyId) {
      await guard(() =>
        db
          .update(vaultCheck)
          .set({ rotatingTo: toKeyId, updatedAt: now })
          .where(
            and(
              eq(vaultCheck.id, CHECK_ID),
              eq(vaultCheck.keyId, fromKeyId),
              or(isNull(vaultCheck.rotatingTo), eq(vaultCheck.rotatingTo, toKeyId)),
            ),
          ),
      );
      return readCheck();
    },
    async finishRotation(input) {
      await guard(() =>
        db
          .update(vaultCheck)
          .set({ keyId: input.keyId, ciphertext: input.ciphertext, rotatingTo: null, updatedAt: now })
          .where(and(eq(vaultCheck.id, CHECK_ID), eq(vaultCheck.keyId, input.fromKeyId))),
      );
      return readCheck();
    },
    async sampleSealed(limitPerTable) {
      checkLimit(limitPerTable);
      const pages = await Promise.all(
        Object.values(TABLES).map((t) => guard(() => t.read(db, null, limitPerTable))),
      );
      return pages.flat().map((row) => row.ciphertext);
    },
    async listSealed(table, opts) {
      checkLimit(opts.limit);
      const rows = await guard(() => TABLES[table].read(db, opts.afterId, opts.limit));
      return rows.map((row) => ({ table, ...row }));
    },
    async reseal(row, to, actor) {
      return guard(() =>
        db.transaction(async (tx) => {
          if ((await TABLES[row.table].write(tx, row.id, row.ciphertext, to)) === 0) return false;
          await tx
            .insert(secretAudit)
            .values({ projectId: row.projectId, key: row.key, action: "rotate", actor });
          return true;
        }),
      );
    },
  };
}
