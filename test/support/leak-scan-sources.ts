/**
 * Readers of the places a leak scan looks: folders (with git history), database columns, the run
 * event log, and recorders of HTTP answers (the global `fetch`, a browser page). Each returns plain
 * texts with a name saying where they came from; `leak-scan.ts` does the looking.
 */
import { execFile } from "node:child_process";
import { lstat, readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import type { Page } from "playwright-core";
import type { Vault } from "../../src/secrets/index.js";
import { watchTestStoreClients } from "./store.js";

const run = promisify(execFile);

/** One text read from somewhere, named by where. */
export interface SourceText {
  where: string;
  text: string;
}

/** Runs one SQL statement and returns its rows (see `pgliteRows`, `postgresRows`). */
export type SqlRows = (sql: string) => Promise<Record<string, unknown>[]>;

/** The store's event log, as `Store.runEvents` offers it. */
export interface RunEventSource {
  listAfter(afterSeq: number, limit: number): Promise<{ seq: number }[]>;
}

export interface FolderOptions {
  /**
   * Folder names not entered. Default: installed packages and package caches (`node_modules`,
   * `.caches`, `_cacache`): third-party files, large, and not written by the system under test.
   */
  skip?: string[];
  /** The folder is made only once something is written there: absent, it holds no secret. */
  optional?: boolean;
}

/** Which `fetch` answers to record, by the request's URL. */
export type ResponseFilter = (url: string) => boolean;

const DEFAULT_SKIP = ["node_modules", ".caches", "_cacache"];
const EVENTS_PAGE = 1_000;
const GIT_OUTPUT_BYTES = 512 * 1024 * 1024;

/** Every run event, a page of them per text. */
export async function runEventTexts(where: string, events: RunEventSource): Promise<SourceText[]> {
  const texts: SourceText[] = [];
  for (let after = 0; ; ) {
    const page = await events.listAfter(after, EVENTS_PAGE);
    if (page.length === 0) return texts;
    texts.push({ where: `${where} (events after seq ${after})`, text: JSON.stringify(page) });
    after = page.at(-1)?.seq ?? after;
  }
}

/** Every regular file under `dir` (symlinks not followed); each git repository through git. */
export async function folderTexts(where: string, dir: string, options: FolderOptions): Promise<SourceText[]> {
  const skip = new Set(options.skip ?? DEFAULT_SKIP);
  const texts: SourceText[] = [];
  const visit = async (path: string): Promise<void> => {
    const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
    const names = new Set(entries.map((e) => e.name));
    // A repository's objects are compressed: git reads them, the walk skips them.
    const isRepository = names.has("HEAD") && names.has("objects") && names.has("refs");
    if (isRepository) texts.push(...(await gitTexts(`${where}: ${relative(dir, path) || "."}`, path)));
    for (const entry of entries) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) {
        if (!skip.has(entry.name) && !(isRepository && entry.name === "objects")) await visit(child);
      } else if (entry.isFile()) {
        // A file removed while the walk runs (a worker cleaning up) is simply gone.
        const bytes = await readFile(child).catch(() => null);
        if (bytes) texts.push({ where: `${where}: ${relative(dir, child)}`, text: bytes.toString("latin1") });
      }
    }
  };
  if (!(await lstat(dir).catch(() => null))?.isDirectory()) {
    if (options.optional) return [];
    throw new Error(`${where}: no folder ${dir}`);
  }
  await visit(dir);
  return texts;
}

/**
 * Reads the files under `dir` every `intervalMs` until finished, keeping each version a file had:
 * for folders the system removes when it is done with them (a worker's workspace and HOME, with
 * its agent's transcripts, go when the worker is terminated). Repositories' objects are left to
 * the forge's scan; what a file held between two looks is missed.
 */
export function watchFolder(
  where: string,
  dir: string,
  options: FolderOptions,
  intervalMs: number,
): { finish(): Promise<SourceText[]> } {
  const skip = new Set(options.skip ?? DEFAULT_SKIP);
  const latest = new Map<string, { stamp: string; text: string }>();
  const earlier: SourceText[] = [];
  const look = async (path: string): Promise<void> => {
    const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
    const isRepository = entries.some((e) => e.name === "HEAD") && entries.some((e) => e.name === "objects");
    for (const entry of entries) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) {
        if (!skip.has(entry.name) && !(isRepository && entry.name === "objects")) await look(child);
        continue;
      }
      if (!entry.isFile()) continue;
      const info = await stat(child).catch(() => null);
      const stamp = info ? `${info.mtimeMs}/${info.size}` : "";
      const known = latest.get(child);
      if (!info || known?.stamp === stamp) continue;
      const bytes = await readFile(child).catch(() => null);
      if (!bytes) continue;
      const text = bytes.toString("latin1");
      // A file that only grew (a transcript, a log) keeps its newest version alone.
      if (known && !text.startsWith(known.text)) {
        earlier.push({ where: `${where}: ${relative(dir, child)} (an earlier version)`, text: known.text });
      }
      latest.set(child, { stamp, text });
    }
  };
  let looking: Promise<void> = look(dir);
  const timer = setInterval(() => {
    looking = looking.then(() => look(dir));
  }, intervalMs);
  return {
    async finish() {
      clearInterval(timer);
      await looking;
      await look(dir);
      return [
        ...earlier,
        ...[...latest].map(([path, { text }]) => ({ where: `${where}: ${relative(dir, path)}`, text })),
      ];
    },
  };
}

