import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { z } from "zod";
import { CorruptStoreError, JsonStore } from "../src/store.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "store-test-"));
});
after(() => rm(dir, { recursive: true, force: true }));

test("a missing file is an empty store; what is put is on disk and read back by a new store", async () => {
  const file = join(dir, "nested", "a.json");
  const store = new JsonStore<{ n: number }>(file);
  assert.deepEqual(await store.list(), []);
  await store.put("one", { n: 1 });
  assert.deepEqual(JSON.parse(await readFile(file, "utf8")), { one: { n: 1 } });
  assert.deepEqual(await new JsonStore<{ n: number }>(file).get("one"), { n: 1 });
  assert.equal(await store.delete("one"), true);
  assert.equal(await store.delete("one"), false);
  assert.equal(await new JsonStore(file).get("one"), undefined);
});

test("concurrent writes are serialized: none is lost and no temp file is left", async () => {
  const file = join(dir, "b.json");
  const store = new JsonStore<number>(file);
  await Promise.all(Array.from({ length: 50 }, (_, i) => store.put(`k${i}`, i)));
  await Promise.all(
    Array.from({ length: 20 }, () =>
      store.change((data) => {
        data.set("counter", (data.get("counter") ?? 0) + 1);
      }),
    ),
  );
  const reread = new JsonStore<number>(file);
  assert.equal((await reread.list()).length, 51);
  assert.equal(await reread.get("counter"), 20);
  assert.deepEqual(await readdir(dir).then((names) => names.filter((n) => n.endsWith(".tmp"))), []);
});

test("a first read racing a first write still sees the write", async () => {
  const file = join(dir, "race.json");
  await new JsonStore<number>(file).put("old", 1);
  const store = new JsonStore<number>(file);
  await Promise.all([store.get("old"), store.put("new", 2), store.list()]);
  assert.deepEqual(await store.list(), [1, 2]);
});

test("a change that throws changes nothing, and later changes still run", async () => {
  const store = new JsonStore<number>(join(dir, "c.json"));
  await store.put("a", 1);
  await assert.rejects(
    store.change((data) => {
      data.set("a", 2);
      throw new Error("nope");
    }),
    /nope/,
  );
  assert.equal(await store.get("a"), 1);
  await store.put("b", 2);
  assert.deepEqual(await new JsonStore<number>(join(dir, "c.json")).list(), [1, 2]);
});

test("a corrupt file is a clear error naming it, and is not overwritten", async () => {
  const file = join(dir, "d.json");
  await writeFile(file, "{half");
  const store = new JsonStore(file);
  await assert.rejects(store.list(), (err: unknown) => {
    assert.ok(err instanceof CorruptStoreError);
    assert.match(err.message, /d\.json is corrupt/);
    return true;
  });
  await assert.rejects(store.put("x", 1), CorruptStoreError);
  assert.equal(await readFile(file, "utf8"), "{half");

  await writeFile(file, "[1, 2]");
  await assert.rejects(new JsonStore(file).list(), /not a JSON object/);
});

test("records that fail the store's schema are a clear error", async () => {
  const file = join(dir, "e.json");
  await writeFile(file, JSON.stringify({ a: { n: "one" } }));
  await assert.rejects(new JsonStore(file, z.object({ n: z.number() })).list(), /record a: n: /);
});
