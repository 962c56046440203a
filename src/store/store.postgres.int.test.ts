import PgDriver from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgres, type TestPostgres } from "../../test/support/postgres.js";
import { createPool } from "./drivers/postgres.js";
import { openPostgresStore, openStore } from "./index.js";
import { runStoreConformance } from "./store.conformance.js";

let server: TestPostgres | undefined;
const pg = (): TestPostgres => {
  if (!server) throw new Error("postgres not started");
  return server;
};

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

runStoreConformance("postgres", (options) => openPostgresStore(pg().url, options));

describe("postgres driver", () => {
  it("lets several processes migrate one fresh database at once", async () => {
    const url = await pg().createDatabase("migrate_race");
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(url)));
    try {
      for (const store of stores) expect(await store.agentConfigs.list()).toHaveLength(5);
      const again = await openStore({ databaseUrl: url, dataDir: null });
      expect(again.driver).toBe("postgres");
      await again.close();
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("fails to open with `unavailable` when nothing listens", async () => {
    await expect(openPostgresStore("postgres://postgres@127.0.0.1:1/none")).rejects.toMatchObject({
      kind: "unavailable",
    });
  });

  it("survives the server ending a connection that is checked out between two queries", async () => {
    // A transaction holds its client between queries; a PostgreSQL restart ends it there. Unheard,
    // the client's `error` event was an uncaught exception that stopped the whole process.
    const pool = createPool(pg().url);
    const admin = new PgDriver.Client({ connectionString: pg().url });
    await admin.connect();
    try {
      const client = await pool.connect();
      const { rows } = await client.query<{ pid: number }>("select pg_backend_pid() as pid");
      const ended = new Promise((resolve) => client.once("end", resolve));
      await admin.query("select pg_terminate_backend($1)", [rows[0]?.pid]);
      await ended;
      await expect(client.query("select 1")).rejects.toThrow();
      client.release(true);
      // The pool connects anew for the next caller.
      expect((await pool.query<{ one: number }>("select 1 as one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await admin.end();
      await pool.end();
    }
  });
});
