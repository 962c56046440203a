import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  compareWritesSortKeys,
  getCheckpointId,
  maxChannelVersion,
  type PendingWrite,
  type SerializerProtocol,
  TASKS,
  WRITES_IDX_MAP,
  writesSortKey,
} from "@langchain/langgraph-checkpoint";
import { AppError } from "../contracts/index.js";
import type {
  CheckpointBlob,
  CheckpointRepository,
  CheckpointWrite,
  StoredCheckpoint,
} from "../store/index.js";

/** The serde encoding the saver writes for a channel whose value was removed. */
const EMPTY_TYPE = "empty";

function missing(field: string, action: string): AppError {
  return new AppError("invalid", "invalid_input", `cannot ${action} a checkpoint without ${field}`, {
    details: [{ path: `configurable.${field}`, message: "required" }],
  });
}

function stringField(config: RunnableConfig | undefined, field: string): string | undefined {
  const value: unknown = config?.configurable?.[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new AppError("invalid", "invalid_input", `configurable.${field} must be a string`, {
      details: [{ path: `configurable.${field}`, message: "must be a string" }],
    });
  }
  return value;
}

/** LangGraph writes sort by task path, then task id, then index (what every saver must return). */
function sortWrites(writes: CheckpointWrite[]): CheckpointWrite[] {
  return [...writes].sort((a, b) =>
    compareWritesSortKeys(
      writesSortKey(a.taskPath, a.taskId, a.idx),
      writesSortKey(b.taskPath, b.taskId, b.idx),
    ),
  );
}

/**
 * The durable LangGraph checkpointer on our `Store` (PGlite embedded, PostgreSQL in server mode):
 * graphs compiled with it resume a thread after a crash or restart from its last checkpoint.
 * Values go through the saver's serde (`dumpsTyped`/`loadsTyped`), so they round-trip exactly; the
 * store only keeps bytes. Unchanged channel values are stored once per version, like LangGraph's
 * Postgres saver.
 */
export class StoreCheckpointSaver extends BaseCheckpointSaver {
  private readonly checkpoints: CheckpointRepository;

  constructor(checkpoints: CheckpointRepository, serde?: SerializerProtocol) {
    super(serde);
    this.checkpoints = checkpoints;
  }

