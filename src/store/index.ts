/**
 * The store module's public face: the `Store` interface with its repositories, and the functions
 * that open it on PGlite (embedded) or PostgreSQL (server). Both run the same migrations.
 */

import type { SecretRedactor } from "../observability/index.js";
import { openPgliteStore } from "./drivers/pglite.js";
import { openPostgresStore } from "./drivers/postgres.js";
import type { Store } from "./store.js";

export { AGENT_CONFIG_DEFAULTS, type AgentConfigDefault } from "./agent-config-defaults.js";
export { openPgliteStore, pgliteSnapshot, pgliteStoreOn } from "./drivers/pglite.js";
export { openPostgresStore } from "./drivers/postgres.js";
export type * from "./store.js";

/** Options the composition root passes from config. */
export interface OpenStoreOptions {
  /** A PostgreSQL URL selects the server driver; empty or absent means embedded PGlite. */
  databaseUrl?: string | null;
  /** PGlite keeps its files under `<dataDir>/db`; null keeps them in memory. */
  dataDir: string | null;
  /** The process's redactor: every write is masked with it (see `StoreOptions`). */
  redactor?: SecretRedactor;
}

/** Opens (and migrates) the store the options describe: PostgreSQL when a URL is given, else PGlite. */
export function openStore(opts: OpenStoreOptions): Promise<Store> {
  const options = opts.redactor ? { redactor: opts.redactor } : {};
  return opts.databaseUrl
    ? openPostgresStore(opts.databaseUrl, options)
    : openPgliteStore(opts.dataDir, options);
}
