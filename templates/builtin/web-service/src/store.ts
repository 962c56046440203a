import { randomUUID } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { z } from "zod";

/** A data file that exists but cannot be read as this store's data. */
export class CorruptStoreError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`data file ${file} is corrupt (${reason}): fix or move it away; the service will not overwrite it`);
    this.name = "CorruptStoreError";
  }
}

/**
 * Records of one kind kept by id in one JSON file (e.g. `DATA_DIR/notes.json`). The whole file is
 * loaded once and kept in memory; every change writes a new file atomically (temp file, fsync,
 * rename), one write at a time, so a crash leaves the old file or the new one, never half of one.
 * A missing file is an empty store; a file that is not valid JSON (or not valid per `schema`) is a
 * `CorruptStoreError`. For one process: two processes on the same file would overwrite each other.
 * Records read are the stored objects: treat them as read-only and `put` a new object to change one.
 */
export class JsonStore<T> {
  /** The records, read once (concurrent first reads share it); replaced by each committed change. */
  private data: Promise<Map<string, T>> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly schema?: z.ZodType<T>,
  ) {}

  /** The record with this id, or undefined. */
  async get(id: string): Promise<T | undefined> {
    return (await this.load()).get(id);
  }

  /** Every record, in insertion order. */
  async list(): Promise<T[]> {
    return [...(await this.load()).values()];
  }

  /** Stores `value` under `id` (replacing any record there) and waits until it is on disk. */
  put(id: string, value: T): Promise<void> {
    return this.change((data) => {
      data.set(id, value);
    });
  }

  /** Removes the record; resolves with whether there was one. */
  delete(id: string): Promise<boolean> {
    return this.change((data) => data.delete(id));
  }

  /**
   * Runs `fn` on a copy of the records, after every earlier change, then writes the copy: a
   * read-modify-write that no other change interleaves with. When `fn` or the write fails, nothing
   * changes.
   */
  change<R>(fn: (data: Map<string, T>) => R): Promise<R> {
    const run = this.queue.then(async () => {
      const next = new Map(await this.load());
      const result = fn(next);
      await writeAtomically(this.file, `${JSON.stringify(Object.fromEntries(next), null, 2)}\n`);
      this.data = Promise.resolve(next);
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private load(): Promise<Map<string, T>> {
    this.data ??= this.read().catch((err: unknown) => {
      this.data = undefined; // read again next time: the file may have been fixed
      throw err;
    });
    return this.data;
  }

  private async read(): Promise<Map<string, T>> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return new Map();
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new CorruptStoreError(this.file, (err as Error).message);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new CorruptStoreError(this.file, "not a JSON object");
    }
    const data = new Map<string, T>();
    for (const [id, value] of Object.entries(parsed)) {
      if (!this.schema) {
        data.set(id, value as T);
        continue;
      }
      const checked = this.schema.safeParse(value);
      if (!checked.success) {
        const issue = checked.error.issues[0];
        throw new CorruptStoreError(
          this.file,
          `record ${id}: ${issue?.path.join(".") || "value"}: ${issue?.message}`,
        );
      }
      data.set(id, checked.data);
    }
    return data;
  }
}

/** Writes `text` to `file` so readers see the old content or the new, never a part (same folder rename). */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(file)}.${randomUUID()}.tmp`);
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  // Make the rename itself durable; some file systems cannot sync a folder, which is fine.
  const folder = await open(dir, "r").catch(() => undefined);
  await folder
    ?.sync()
    .catch(() => undefined)
    .finally(() => folder.close());
}
