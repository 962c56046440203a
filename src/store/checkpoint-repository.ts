/** The LangGraph checkpointer's storage, as the store keeps it (see `engine/checkpointer.ts`). */

/** One serialized value: `type` names the serde encoding, `value` its bytes (null for an empty channel). */
export interface CheckpointBlob {
  channel: string;
  version: string;
  type: string;
  value: Uint8Array | null;
}

/** One pending write of a task against a checkpoint; `idx` < 0 marks a special channel (upserted). */
export interface CheckpointWrite {
  taskId: string;
  idx: number;
  channel: string;
  type: string;
  value: Uint8Array;
  taskPath: string;
}

/** Where a checkpoint lives: thread, namespace ("" for the root graph) and id. */
export interface CheckpointKey {
  threadId: string;
  checkpointNs: string;
  checkpointId: string;
}

/** A stored checkpoint with the channel values its versions point at and its pending writes. */
export interface StoredCheckpoint extends CheckpointKey {
  parentCheckpointId: string | null;
  type: string;
  checkpoint: Uint8Array;
  metadata: Record<string, unknown>;
  /** Only the channels whose version has a stored value. */
  channelValues: CheckpointBlob[];
  /** In no particular order; the saver sorts them as LangGraph requires. */
  pendingWrites: CheckpointWrite[];
  createdAt: string;
}

/** Filters of `CheckpointRepository.list`; every field narrows, none required. */
export interface CheckpointQuery {
  threadId?: string;
  checkpointNs?: string;
  checkpointId?: string;
  /** Only checkpoints whose id sorts before this one. */
  beforeId?: string;
  /** Metadata containment (`@>`): every key must be present with an equal JSON value. */
  metadata?: Record<string, unknown>;
  limit?: number;
}

/**
 * Primitive storage for LangGraph checkpoints (the engine's saver holds the LangGraph logic and the
 * serialization; this repository stores bytes). Checkpoint ids sort by time (uuid6), so "latest" and
 * "before" are byte-order comparisons of ids. All reads return newest first.
 */
export interface CheckpointRepository {
  /** Stores (or replaces) a checkpoint and, in the same transaction, the new channel values. */
  put(input: {
    key: CheckpointKey;
    parentCheckpointId: string | null;
    type: string;
    checkpoint: Uint8Array;
    channelVersions: Record<string, string>;
    metadata: Record<string, unknown>;
    blobs: CheckpointBlob[];
  }): Promise<void>;
  /** The checkpoint with this id, or the latest of thread+namespace when `checkpointId` is absent. */
  get(threadId: string, checkpointNs: string, checkpointId?: string): Promise<StoredCheckpoint | null>;
  list(query: CheckpointQuery): Promise<StoredCheckpoint[]>;
  /** Writes with idx >= 0 are kept from the first attempt (insert-or-ignore); idx < 0 are replaced. */
  putWrites(key: CheckpointKey, writes: CheckpointWrite[]): Promise<void>;
  /** Pending writes of one checkpoint, optionally only of one channel. */
  writes(key: CheckpointKey, channel?: string): Promise<CheckpointWrite[]>;
  /** Removes every checkpoint, value and write of a thread (all namespaces). */
  deleteThread(threadId: string): Promise<void>;
}
