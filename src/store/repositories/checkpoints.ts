import { and, eq, type SQL, sql } from "drizzle-orm";
import { AppError } from "../../contracts/index.js";
import type { SecretRedactor } from "../../observability/index.js";
import { graphCheckpointBlobs, graphCheckpoints, graphCheckpointWrites } from "../schema.js";
import type {
  CheckpointBlob,
  CheckpointKey,
  CheckpointQuery,
  CheckpointRepository,
  CheckpointWrite,
  StoredCheckpoint,
} from "../store.js";
import { type Db, guard, iso } from "./common.js";

type Row = typeof graphCheckpoints.$inferSelect;
type WriteRow = typeof graphCheckpointWrites.$inferSelect;

/** Checkpoints hydrated per query; keeps the tuple list well under the driver's parameter limit. */
const HYDRATE_CHUNK = 500;

const cp = graphCheckpoints;
const bl = graphCheckpointBlobs;
const wr = graphCheckpointWrites;

// Ids compare byte-wise whatever the database collation is: uuid6 ids sort by time that way.
const idOrder = sql`${cp.checkpointId} collate "C"`;

function keyOf(row: { threadId: string; checkpointNs: string; checkpointId: string }): string {
  return JSON.stringify([row.threadId, row.checkpointNs, row.checkpointId]);
}

function invalid(path: string, message: string): AppError {
  return new AppError("invalid", "invalid_input", "invalid checkpoint query", {
    details: [{ path, message }],
  });
}

function requireText(path: string, value: unknown, allowEmpty: boolean): string {
  if (typeof value !== "string" || (!allowEmpty && value === "")) {
    throw invalid(path, allowEmpty ? "must be a string" : "must be a non-empty string");
  }
  return value;
}

function checkKey(key: CheckpointKey): void {
  requireText("threadId", key.threadId, false);
  requireText("checkpointNs", key.checkpointNs, true);
  requireText("checkpointId", key.checkpointId, false);
}

function toWrite(row: WriteRow): CheckpointWrite {
  return {
    taskId: row.taskId,
    idx: row.idx,
    channel: row.channel,
    type: row.type,
    value: row.value,
    taskPath: row.taskPath,
  };
}

/** `(thread, ns, id) in ((...), ...)` for a batch of checkpoints. */
function inKeys(
  columns: { threadId: unknown; checkpointNs: unknown; checkpointId: unknown },
  rows: Row[],
): SQL {
  const tuples = rows.map((r) => sql`(${r.threadId}, ${r.checkpointNs}, ${r.checkpointId})`);
  return sql`(${columns.threadId}, ${columns.checkpointNs}, ${columns.checkpointId}) in (${sql.join(tuples, sql`, `)})`;
}

/** Adds to each checkpoint row the channel values its versions point at and its pending writes. */
async function hydrate(db: Db, rows: Row[]): Promise<StoredCheckpoint[]> {
  const blobsByKey = new Map<string, CheckpointBlob[]>();
  const writesByKey = new Map<string, CheckpointWrite[]>();
  for (let start = 0; start < rows.length; start += HYDRATE_CHUNK) {
    const chunk = rows.slice(start, start + HYDRATE_CHUNK);
    const [blobs, writes] = await guard(() =>
      Promise.all([
        db
          .select({
            threadId: cp.threadId,
            checkpointNs: cp.checkpointNs,
            checkpointId: cp.checkpointId,
            channel: bl.channel,
            version: bl.version,
            type: bl.type,
            value: bl.blob,
          })
          .from(cp)
          .innerJoin(
            bl,
            and(
              eq(bl.threadId, cp.threadId),
              eq(bl.checkpointNs, cp.checkpointNs),
              sql`${cp.channelVersions} ->> ${bl.channel} = ${bl.version}`,
            ),
          )
          .where(inKeys(cp, chunk)),
        db.select().from(wr).where(inKeys(wr, chunk)),
      ]),
    );
    for (const b of blobs) {
      const list = blobsByKey.get(keyOf(b)) ?? [];
      list.push({ channel: b.channel, version: b.version, type: b.type, value: b.value });
      blobsByKey.set(keyOf(b), list);
    }
    for (const w of writes) {
      const list = writesByKey.get(keyOf(w)) ?? [];
      list.push(toWrite(w));
      writesByKey.set(keyOf(w), list);
    }
  }
  return rows.map((row) => ({
    threadId: row.threadId,
    checkpointNs: row.checkpointNs,
    checkpointId: row.checkpointId,
    parentCheckpointId: row.parentCheckpointId,
    type: row.type,
    checkpoint: row.checkpoint,
    metadata: row.metadata,
    channelValues: blobsByKey.get(keyOf(row)) ?? [],
    pendingWrites: writesByKey.get(keyOf(row)) ?? [],
    createdAt: iso(row.createdAt),
  }));
}

