import { afterAll, beforeAll } from "vitest";
import { startPostgres, type TestPostgres } from "../../test/support/postgres.js";
import { openPostgresStore } from "../store/index.js";
import { runCheckpointerSuite } from "./checkpointer.conformance.js";

let server: TestPostgres | undefined;
const pg = (): TestPostgres => {
  if (!server) throw new Error("postgres not started");
  return server;
};
const urls = new Map<string, string>();

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

runCheckpointerSuite("postgres", () => openPostgresStore(pg().url), {
  async first(key) {
    const url = await pg().createDatabase(key.replaceAll("-", "_"));
    urls.set(key, url);
    return openPostgresStore(url);
  },
  again(key) {
    const url = urls.get(key);
    if (!url) throw new Error(`no database for ${key}`);
    return openPostgresStore(url);
  },
});
