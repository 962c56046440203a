import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgres, type TestPostgres } from "../../test/support/postgres.js";
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
});
