import { and, count, desc, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { AgentRole, ApiToken, AppError, ToolGroup } from "../../contracts/index.js";
import { apiTokens } from "../schema.js";
import type { ApiTokenRepository } from "../store.js";
import { type Db, firstOrNotFound, guard, iso, isoOrNull, requireId, toContract } from "./common.js";

type Row = typeof apiTokens.$inferSelect;

/** The hash is the lookup key only; it never leaves the store. */
function toToken(row: Row): ApiToken {
  return toContract(
    ApiToken,
    {
      id: row.id,
      name: row.name,
      kind: row.kind,
      projectId: row.projectId,
      role: row.role,
      workerId: row.workerId,
      userId: row.userId,
      groups: row.groups,
      createdAt: iso(row.createdAt),
      revokedAt: isoOrNull(row.revokedAt),
      lastUsedAt: isoOrNull(row.lastUsedAt),
    },
    "api token",
  );
}

const CreateInput = ApiToken.pick({
  name: true,
  kind: true,
  projectId: true,
  role: true,
  groups: true,
})
  .extend({
    workerId: z.uuid().nullable().default(null),
    userId: z.uuid().nullable().default(null),
    tokenHash: z.string().min(1).max(512),
    role: AgentRole.nullable(),
    groups: ToolGroup.array(),
  })
  .refine((t) => (t.kind === "user") === (t.userId !== null), {
    path: ["userId"],
    message: "a user token, and only a user token, names a user",
  });

/** API bearer tokens (hashes only) on any Postgres driver. */
export function createApiTokenRepository(db: Db): ApiTokenRepository {
  return {
    async create(input) {
      const parsed = CreateInput.safeParse(input);
      if (!parsed.success) {
        throw new AppError("invalid", "invalid_input", "invalid api token", {
          details: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
        });
      }
      const [row] = await guard(() => db.insert(apiTokens).values(parsed.data).returning());
      return toToken(row as Row);
    },
    async findActiveByHash(tokenHash) {
      const [row] = await guard(() =>
        db
          .select()
          .from(apiTokens)
          .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt))),
      );
      return row ? toToken(row) : null;
    },
    async findActiveById(id) {
      requireId("api token", id);
      const [row] = await guard(() =>
        db
          .select()
          .from(apiTokens)
          .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt))),
      );
      return row ? toToken(row) : null;
    },
    async list() {
      const rows = await guard(() =>
        db.select().from(apiTokens).orderBy(desc(apiTokens.createdAt), desc(apiTokens.id)),
      );
      return rows.map(toToken);
    },
    async revoke(id) {
      requireId("api token", id);
      // Revoking twice keeps the first revocation time.
      return toToken(
        await firstOrNotFound(
          db
            .update(apiTokens)
            .set({ revokedAt: sql`coalesce(${apiTokens.revokedAt}, clock_timestamp())` })
            .where(eq(apiTokens.id, id))
            .returning(),
          "api token",
          id,
        ),
      );
    },
    async revokeForWorker(workerId) {
      requireId("worker", workerId);
      const rows = await guard(() =>
        db
          .update(apiTokens)
          .set({ revokedAt: sql`clock_timestamp()` })
          .where(and(eq(apiTokens.workerId, workerId), isNull(apiTokens.revokedAt)))
          .returning({ id: apiTokens.id }),
      );
      return rows.length;
    },
    async markUsed(id) {
      requireId("api token", id);
      await firstOrNotFound(
        db
          .update(apiTokens)
          .set({ lastUsedAt: sql`clock_timestamp()` })
          .where(eq(apiTokens.id, id))
          .returning({ id: apiTokens.id }),
        "api token",
        id,
      );
    },
    async countActiveAdmins() {
      const [row] = await guard(() =>
        db
          .select({ n: count() })
          .from(apiTokens)
          .where(and(eq(apiTokens.kind, "admin"), isNull(apiTokens.revokedAt))),
      );
      return row?.n ?? 0;
    },
  };
}
