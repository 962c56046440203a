import { openAsBlob } from "node:fs";
import { inject } from "vitest";
import { openPgliteStore, type Store, type StoreOptions } from "../../src/store/index.js";

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

/**
 * A throwaway in-memory embedded store, migrated and seeded: opened from the snapshot the run's
 * global setup made, so a suite does not pay for creating and migrating a database every time.
 */
export async function openTestStore(options: StoreOptions = {}): Promise<Store> {
  const from = await runSnapshot();
  return openPgliteStore(null, { ...options, ...(from ? { snapshot: from } : {}) });
}
