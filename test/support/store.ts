import { openAsBlob } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { inject } from "vitest";
import { openPgliteStore, pgliteStoreOn, type Store, type StoreOptions } from "../../src/store/index.js";

let snapshot: Promise<Blob | undefined> | null = null;

/** The migrated database the test run's global setup made once (none outside a vitest run). */
function runSnapshot(): Promise<Blob | undefined> {
  snapshot ??= (async () => {
    // A benchmark (tsx, no vitest) migrates its own database.
    const path = process.env.VITEST ? inject("pgliteSnapshot") : undefined;
    return path ? openAsBlob(path) : undefined;
  })();
  return snapshot;
}

/*
 * Opening PGlite from the snapshot costs about a second of CPU (its files unpacked, PostgreSQL
 * started in WebAssembly), and the unit files open about eighty such stores per run. A closed test
 * store's client is kept instead, and the next store of this process gets it back as the snapshot
 * left it: every table emptied and refilled with the snapshot's rows, every sequence set back.
 */

/** Clients kept for reuse beyond this are closed: each holds its own WebAssembly memory. */
const MAX_IDLE = 3;
const idle: PGlite[] = [];
/** Told of each client a test store is given (the leak scan reads its tables). */
const watchers = new Set<(client: PGlite) => void>();

/** Calls `watcher` with the client of each test store opened until the returned function is called. */
export function watchTestStoreClients(watcher: (client: PGlite) => void): () => void {
  watchers.add(watcher);
  return () => watchers.delete(watcher);
}

/** What the snapshot holds: each table's rows (as JSON) with its writable columns, and the sequences. */
interface Pristine {
  tables: { name: string; columns: string[]; rows: unknown[] }[];
  sequences: { name: string; value: string; isCalled: boolean }[];
}
let pristine: Promise<Pristine> | null = null;

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Reads the tables and sequences of a client that has just been opened from the snapshot. */
async function readPristine(client: PGlite): Promise<Pristine> {
  const tables = await client.query<{ name: string; columns: string[] }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name,
            array_agg(a.attname::text ORDER BY a.attnum) AS columns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      GROUP BY 1 ORDER BY 1`,
  );
  const out: Pristine = { tables: [], sequences: [] };
  for (const table of tables.rows) {
    const rows = await client.query<{ rows: unknown[] | null }>(
      `SELECT json_agg(t) AS rows FROM ${table.name} t`,
    );
    out.tables.push({ ...table, rows: rows.rows[0]?.rows ?? [] });
  }
  const sequences = await client.query<{ name: string }>(
    `SELECT format('%I.%I', schemaname, sequencename) AS name FROM pg_sequences`,
  );
  for (const { name } of sequences.rows) {
    const state = await client.query<{ value: string; isCalled: boolean }>(
      `SELECT last_value::text AS value, is_called AS "isCalled" FROM ${name}`,
    );
    const row = state.rows[0];
    if (row) out.sequences.push({ name, ...row });
  }
  return out;
}

/** Brings a used client back to the snapshot's contents, in one transaction. */
async function restore(client: PGlite, to: Pristine): Promise<void> {
  await client.transaction(async (tx) => {
    await tx.exec(`TRUNCATE ${to.tables.map((t) => t.name).join(", ")} RESTART IDENTITY CASCADE`);
    for (const table of to.tables) {
      if (table.rows.length === 0) continue;
      const columns = table.columns.map(quote).join(", ");
      await tx.query(
        `INSERT INTO ${table.name} (${columns}) OVERRIDING SYSTEM VALUE
           SELECT ${columns} FROM json_populate_recordset(NULL::${table.name}, $1::json)`,
        [JSON.stringify(table.rows)],
      );
    }
    for (const seq of to.sequences) {
      await tx.query("SELECT setval($1::regclass, $2::bigint, $3)", [seq.name, seq.value, seq.isCalled]);
    }
  });
}

/**
 * The client behind one test store: it answers as a closed PGlite once that store is closed, so a
 * loop a test left running cannot write into the store the next test gets.
 */
function leaseOf(client: PGlite): { client: PGlite; end(): void } {
  let ended = false;
  const proxy = new Proxy(client, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) =>
        ended
          ? Promise.reject(new Error("PGlite is closed"))
          : (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
  return {
    client: proxy,
    end() {
      ended = true;
    },
  };
}

/** A client as the snapshot left it: a kept one restored, else a new one from the snapshot. */
async function freshClient(from: Blob): Promise<PGlite> {
  const kept = idle.pop();
  if (kept) {
    // A restore that fails is a schema this file does not know how to reset: said, not worked around.
    await restore(kept, await (pristine as Promise<Pristine>)).catch(async (cause: unknown) => {
      await kept.close().catch(() => undefined);
      throw new Error("a kept test database could not be set back to the snapshot", { cause });
    });
    return kept;
  }
  const client = await PGlite.create({ loadDataDir: from });
  pristine ??= readPristine(client);
  await pristine;
  return client;
}

/**
 * A throwaway in-memory embedded store, migrated and seeded: opened from the snapshot the run's
 * global setup made, so a suite does not pay for creating and migrating a database every time.
 */
export async function openTestStore(options: StoreOptions = {}): Promise<Store> {
  const from = await runSnapshot();
  if (!from) return openPgliteStore(null, options);
  const client = await freshClient(from);
  for (const watcher of watchers) watcher(client);
  const lease = leaseOf(client);
  return pgliteStoreOn(lease.client, options, async () => {
    lease.end();
    // Queries the store had sent finish before the client is restored for the next one.
    if (idle.length < MAX_IDLE && !client.closed) idle.push(client);
    else await client.close();
  });
}
