import { mkdirSync, readFileSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { StorageAdapter } from "grammy";

/** The file of a store is not a JSON object: nothing was overwritten; fix or move the file away. */
export class CorruptStoreError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file} is corrupt (${reason}): fix it or move it away; it was left untouched`);
    this.name = "CorruptStoreError";
  }
}

let tempCounter = 0;

/**
 * A map of string keys to JSON values kept in one file (`<dir>/<name>.json`). Reads come from
 * memory; every change is written through: the whole map goes to a temporary file in the same
 * folder, which is flushed to disk (fsync) and renamed over the old file, so the file is always
 * either the old or the new map, never half written. Writes are serialized: one at a time, in the
 * order of the changes. A missing file is an empty store; a file that is not a JSON object throws
 * `CorruptStoreError` on open. Values must survive `JSON.stringify` (no Dates, Maps or functions).
 */
export class JsonStore<V> {
  readonly file: string;
  private readonly values: Map<string, V>;
  private queue: Promise<void> = Promise.resolve();

  /** Opens (creating the folder) `<dir>/<name>.json`; reads it once, synchronously. */
  constructor(dir: string, name: string) {
    if (!/^[A-Za-z0-9_-]+$/.test(name))
      throw new Error(`store name ${JSON.stringify(name)}: letters, digits, _ and - only`);
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${name}.json`);
    this.values = new Map(Object.entries(readObject<V>(this.file)));
  }

  /** A copy of the value of `key`: changing it changes nothing until you `set` it. */
  get(key: string): V | undefined {
    const value = this.values.get(key);
    return value === undefined ? undefined : structuredClone(value);
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  keys(): string[] {
    return [...this.values.keys()];
  }

  /** Sets `key` (at once in memory) and resolves once the change is on disk. */
  set(key: string, value: V): Promise<void> {
    if (JSON.stringify(this.values.get(key)) === JSON.stringify(value)) return this.queue;
    this.values.set(key, structuredClone(value));
    return this.persist();
  }

  /** Replaces the value of `key` with `change(old)`; read and set with no await in between. */
  update(key: string, change: (old: V | undefined) => V): Promise<void> {
    return this.set(key, change(this.get(key)));
  }

  /** Removes `key`; resolves once the change is on disk. */
  delete(key: string): Promise<void> {
    if (!this.values.delete(key)) return this.queue;
    return this.persist();
  }

  /** Resolves once every change made so far is on disk. */
  flushed(): Promise<void> {
    return this.queue;
  }

  private persist(): Promise<void> {
    const text = `${JSON.stringify(Object.fromEntries(this.values), null, 2)}\n`;
    const write = this.queue.catch(() => undefined).then(() => writeAtomically(this.file, text));
    this.queue = write;
    return write;
  }
}

/** A grammY session storage over a store (one entry per session key). */
export function storeAdapter<V>(store: JsonStore<V>): StorageAdapter<V> {
  return {
    read: (key) => store.get(key),
    write: (key, value) => store.set(key, value),
    delete: (key) => store.delete(key),
  };
}

function readObject<V>(file: string): Record<string, V> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CorruptStoreError(file, `not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new CorruptStoreError(file, "not a JSON object");
  return parsed as Record<string, V>;
}

/** Writes `text` to a temporary file next to `file`, fsyncs it, renames it over `file`, fsyncs the folder. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${++tempCounter}.tmp`);
  const handle = await open(temp, "w", 0o600);
  try {
    await handle.writeFile(text, "utf8");
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  // The rename itself lives in the folder: flush it too (not possible on every platform).
  const folder = await open(dirname(file), "r").catch(() => undefined);
  await folder?.sync().catch(() => undefined);
  await folder?.close();
}
