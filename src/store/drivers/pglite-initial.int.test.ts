/**
 * The copy of a new embedded database the build makes (pglite-initial.ts), as the built
 * orchestrator uses it: a new data directory starts from it instead of running initdb.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as StoreFace from "../index.js";
import { openPgliteStore as openFromSources } from "./pglite.js";

const DIST_DRIVERS = join(import.meta.dirname, "..", "..", "..", "dist", "store", "drivers");
const COPY = join(DIST_DRIVERS, "pglite-initial.tgz");

/** The system identifier initdb gives a cluster: two databases share it only when one is a copy. */
async function systemIdOf(options: { dataDir: string } | { loadDataDir: Blob }): Promise<string> {
  const client = "dataDir" in options ? await PGlite.create(options.dataDir) : await PGlite.create(options);
  try {
    const rows = await client.query<{ id: string }>(
      "select system_identifier::text as id from pg_control_system()",
    );
    return rows.rows[0]?.id ?? "";
  } finally {
    await client.close();
  }
}

describe("a new embedded database starts from the build's copy", () => {
  let root = "";
  let built: typeof StoreFace;
  let copyId = "";

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "pglite-initial-"));
    built = (await import(join(DIST_DRIVERS, "..", "index.js"))) as typeof StoreFace;
    copyId = await systemIdOf({ loadDataDir: new Blob([await readFile(COPY)]) });
  }, 120_000);
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("the build wrote it, made by the installed PGlite of the current migrations", async () => {
    const meta = JSON.parse(await readFile(`${COPY}.json`, "utf8")) as Record<string, string>;
    const wasm = createRequire(import.meta.url).resolve("@electric-sql/pglite/pglite.wasm");
    const pglite = JSON.parse(await readFile(join(wasm, "..", "..", "package.json"), "utf8")) as {
      version: string;
    };
    const journal = await readFile(join(import.meta.dirname, "..", "migrations", "meta", "_journal.json"));
    expect(meta).toEqual({
      pglite: pglite.version,
      migrations: createHash("sha256").update(journal).digest("hex"),
    });
    expect(copyId).toMatch(/^\d+$/);
  });

  it("new data directories are that copy, migrated and seeded; an existing one is opened as it is", {
    timeout: 120_000,
  }, async () => {
    const [first, second] = [join(root, "first"), join(root, "second")];
    const store = await built.openPgliteStore(first);
    const project = await store.projects.create({ name: "kept", slug: "kept" });
    expect((await store.agentConfigs.list()).length).toBeGreaterThan(0);
    await store.close();
    await (await built.openPgliteStore(second)).close();
    expect(await systemIdOf({ dataDir: join(first, "db") })).toBe(copyId);
    expect(await systemIdOf({ dataDir: join(second, "db") })).toBe(copyId);

    const reopened = await built.openPgliteStore(first);
    try {
      expect((await reopened.projects.get(project.id)).slug).toBe("kept");
    } finally {
      await reopened.close();
    }
  });

  it("without a copy beside the driver (running from sources), a new database is initialized", {
    timeout: 120_000,
  }, async () => {
    const dir = join(root, "from-sources");
    const store = await openFromSources(dir);
    expect((await store.agentConfigs.list()).length).toBeGreaterThan(0);
    await store.close();
    expect(await systemIdOf({ dataDir: join(dir, "db") })).not.toBe(copyId);
  });
});
