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
 * The server store: a `pg.Pool` on `url`. Migrates (under an advisory lock, so several processes
 * may start together) and seeds agent configs before returning.
 */
export async function openPostgresStore(url: string, options: StoreOptions = {}): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_MAX,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // An idle client losing its connection must not crash the process; the pool drops that client.
  pool.on("error", () => undefined);
  try {
    await migrateLocked(pool);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw mapDbError(error);
  }
  return buildStore("postgres", drizzle({ client: pool }), () => pool.end(), options.redactor);
}
