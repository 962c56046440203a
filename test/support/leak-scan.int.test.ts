/**
 * The leak scan reads a PostgreSQL store as it reads an embedded one: every text, JSON and bytes
 * column of every table, ciphertexts aside. Starts its own PostgreSQL server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgresStore, type Store } from "../../src/store/index.js";
import { leakScan } from "./leak-scan.js";
import { startPostgres, type TestPostgres } from "./postgres.js";

const SECRET = "pg-secret-5b1e7c93d2a4";
let server: TestPostgres;
let store: Store;

beforeAll(async () => {
  server = await startPostgres();
  store = await openPostgresStore(server.url);
}, 120_000);
afterAll(async () => {
  await store?.close();
  await server?.stop();
});

describe("a leak scan on the PostgreSQL driver", () => {
  it("passes on a clean store, then finds a secret in a run event's JSON, but not in a ciphertext", async () => {
    const project = await store.projects.create({ name: "scan", slug: "scan" });
    const run = await store.runs.create({ projectId: project.id, kind: "engineering" });
    await store.runEvents.append({ runId: run.id, type: "run.log", data: { message: "clean" } });
    // A sealed value is not searched: pretend its ciphertext were the value itself.
    await store.secrets.put({
      projectId: project.id,
      key: "API_KEY",
      kind: "user",
      ciphertext: SECRET,
      length: SECRET.length,
      createdBy: "test",
    });
    const clean = leakScan().secret("planted", SECRET);
    await clean.postgres("postgres", server.url);
    expect(clean.scanned()).toEqual(expect.arrayContaining(['postgres: table "public"."run_events"']));
    await clean.assertClean();

    await store.runEvents.append({ runId: run.id, type: "run.log", data: { message: `said ${SECRET}` } });
    const leaky = leakScan().secret("planted", SECRET);
    await leaky.postgres("postgres", server.url);
    await expect(leaky.assertClean()).rejects.toThrow(
      /secret "planted" \(as is\) in postgres: table "public"\."run_events", 1 time/,
    );
  });
});