/** A repository's history with its patches, and every object in it, reachable or not. */
async function gitTexts(where: string, gitDir: string): Promise<SourceText[]> {
  const git = async (args: string[]) =>
    (
      await run("git", ["-c", "safe.directory=*", "--git-dir", gitDir, ...args], {
        encoding: "buffer",
        maxBuffer: GIT_OUTPUT_BYTES,
      })
    ).stdout.toString("latin1");
  // An empty repository has no history to show: `git log` fails on it.
  const log = await git(["log", "-p", "--all", "--no-color"]).catch(() => "");
  const objects = await git(["cat-file", "--batch-all-objects", "--batch"]);
  return [
    { where: `${where} (git log -p --all)`, text: log },
    { where: `${where} (every git object)`, text: objects },
  ];
}

/** Column types that can hold text; others (numbers, times, booleans, ids) cannot hold a secret. */
const TEXT_TYPES = ["text", "character varying", "character", "json", "jsonb", "bytea", "ARRAY"];

/** Every text-holding column of every table, except ciphertexts, a table per text. */
export async function tableTexts(where: string, rows: SqlRows): Promise<SourceText[]> {
  const columns = (await rows(
    `select c.table_schema as schema, c.table_name as "table", c.column_name as "column", c.data_type as type
     from information_schema.columns c
     join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
     where t.table_type = 'BASE TABLE' and c.table_schema not in ('pg_catalog', 'information_schema')
     order by c.table_schema, c.table_name, c.ordinal_position`,
  )) as { schema: string; table: string; column: string; type: string }[];
  const tables = new Map<string, { column: string; isBytes: boolean }[]>();
  for (const { schema, table, column, type } of columns) {
    const name = `${quote(schema)}.${quote(table)}`;
    const read = tables.get(name) ?? [];
    tables.set(name, read);
    if (TEXT_TYPES.includes(type) && !isCiphertext(column)) read.push({ column, isBytes: type === "bytea" });
  }
  if (tables.size === 0) throw new Error(`${where}: no table found, the scan would prove nothing`);
  const texts: SourceText[] = [];
  for (const [table, read] of tables) {
    if (read.length === 0) continue;
    // Bytes as hex, decoded here: a text cast of bytea escapes them.
    const list = read
      .map(({ column, isBytes }) =>
        isBytes
          ? `encode(${quote(column)}, 'hex') as ${quote(column)}`
          : `${quote(column)}::text as ${quote(column)}`,
      )
      .join(", ");
    const bytes = new Set(read.filter((r) => r.isBytes).map((r) => r.column));
    const text = (await rows(`select ${list} from ${table}`))
      .map((row) =>
        Object.entries(row)
          .map(([column, value]) =>
            value === null
              ? ""
              : bytes.has(column)
                ? Buffer.from(String(value), "hex").toString("latin1")
                : String(value),
          )
          .join("\t"),
      )
      .join("\n");
    texts.push({ where: `${where}: table ${table}`, text });
  }
  return texts;
}

/** A column holding a vault's ciphertext: sealed, so searched for nothing. */
function isCiphertext(column: string): boolean {
  return column === "ciphertext" || column.endsWith("_ciphertext");
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** `SqlRows` on an open PGlite (the same instance a store uses may be read while it runs). */
export function pgliteRows(db: PGlite): SqlRows {
  return async (sql) => (await db.query<Record<string, unknown>>(sql)).rows;
}

/** `SqlRows` on a node-postgres client or pool. */
export function postgresRows(client: pg.ClientBase | pg.Pool): SqlRows {
  return async (sql) => (await client.query<Record<string, unknown>>(sql)).rows;
}

/** Opens the embedded database in `dir` (its process must be gone), reads it and closes it. */
export async function pgliteDirTexts(where: string, dir: string): Promise<SourceText[]> {
  const db = await PGlite.create(dir);
  try {
    return await tableTexts(where, pgliteRows(db));
  } finally {
    await db.close();
  }
}

export async function postgresTexts(where: string, url: string): Promise<SourceText[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await tableTexts(where, postgresRows(client));
  } finally {
    await client.end();
  }
}

/**
 * Records each PGlite database opened from now on, and each a test store is given (a kept one is
 * not opened again: see `openTestStore`), so a suite can scan the in-memory database of a store it
 * did not open itself. `stop` puts `PGlite.create` back.
 */