  override async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const threadId = stringField(config, "thread_id");
    if (threadId === undefined) return undefined;
    const checkpointNs = stringField(config, "checkpoint_ns") ?? "";
    const checkpointId = getCheckpointId(config) || undefined;
    const stored = await this.checkpoints.get(threadId, checkpointNs, checkpointId);
    return stored === null ? undefined : this.toTuple(stored);
  }

  override async *list(
    config: RunnableConfig,
    options?: CheckpointListOptions,
  ): AsyncGenerator<CheckpointTuple> {
    const threadId = stringField(config, "thread_id") || undefined;
    const before = stringField(options?.before, "checkpoint_id");
    const rows = await this.checkpoints.list({
      ...(threadId !== undefined && { threadId }),
      ...(stringField(config, "checkpoint_ns") !== undefined && {
        checkpointNs: stringField(config, "checkpoint_ns"),
      }),
      ...(stringField(config, "checkpoint_id") && { checkpointId: stringField(config, "checkpoint_id") }),
      ...(before !== undefined && { beforeId: before }),
      ...(options?.filter !== undefined && { metadata: options.filter }),
      ...(options?.limit !== undefined && { limit: options.limit }),
    });
    for (const row of rows) yield await this.toTuple(row);
  }

  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    const threadId = stringField(config, "thread_id");
    if (!threadId) throw missing("thread_id", "store");
    const checkpointNs = stringField(config, "checkpoint_ns") ?? "";
    const parentCheckpointId = stringField(config, "checkpoint_id") || null;
    const { channel_values: values, ...body } = checkpoint;
    const [type, bytes] = await this.serde.dumpsTyped(body);
    const blobs: CheckpointBlob[] = await Promise.all(
      Object.entries(newVersions).map(async ([channel, version]) => {
        if (!(channel in values)) return { channel, version: String(version), type: EMPTY_TYPE, value: null };
        const [valueType, value] = await this.serde.dumpsTyped(values[channel]);
        return { channel, version: String(version), type: valueType, value };
      }),
    );
    const channelVersions = Object.fromEntries(
      Object.entries(checkpoint.channel_versions).map(([channel, version]) => [channel, String(version)]),
    );
    await this.checkpoints.put({
      key: { threadId, checkpointNs, checkpointId: checkpoint.id },
      parentCheckpointId,
      type,
      checkpoint: bytes,
      channelVersions,
      metadata: await this.dumpMetadata(metadata),
      blobs,
    });
    return {
      configurable: { thread_id: threadId, checkpoint_ns: checkpointNs, checkpoint_id: checkpoint.id },
    };
  }

  override async putWrites(
    config: RunnableConfig,
    writes: PendingWrite[],
    taskId: string,
    taskPath?: string,
  ): Promise<void> {
    const threadId = stringField(config, "thread_id");
    if (!threadId) throw missing("thread_id", "write to");
    const checkpointId = stringField(config, "checkpoint_id");
    if (!checkpointId) throw missing("checkpoint_id", "write to");
    const checkpointNs = stringField(config, "checkpoint_ns") ?? "";
    const rows: CheckpointWrite[] = await Promise.all(
      writes.map(async ([channel, value], idx) => {
        const [type, bytes] = await this.serde.dumpsTyped(value);
        return {
          taskId,
          idx: WRITES_IDX_MAP[channel] ?? idx,
          channel,
          type,
          value: bytes,
          taskPath: taskPath ?? "",
        };
      }),
    );
    await this.checkpoints.putWrites({ threadId, checkpointNs, checkpointId }, rows);
  }

  override async deleteThread(threadId: string): Promise<void> {
    await this.checkpoints.deleteThread(threadId);
  }

  /** Metadata is kept as JSON (filterable); it is the serde's JSON form, read back through the serde. */
  private async dumpMetadata(metadata: CheckpointMetadata): Promise<Record<string, unknown>> {
    const [type, bytes] = await this.serde.dumpsTyped(metadata);
    if (type !== "json") {
      throw new AppError("invalid", "invalid_input", "checkpoint metadata must serialize to JSON", {
        details: [{ path: "metadata", message: `serialized as ${type}` }],
      });
    }
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  }

  private async toTuple(row: StoredCheckpoint): Promise<CheckpointTuple> {
    const body = (await this.serde.loadsTyped(row.type, row.checkpoint)) as Omit<
      Checkpoint,
      "channel_values"
    >;
    const channelValues: Record<string, unknown> = {};
    for (const blob of row.channelValues) {
      if (blob.type === EMPTY_TYPE || blob.value === null) continue;
      channelValues[blob.channel] = await this.serde.loadsTyped(blob.type, blob.value);
    }
    const checkpoint: Checkpoint = { ...body, channel_values: channelValues };
    if (checkpoint.v < 4 && row.parentCheckpointId !== null) await this.migratePendingSends(checkpoint, row);
    const pendingWrites: CheckpointPendingWrite[] = await Promise.all(
      sortWrites(row.pendingWrites).map(
        async (w): Promise<CheckpointPendingWrite> => [
          w.taskId,
          w.channel,
          await this.serde.loadsTyped(w.type, w.value),
        ],
      ),
    );
    const metadata = (await this.serde.loadsTyped(
      "json",
      new TextEncoder().encode(JSON.stringify(row.metadata)),
    )) as CheckpointMetadata;
    const location = { thread_id: row.threadId, checkpoint_ns: row.checkpointNs };
    const tuple: CheckpointTuple = {
      config: { configurable: { ...location, checkpoint_id: row.checkpointId } },
      checkpoint,
      metadata,
      pendingWrites,
    };
    if (row.parentCheckpointId !== null) {
      tuple.parentConfig = { configurable: { ...location, checkpoint_id: row.parentCheckpointId } };
    }
    return tuple;
  }

  /**
   * Checkpoints older than format v4 kept sends as the parent's TASKS writes; LangGraph expects them
   * as the TASKS channel value, as the reference savers do when reading such a checkpoint.
   */
  private async migratePendingSends(checkpoint: Checkpoint, row: StoredCheckpoint): Promise<void> {
    if (row.parentCheckpointId === null) return;
    const parentKey = {
      threadId: row.threadId,
      checkpointNs: row.checkpointNs,
      checkpointId: row.parentCheckpointId,
    };
    const sends = sortWrites(await this.checkpoints.writes(parentKey, TASKS));
    if (sends.length === 0) return;
    const values = await Promise.all(sends.map((w) => this.serde.loadsTyped(w.type, w.value)));
    checkpoint.channel_values ??= {};
    checkpoint.channel_values[TASKS] = values;
    checkpoint.channel_versions ??= {};
    const versions = Object.values(checkpoint.channel_versions);
    checkpoint.channel_versions[TASKS] =
      versions.length > 0 ? maxChannelVersion(...versions) : this.getNextVersion(undefined);
  }
}