function listWhere(query: CheckpointQuery): SQL | undefined {
  const conditions: SQL[] = [];
  if (query.threadId !== undefined)
    conditions.push(eq(cp.threadId, requireText("threadId", query.threadId, true)));
  if (query.checkpointNs !== undefined) {
    conditions.push(eq(cp.checkpointNs, requireText("checkpointNs", query.checkpointNs, true)));
  }
  if (query.checkpointId !== undefined) {
    conditions.push(eq(cp.checkpointId, requireText("checkpointId", query.checkpointId, true)));
  }
  if (query.beforeId !== undefined) {
    conditions.push(sql`${idOrder} < ${requireText("beforeId", query.beforeId, true)}`);
  }
  if (query.metadata !== undefined && Object.keys(query.metadata).length > 0) {
    conditions.push(sql`${cp.metadata} @> ${JSON.stringify(query.metadata)}::jsonb`);
  }
  return conditions.length > 0 ? and(...conditions) : undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/**
 * A serialized value with its secrets masked: JSON (the serde's `json` encoding) stays valid JSON,
 * other UTF-8 text is redacted as text, and bytes that are not text are kept as they are.
 */
function redactSerialized(redactor: SecretRedactor, type: string, value: Uint8Array): Uint8Array {
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return value;
  }
  if (!redactor.test(text)) return value;
  return encoder.encode(type === "json" ? redactor.redactJson(text) : redactor.redact(text));
}

/**
 * LangGraph checkpoint storage on any Postgres driver (PGlite or node-postgres). Graph state holds
 * agents' reports and test output, so every serialized value is redacted before it is stored.
 */
export function createCheckpointRepository(db: Db, redactor: SecretRedactor): CheckpointRepository {
  return {
    async put(raw) {
      checkKey(raw.key);
      const input = {
        ...raw,
        checkpoint: redactSerialized(redactor, raw.type, raw.checkpoint),
        metadata: redactor.redactValue(raw.metadata),
        blobs: raw.blobs.map((b) =>
          b.value === null ? b : { ...b, value: redactSerialized(redactor, b.type, b.value) },
        ),
      };
      const { threadId, checkpointNs, checkpointId } = input.key;
      await guard(() =>
        db.transaction(async (tx) => {
          if (input.blobs.length > 0) {
            await tx
              .insert(bl)
              .values(
                input.blobs.map((b) => ({
                  threadId,
                  checkpointNs,
                  channel: b.channel,
                  version: b.version,
                  type: b.type,
                  blob: b.value,
                })),
              )
              .onConflictDoNothing();
          }
          const values = {
            type: input.type,
            checkpoint: input.checkpoint,
            channelVersions: input.channelVersions,
            metadata: input.metadata,
          };
          await tx
            .insert(cp)
            .values({
              threadId,
              checkpointNs,
              checkpointId,
              parentCheckpointId: input.parentCheckpointId,
              ...values,
            })
            .onConflictDoUpdate({ target: [cp.threadId, cp.checkpointNs, cp.checkpointId], set: values });
        }),
      );
    },

    async get(threadId, checkpointNs, checkpointId) {
      requireText("threadId", threadId, true);
      requireText("checkpointNs", checkpointNs, true);
      const where =
        checkpointId === undefined
          ? and(eq(cp.threadId, threadId), eq(cp.checkpointNs, checkpointNs))
          : and(
              eq(cp.threadId, threadId),
              eq(cp.checkpointNs, checkpointNs),
              eq(cp.checkpointId, checkpointId),
            );
      const rows = await guard(() =>
        db.select().from(cp).where(where).orderBy(sql`${idOrder} desc`).limit(1),
      );
      const [found] = await hydrate(db, rows);
      return found ?? null;
    },

    async list(query) {
      const { limit } = query;
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
        throw invalid("limit", "must be a non-negative integer");
      }
      const where = listWhere(query);
      const rows = await guard(() => {
        const base = db.select().from(cp).where(where).orderBy(sql`${idOrder} desc`);
        return limit === undefined ? base : base.limit(limit);
      });
      return hydrate(db, rows);
    },

    async putWrites(key, writes) {
      checkKey(key);
      if (writes.length === 0) return;
      const rows = writes.map((w) => ({ ...key, ...w, value: redactSerialized(redactor, w.type, w.value) }));
      const replaced = rows.filter((w) => w.idx < 0);
      const kept = rows.filter((w) => w.idx >= 0);
      const target = [wr.threadId, wr.checkpointNs, wr.checkpointId, wr.taskId, wr.idx];
      await guard(() =>
        db.transaction(async (tx) => {
          if (kept.length > 0) await tx.insert(wr).values(kept).onConflictDoNothing({ target });
          if (replaced.length > 0) {
            await tx
              .insert(wr)
              .values(replaced)
              .onConflictDoUpdate({
                target,
                set: {
                  channel: sql`excluded.channel`,
                  type: sql`excluded.type`,
                  value: sql`excluded.value`,
                  taskPath: sql`excluded.task_path`,
                },
              });
          }
        }),
      );
    },

    async writes(key, channel) {
      checkKey(key);
      const conditions = [
        eq(wr.threadId, key.threadId),
        eq(wr.checkpointNs, key.checkpointNs),
        eq(wr.checkpointId, key.checkpointId),
      ];
      if (channel !== undefined) conditions.push(eq(wr.channel, channel));
      const rows = await guard(() =>
        db
          .select()
          .from(wr)
          .where(and(...conditions)),
      );
      return rows.map(toWrite);
    },

    async deleteThread(threadId) {
      requireText("threadId", threadId, false);
      await guard(() =>
        db.transaction(async (tx) => {
          await tx.delete(wr).where(eq(wr.threadId, threadId));
          await tx.delete(bl).where(eq(bl.threadId, threadId));
          await tx.delete(cp).where(eq(cp.threadId, threadId));
        }),
      );
    },
  };
}
