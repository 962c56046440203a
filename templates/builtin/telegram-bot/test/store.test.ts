import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { CorruptStoreError, JsonStore } from "../src/store.js";

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "store-test-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

test("a missing file is an empty store, created with its folder on the first write", async () => {
  const store = new JsonStore<string[]>(join(dir, "deep", "er"), "lists");
  assert.deepEqual(store.keys(), []);
  await store.set("1", ["milk"]);
  assert.deepEqual(JSON.parse(await readFile(join(dir, "deep", "er", "lists.json"), "utf8")), {
    "1": ["milk"],
  });
});

test("what one store wrote, a store opened later reads", async () => {
  const first = new JsonStore<{ n: number }>(dir, "counts");
  await first.set("a", { n: 1 });
  await first.update("a", (old) => ({ n: (old?.n ?? 0) + 1 }));
  await first.set("b", { n: 5 });
  await first.delete("b");
  assert.deepEqual(new JsonStore<{ n: number }>(dir, "counts").get("a"), { n: 2 });
  assert.equal(new JsonStore<{ n: number }>(dir, "counts").has("b"), false);
});

test("many changes at once are all written, in order, with no temporary file left", async () => {
  const store = new JsonStore<number>(dir, "many");
  await Promise.all(Array.from({ length: 100 }, (_, i) => store.set(`k${i % 10}`, i)));
  const reread = new JsonStore<number>(dir, "many");
  for (let k = 0; k < 10; k++) assert.equal(reread.get(`k${k}`), 90 + k);
  assert.deepEqual(await readdir(dir), ["many.json"]);
});

test("values are copied in and out: changing an object does not change the store until set", async () => {
  const store = new JsonStore<string[]>(dir, "copies");
  const list = ["a"];
  await store.set("x", list);
  list.push("b");
  assert.deepEqual(store.get("x"), ["a"]);
  const read = store.get("x") ?? [];
  read.push("c");
  assert.deepEqual(store.get("x"), ["a"]);
  await store.set("x", read);
  assert.deepEqual(new JsonStore<string[]>(dir, "copies").get("x"), ["a", "c"]);
});

test("a corrupt file is a clear error and is left untouched", async () => {
  await writeFile(join(dir, "broken.json"), "{ not json");
  assert.throws(
    () => new JsonStore(dir, "broken"),
    (error: unknown) => {
      assert.ok(error instanceof CorruptStoreError);
      assert.match(error.message, /broken\.json is corrupt \(not JSON/);
      return true;
    },
  );
  await writeFile(join(dir, "list.json"), "[1, 2]");
  assert.throws(() => new JsonStore(dir, "list"), /list\.json is corrupt \(not a JSON object\)/);
  assert.equal(await readFile(join(dir, "broken.json"), "utf8"), "{ not json");
});
