import { and, asc, count, desc, eq, gte, inArray, isNotNull, isNull, type SQL, sql } from "drizzle-orm";
import { AppError, SecretAuditEntry, SecretKind, SecretMeta, secretLabel } from "../../contracts/index.js";
import { conversationSecrets, projects, secretAudit, secrets } from "../schema.js";
import type { SecretRepository } from "../store.js";
import { type Db, filterId, guard, iso, isUuid, pageOf, sinceDate, toContract } from "./common.js";

type Row = typeof secrets.$inferSelect;
const KEY = /^[A-Z][A-Z0-9_]*$/;

/** Metadata only: the ciphertext column is never copied into a contract object. */
function toMeta(row: Omit<Row, "ciphertext">): SecretMeta {
  return toContract(
    SecretMeta,
    {
      id: row.id,
      projectId: row.projectId,
      key: row.key,
      kind: row.kind,
      isFilled: row.length > 0,
      length: row.length,
      createdBy: row.createdBy,
      bot: row.botId && row.botUsername ? { id: row.botId, username: row.botUsername } : null,
      createdAt: iso(row.createdAt),
      updatedAt: iso(row.updatedAt),
    },
    "secret",
  );
}

const metaColumns = {
  id: secrets.id,
  projectId: secrets.projectId,
  key: secrets.key,
  kind: secrets.kind,
  length: secrets.length,
  createdBy: secrets.createdBy,
  botId: secrets.botId,
  botUsername: secrets.botUsername,
  createdAt: secrets.createdAt,
  updatedAt: secrets.updatedAt,
};

function invalid(path: string, message: string): AppError {
  return new AppError("invalid", "invalid_input", `invalid secret ${path}`, { details: [{ path, message }] });
}

/** `project_id = ?`, or `IS NULL` for the pool. */
function scope(projectId: string | null): SQL {
  if (projectId === null) return isNull(secrets.projectId);
  if (!isUuid(projectId)) throw invalid("projectId", "must be a UUID or null");
  return eq(secrets.projectId, projectId);
}

/** The checks every write makes before touching the database. */
function checkPut(input: { projectId: string | null; key: string; kind: string; length: number }): void {
  if (!KEY.test(input.key)) throw invalid("key", "upper-case letters, digits and underscores");
  if (!SecretKind.safeParse(input.kind).success) throw invalid("kind", "user, infra or computed");
  if (!Number.isInteger(input.length) || input.length < 0) throw invalid("length", "non-negative integer");
  scope(input.projectId);
}

/**
 * Encrypted secrets on any Postgres driver (encryption is the vault's job, not the store's).
 * Every put and remove leaves an audit row naming the actor, never the value.
 */
