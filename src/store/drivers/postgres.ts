import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { buildStore } from "../build-store.js";
import { migrationsFolder } from "../migrations-folder.js";
import { seedAgentConfigs } from "../repositories/agent-configs.js";
import { mapDbError } from "../repositories/common.js";
import type { Store, StoreOptions } from "../store.js";

/** Serializes migrations across processes that start at once (any fixed 64-bit number will do). */
const MIGRATION_LOCK_KEY = 7_244_133_001;
const POOL_MAX = 10;
const CONNECT_TIMEOUT_MS = 10_000;

/** Migrates and seeds on one connection while holding a session advisory lock. */
async function migrateLocked(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      const db = drizzle({ client });
      await migrate(db, { migrationsFolder: migrationsFolder() });
      await seedAgentConfigs(db);
    } finally {
      await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}

/**
 * The store's connection pool. A connection the server ends (a restart, a failover, an
 * administrator's terminate) must never crash the process: `pg` emits the error on the pool for an
 * idle client (which it drops), but on the client itself for one checked out between two queries
 * (inside a transaction), and an unheard `error` event is an uncaught exception. That client's
 * next query fails with the error instead, and the pool replaces it once released with it.
 */
export function createPool(url: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_MAX,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  pool.on("error", () => undefined);
  pool.on("connect", (client) => {
    client.on("error", () => undefined);
  });
  return pool;
}

/**
 * The server store: a `pg.Pool` on `url`. Migrates (under an advisory lock, so several processes
 * may start together) and seeds agent configs before returning.
 */
export async function openPostgresStore(url: string, options: StoreOptions = {}): Promise<Store> {
  const pool = createPool(url);
  try {
    await migrateLocked(pool);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw mapDbError(error);
  }
  return buildStore("postgres", drizzle({ client: pool }), () => pool.end(), options.redactor);
}
