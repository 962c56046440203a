import { afterAll, beforeAll } from "vitest";
import { startPostgres, type TestPostgres } from "../../test/support/postgres.js";
import { openPostgresStore } from "../store/index.js";
import { runVaultKeyConformance } from "./vault.conformance.js";

let server: TestPostgres | undefined;
let databases = 0;

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

// A database per case: the key check is one row per database.
runVaultKeyConformance("postgres", async () => {
  if (!server) throw new Error("postgres not started");
  databases += 1;
  return openPostgresStore(await server.createDatabase(`vault_${databases}`));
});