export function createSecretRepository(db: Db): SecretRepository {
  return {
    async put({ bot, ...input }) {
      checkPut(input);
      const botColumns = { botId: bot?.id ?? null, botUsername: bot?.username ?? null };
      const row = await guard(() =>
        db.transaction(async (tx) => {
          const [existing] = await tx
            .select({ id: secrets.id })
            .from(secrets)
            .where(and(scope(input.projectId), eq(secrets.key, input.key)));
          const [written] = await tx
            .insert(secrets)
            .values({ ...input, ...botColumns })
            .onConflictDoUpdate({
              target: [secrets.projectId, secrets.key],
              set: {
                kind: input.kind,
                ciphertext: input.ciphertext,
                length: input.length,
                createdBy: input.createdBy,
                ...botColumns,
                updatedAt: sql`clock_timestamp()`,
              },
            })
            .returning(metaColumns);
          await tx.insert(secretAudit).values({
            projectId: input.projectId,
            key: input.key,
            action: existing ? "replace" : "put",
            actor: input.createdBy,
          });
          return written;
        }),
      );
      return toMeta(row as Omit<Row, "ciphertext">);
    },
    async putIfAbsent(input) {
      checkPut(input);
      return guard(() =>
        db.transaction(async (tx) => {
          const [created] = await tx
            .insert(secrets)
            .values(input)
            .onConflictDoNothing({ target: [secrets.projectId, secrets.key] })
            .returning(metaColumns);
          if (created) {
            await tx
              .insert(secretAudit)
              .values({ projectId: input.projectId, key: input.key, action: "put", actor: input.createdBy });
            return { meta: toMeta(created), isCreated: true };
          }
          // The conflicting writer has committed (Postgres waits for it), so its row is visible here.
          const [existing] = await tx
            .select(metaColumns)
            .from(secrets)
            .where(and(scope(input.projectId), eq(secrets.key, input.key)));
          if (!existing) {
            throw new AppError("conflict", "concurrent_update", "secret changed concurrently; try again", {
              details: [{ path: "key", message: "removed while writing" }],
            });
          }
          return { meta: toMeta(existing), isCreated: false };
        }),
      );
    },
    async listMeta(projectId) {
      const rows = await guard(() =>
        db.select(metaColumns).from(secrets).where(scope(projectId)).orderBy(asc(secrets.key)),
      );
      return rows.map(toMeta);
    },
    async getCiphertext(projectId, key) {
      const [row] = await guard(() =>
        db
          .select({ ciphertext: secrets.ciphertext })
          .from(secrets)
          .where(and(scope(projectId), eq(secrets.key, key))),
      );
      return row?.ciphertext ?? null;
    },
    async listCiphertexts(opts) {
      const since = sinceDate(opts.changedSince);
      const [kept, held] = await Promise.all([
        guard(() =>
          db
            .select({
              ciphertext: secrets.ciphertext,
              updatedAt: secrets.updatedAt,
              projectId: secrets.projectId,
              key: secrets.key,
            })
            .from(secrets)
            .where(since === null ? undefined : gte(secrets.updatedAt, since)),
        ),
        guard(() =>
          db
            .select({
              ciphertext: conversationSecrets.ciphertext,
              updatedAt: conversationSecrets.updatedAt,
              conversationId: conversationSecrets.conversationId,
              key: conversationSecrets.key,
            })
            .from(conversationSecrets)
            .where(since === null ? undefined : gte(conversationSecrets.updatedAt, since)),
        ),
      ]);
      return [
        ...kept.map((row) => ({
          ciphertext: row.ciphertext,
          at: row.updatedAt,
          label: secretLabel(row.projectId, row.key),
        })),
        ...held.map((row) => ({
          ciphertext: row.ciphertext,
          at: row.updatedAt,
          label: `conversation ${row.conversationId} ${row.key}`,
        })),
      ]
        .sort((a, b) => a.at.getTime() - b.at.getTime())
        .map(({ at, ...row }) => ({ ...row, updatedAt: iso(at) }));
    },
    async remove(projectId, key) {
      await guard(() =>
        db.transaction(async (tx) => {
          const gone = await tx
            .delete(secrets)
            .where(and(scope(projectId), eq(secrets.key, key)))
            .returning({ id: secrets.id });
          if (gone.length > 0) {
            await tx.insert(secretAudit).values({ projectId, key, action: "remove", actor: null });
          }
        }),
      );
    },
    async projectsWithBot(botId) {
      const rows = await guard(() =>
        db
          .select({ projectId: secrets.projectId, key: secrets.key })
          .from(secrets)
          .where(and(eq(secrets.botId, botId), isNotNull(secrets.projectId))),
      );
      return rows.map((row) => ({ projectId: row.projectId as string, key: row.key }));
    },
    async hold(input) {
      if (!isUuid(input.conversationId)) throw invalid("conversationId", "must be a UUID");
      if (!KEY.test(input.key)) throw invalid("key", "upper-case letters, digits and underscores");
      await guard(() =>
        db.transaction(async (tx) => {
          await tx
            .insert(conversationSecrets)
            .values(input)
            .onConflictDoUpdate({
              target: [conversationSecrets.conversationId, conversationSecrets.key],
              set: { ciphertext: input.ciphertext, length: input.length, updatedAt: sql`clock_timestamp()` },
            });
          await tx.insert(secretAudit).values({
            projectId: null,
            key: input.key,
            action: "hold",
            actor: `conversation ${input.conversationId}`,
          });
        }),
      );
    },
    async listHeld(conversationId) {
      if (!isUuid(conversationId)) throw invalid("conversationId", "must be a UUID");
      return guard(() =>
        db
          .select({
            key: conversationSecrets.key,
            ciphertext: conversationSecrets.ciphertext,
            length: conversationSecrets.length,
          })
          .from(conversationSecrets)
          .where(eq(conversationSecrets.conversationId, conversationId))
          .orderBy(asc(conversationSecrets.key)),
      );
    },
    async removeHeld(conversationId, keys) {
      if (!isUuid(conversationId)) throw invalid("conversationId", "must be a UUID");
      if (keys.length === 0) return;
      await guard(() =>
        db
          .delete(conversationSecrets)
          .where(
            and(
              eq(conversationSecrets.conversationId, conversationId),
              inArray(conversationSecrets.key, [...keys]),
            ),
          ),
      );
    },
    async listAudit(query) {
      const { limit, offset } = pageOf(query);
      const where = and(
        query.projectId === undefined
          ? undefined
          : eq(secretAudit.projectId, filterId("projectId", query.projectId)),
        query.ownerId === undefined
          ? undefined
          : inArray(
              secretAudit.projectId,
              db
                .select({ id: projects.id })
                .from(projects)
                .where(eq(projects.ownerId, filterId("ownerId", query.ownerId))),
            ),
      );
      return guard(async () => {
        const rows = await db
          .select()
          .from(secretAudit)
          .where(where)
          .orderBy(desc(secretAudit.at), desc(secretAudit.id))
          .limit(limit)
          .offset(offset);
        const [total] = await db.select({ n: count() }).from(secretAudit).where(where);
        return {
          items: rows.map((row) =>
            toContract(SecretAuditEntry, { ...row, at: iso(row.at) }, "secret audit entry"),
          ),
          total: total?.n ?? 0,
          limit,
          offset,
        };
      });
    },
    async recordRead(projectId, keys, actor) {
      if (!isUuid(projectId)) throw invalid("projectId", "must be a UUID");
      if (keys.length === 0) return;
      await guard(() =>
        db
          .insert(secretAudit)
          .values(keys.map((key) => ({ projectId, key, action: "read" as const, actor }))),
      );
    },
  };
}
