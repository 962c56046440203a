/** The LangGraph checkpointer's tables; part of the schema (`schema.ts` re-exports them). */
import { customType, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { type Json, stamp } from "./schema-columns.js";

/**
 * Raw bytes (`bytea`). Both drivers hand back a Uint8Array (node-postgres a Buffer); callers get a
 * plain Uint8Array view either way, and writes go as a Buffer, which both drivers accept.
 */
const bytes = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
  toDriver: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength),
  fromDriver: (value) => new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
});

/**
 * LangGraph checkpoints (the engine's durable graph state), laid out like LangGraph's Postgres saver:
 * the checkpoint body without channel values, serialized by the saver's serde (`type` names the
 * encoding); `channel_versions` drives the join to `graph_checkpoint_blobs`; `metadata` is JSON so
 * list filters can use `@>`.
 */
export const graphCheckpoints = pgTable(
  "graph_checkpoints",
  {
    threadId: text("thread_id").notNull(),
    checkpointNs: text("checkpoint_ns").notNull().default(""),
    checkpointId: text("checkpoint_id").notNull(),
    parentCheckpointId: text("parent_checkpoint_id"),
    type: text("type").notNull(),
    checkpoint: bytes("checkpoint").notNull(),
    channelVersions: jsonb("channel_versions").$type<Record<string, string>>().notNull().default({}),
    metadata: jsonb("metadata").$type<Json>().notNull().default({}),
    createdAt: stamp("created_at"),
  },
  (t) => [primaryKey({ columns: [t.threadId, t.checkpointNs, t.checkpointId] })],
);

/**
 * One channel value at one version, shared by every checkpoint of the thread that still holds that
 * version (a value is stored once, when its channel changes). `blob` is null for an emptied channel.
 */
export const graphCheckpointBlobs = pgTable(
  "graph_checkpoint_blobs",
  {
    threadId: text("thread_id").notNull(),
    checkpointNs: text("checkpoint_ns").notNull().default(""),
    channel: text("channel").notNull(),
    version: text("version").notNull(),
    type: text("type").notNull(),
    blob: bytes("blob"),
  },
  (t) => [primaryKey({ columns: [t.threadId, t.checkpointNs, t.channel, t.version] })],
);

/** Writes of tasks against a checkpoint (pending writes), each serialized by the saver's serde. */
export const graphCheckpointWrites = pgTable(
  "graph_checkpoint_writes",
  {
    threadId: text("thread_id").notNull(),
    checkpointNs: text("checkpoint_ns").notNull().default(""),
    checkpointId: text("checkpoint_id").notNull(),
    taskId: text("task_id").notNull(),
    idx: integer("idx").notNull(),
    channel: text("channel").notNull(),
    type: text("type").notNull(),
    value: bytes("value").notNull(),
    taskPath: text("task_path").notNull().default(""),
    createdAt: stamp("created_at"),
  },
  (t) => [primaryKey({ columns: [t.threadId, t.checkpointNs, t.checkpointId, t.taskId, t.idx] })],
);
