/**
 * The leak scan's end of an in-process suite: the harness's own secrets (its admin token and vault
 * key) and every place it writes (logs, run events, its in-memory database, the forge's
 * repositories, a test's own folders). PGlite instances must be recorded before the harness opens
 * its store (`recordPgliteInstances`), since the store does not hand its database out. Worker and
 * engine folders go when their run ends: a suite watches them from its start (`watchFolder`).
 */
import type { PGlite } from "@electric-sql/pglite";
import type { ApiHarness } from "./api-harness.js";
import { type LeakScan, pgliteRows, vaultKeyOf } from "./leak-scan.js";

/** The harness a suite ran, and the folders its workers and engine wrote in, by name. */
export interface ScannedHarness {
  harness: Pick<ApiHarness, "adminToken" | "vault" | "logLines" | "store" | "forge">;
  /** The PGlite instances recorded while the harness started: its store's is the only one. */
  databases: PGlite[];
  /** Folders to read at the end besides the forge's (a test's own clones), by name. */
  folders?: Record<string, string>;
}

/** Registers the harness's secrets and reads every source it has into `scan`. */
export async function scanHarness(
  scan: LeakScan,
  { harness, databases, folders = {} }: ScannedHarness,
): Promise<void> {
  if (databases.length !== 1)
    throw new Error(`expected the store's one database, recorded ${databases.length}`);
  const [db] = databases as [PGlite];
  scan.secret("admin token", harness.adminToken).secret("vault key", vaultKeyOf(harness.vault));
  scan.logs("log", harness.logLines);
  await scan.runEvents("run events", harness.store.runEvents);
  await scan.database("database", pgliteRows(db));
  // Each folder is made on its first write: a suite that failed early may have none.
  if (harness.forge) await scan.folder("repositories", harness.forge.root, { optional: true });
  for (const [where, dir] of Object.entries(folders)) await scan.folder(where, dir, { optional: true });
}