export function recordPgliteInstances(): { instances: PGlite[]; stop(): void } {
  const instances: PGlite[] = [];
  const record = (db: PGlite) => {
    if (!instances.includes(db)) instances.push(db);
  };
  const original = PGlite.create;
  const recording = async function (this: typeof PGlite, ...args: unknown[]) {
    const db = (await (original as (...a: unknown[]) => Promise<PGlite>).apply(this, args)) as PGlite;
    record(db);
    return db;
  };
  Object.defineProperty(PGlite, "create", { value: recording, configurable: true, writable: true });
  const unwatch = watchTestStoreClients(record);
  return {
    instances,
    stop: () => {
      unwatch();
      Object.defineProperty(PGlite, "create", { value: original, configurable: true, writable: true });
    },
  };
}

/**
 * The key a vault holds, base64 as `ORCHESTRATOR_SECRET_KEY` carries it. Harnesses make a random
 * key and do not hand it out; a scan needs the value to look for it.
 */
export function vaultKeyOf(vault: Vault): string {
  const key = (vault as unknown as { key?: unknown }).key;
  if (!Buffer.isBuffer(key) || key.length !== 32) throw new Error("the vault's key is not where it was");
  return key.toString("base64");
}

/** An answer being read: what came so far, and a way to stop reading an endless one. */
interface Reading {
  where: string;
  chunks: Buffer[];
  done: Promise<void>;
  cancel(): void;
}

/** Waits for readings to end, at most `settleMs`, then stops the rest and keeps what they read. */
async function settle(readings: Reading[], settleMs: number): Promise<SourceText[]> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, settleMs);
  });
  await Promise.race([Promise.all(readings.map((r) => r.done)), deadline]);
  clearTimeout(timer);
  for (const reading of readings) reading.cancel();
  return readings.map((r) => ({ where: r.where, text: Buffer.concat(r.chunks).toString("latin1") }));
}

/**
 * Wraps the global `fetch`: each answer's body is split in two, one read here at once (so what a
 * caller never reads is scanned too), one handed to the caller; a caller that cancels its half
 * cancels ours, so closing an event stream still ends the request at once.
 */
export function recordFetchResponses(filter: ResponseFilter): {
  stop(): void;
  finish(settleMs: number): Promise<SourceText[]>;
} {
  const original = globalThis.fetch;
  const readings: Reading[] = [];
  const recording: typeof fetch = async (input, init) => {
    const response = await original(input, init);
    const request = input instanceof Request ? input : null;
    const url = request ? request.url : String(input);
    if (!filter(url) || !response.body) return response;
    const [mine, theirs] = response.body.tee();
    const reader = mine.getReader();
    const chunks: Buffer[] = [];
    const done = (async () => {
      for (;;) {
        const { value, done: ended } = await reader.read();
        if (ended) return;
        chunks.push(Buffer.from(value));
      }
    })().catch(() => undefined);
    const method = init?.method ?? request?.method ?? "GET";
    const { pathname, search } = new URL(url);
    readings.push({
      where: `API answer ${method} ${pathname}${search}`,
      chunks,
      done,
      cancel: () => void reader.cancel(),
    });
    const given = theirs.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { value, done: ended } = await given.read();
        if (ended) controller.close();
        else controller.enqueue(value);
      },
      async cancel(reason) {
        void reader.cancel(reason);
        await given.cancel(reason);
      },
    });
    const answer = new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    Object.defineProperty(answer, "url", { value: response.url });
    return answer;
  };
  globalThis.fetch = recording;
  const stop = () => {
    if (globalThis.fetch === recording) globalThis.fetch = original;
  };
  return {
    stop,
    finish: (settleMs) => {
      stop();
      return settle(readings, settleMs);
    },
  };
}

/** Records the bodies of the answers a browser page gets from `origin`. */
export function recordPageResponses(
  page: Page,
  origin: string,
): { finish(settleMs: number): Promise<SourceText[]> } {
  const readings: Reading[] = [];
  const onResponse = (response: {
    url(): string;
    request(): { method(): string };
    body(): Promise<Buffer>;
  }) => {
    const url = response.url();
    if (!url.startsWith(origin)) return;
    const chunks: Buffer[] = [];
    // A page's event stream has no body until it ends; what it carried is in the store as well.
    const done = response.body().then(
      (body) => {
        chunks.push(body);
      },
      () => undefined,
    );
    const { pathname, search } = new URL(url);
    readings.push({
      where: `page answer ${response.request().method()} ${pathname}${search}`,
      chunks,
      done,
      cancel: () => undefined,
    });
  };
  page.on("response", onResponse);
  return {
    finish: (settleMs) => {
      page.off("response", onResponse);
      return settle(readings, settleMs);
    },
  };
}
