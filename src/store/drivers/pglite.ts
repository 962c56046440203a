import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import { AppError } from "../../contracts/index.js";
import { buildStore } from "../build-store.js";
import { migrationsFolder } from "../migrations-folder.js";
import { seedAgentConfigs } from "../repositories/agent-configs.js";
import { mapDbError } from "../repositories/common.js";
import type { Store, StoreOptions } from "../store.js";
import { lockDataDir } from "./data-dir-lock.js";
import { initialData } from "./pglite-initial.js";

/**
 * A freshly migrated and seeded in-memory database, as a snapshot to open stores from: a tarball,
 * gzipped when it is to be kept (the build's copy, `pglite-initial.ts`).
 */
export async function pgliteSnapshot(compression: "none" | "gzip" = "none"): Promise<Blob> {
  const client = await PGlite.create();
  try {
    const db = drizzle({ client });
    await migrate(db, { migrationsFolder: migrationsFolder() });
    await seedAgentConfigs(db);
    return await client.dumpDataDir(compression);
  } catch (error) {
    throw mapDbError(error);
  } finally {
    await client.close();
  }
}

/** Serializers `writeWellFormed` made, so a client given to a second store is not wrapped twice. */
const wellFormed = new WeakSet<object>();

/** A UTF-16 surrogate without its other half. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * PGlite counts a lone surrogate's bytes otherwise than it writes them, so a text holding one
 * reached PostgreSQL as broken UTF-8 and the query failed ("invalid byte sequence"). Every value is
 * serialized as node-postgres writes it instead: a lone surrogate becomes U+FFFD, so both drivers
 * store the same text and neither fails on it.
 */
function writeWellFormed(client: PGlite): void {
  const serializers = client.serializers;
  if (wellFormed.has(serializers)) return; // a client opened again keeps its serializers
  const wrapped = new Proxy(serializers, {
    get(target, oid) {
      const serialize = Reflect.get(target, oid) as ((value: unknown) => unknown) | undefined;
      return (value: unknown) => {
        const out = serialize ? serialize(value) : String(value);
        return typeof out === "string" ? out.replace(LONE_SURROGATE, "\ufffd") : out;
      };
    },
  });
  wellFormed.add(wrapped);
  client.serializers = wrapped;
}

/**
 * The embedded store: PGlite in this process, files under `<dataDir>/db` (or in memory when
 * `dataDir` is null). Migrates and seeds agent configs before returning. One process at a time
 * (a pid file in the directory refuses a second one).
 */
export async function openPgliteStore(dataDir: string | null, options: StoreOptions = {}): Promise<Store> {
  let client: PGlite;
  let unlock = () => {};
  try {
    if (dataDir === null) {
      client = await PGlite.create();
    } else {
      const dir = join(dataDir, "db");
      await mkdir(dir, { recursive: true });
      unlock = lockDataDir(dir);
      const initial = existsSync(join(dir, "PG_VERSION")) ? undefined : await initialData();
      client = await PGlite.create(dir, initial ? { loadDataDir: initial } : {});
    }
  } catch (error) {
    unlock();
    throw error instanceof AppError ? error : mapDbError(error);
  }
  return pgliteStoreOn(client, options, async () => {
    await client.close();
    unlock();
  }).catch((error: unknown) => {
    unlock();
    throw error;
  });
}

/**
 * A store on a PGlite client the caller made: migrated and seeded like any other; `close` runs
 * when the store closes (closing the client is the caller's choice: a test reuses it). A client
 * that cannot be migrated is closed.
 */
export async function pgliteStoreOn(
  client: PGlite,
  options: StoreOptions,
  close: () => Promise<void>,
): Promise<Store> {
  writeWellFormed(client);
  const db = drizzle({ client });
  try {
    await migrate(db, { migrationsFolder: migrationsFolder() });
    await seedAgentConfigs(db);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw mapDbError(error);
  }
  return buildStore("pglite", db, close, options.redactor);
}
