import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";

/** A data file that cannot be read as what it should hold: fix or move it away, then restart. */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreError";
  }
}

/**
 * One JSON document in a file, e.g. `${DATA_DIR}/messages.json`. Writes are atomic (a temporary
 * file in the same folder, fsync, then rename over the old one) and serialized (one `update` at a
 * time, each seeing the previous one's result), so a crash or a concurrent request never leaves a
 * half-written or lost update. A missing file reads as `empty()`; a file that is not valid JSON or
 * does not match `parse` is a `StoreError` naming the file, never silently replaced.
 */
export class JsonFile<T> {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly empty: () => T,
    /** Checks what was read (e.g. a zod schema's `parse`); throw to reject it. */
    private readonly parse: (raw: unknown) => T,
  ) {}

  /** The current content (the last completed write). */
  async read(): Promise<T> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return this.empty();
      throw new StoreError(`cannot read ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new StoreError(`${this.path} is not valid JSON (${(err as Error).message}); fix or remove it`, {
        cause: err,
      });
    }
    try {
      return this.parse(raw);
    } catch (err) {
      throw new StoreError(`${this.path} does not hold the expected data; fix or remove it`, { cause: err });
    }
  }

  /** Applies `change` to the current content and writes the result; resolves once it is on disk. */
  update(change: (current: T) => T): Promise<T> {
    const result = this.queue.then(async () => {
      const next = change(await this.read());
      await this.write(next);
      return next;
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async write(value: T): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true });
    const temp = `${this.path}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      const file = await open(temp, "w", 0o600);
      try {
        await file.writeFile(`${JSON.stringify(value, null, 2)}\n`, "utf8");
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, this.path);
    } catch (err) {
      await rm(temp, { force: true });
      throw new StoreError(`cannot write ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    await syncDir(dir);
  }
}

/** Makes a rename durable by syncing its folder; skipped where folders cannot be opened or synced. */
async function syncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // Some platforms and file systems refuse fsync on a folder; the rename itself is still atomic.
  } finally {
    await handle?.close();
  }
}
