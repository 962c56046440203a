import { afterAll, beforeAll } from "vitest";
import { startPostgres, type TestPostgres } from "../../test/support/postgres.js";
import { openPostgresStore } from "../store/index.js";
import { leaderCases } from "./leader.cases.js";

let server: TestPostgres | undefined;

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

leaderCases("postgres", () => {
  if (!server) throw new Error("postgres not started");
  return openPostgresStore(server.url);
});
