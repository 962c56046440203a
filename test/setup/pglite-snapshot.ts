/**
 * Global setup of the test run: one freshly migrated embedded database, dumped to a file that
 * `openTestStore` opens every throwaway store from (see test/support/store.ts).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { pgliteSnapshot } from "../../src/store/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The file holding the migrated database's snapshot. */
    pgliteSnapshot: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), "pglite-snapshot-"));
  const file = join(dir, "db.tar");
  await writeFile(file, Buffer.from(await (await pgliteSnapshot()).arrayBuffer()));
  project.provide("pgliteSnapshot", file);
  return () => rm(dir, { recursive: true, force: true });
}
