import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { z } from "zod";
import { JsonFile, StoreError } from "../src/store.js";
import { removeDir, tempDataDir } from "./helpers.js";

const Counter = z.object({ n: z.number() });
let dir = "";
before(async () => {
  dir = await tempDataDir();
});
after(() => removeDir(dir));

const counter = (name: string) => new JsonFile(join(dir, name), () => ({ n: 0 }), Counter.parse);

test("a missing file reads as empty; the folder is created on the first write", async () => {
  const file = new JsonFile(join(dir, "nested", "a.json"), () => ({ n: 0 }), Counter.parse);
  assert.deepEqual(await file.read(), { n: 0 });
  await file.update((c) => ({ n: c.n + 1 }));
  assert.deepEqual(JSON.parse(await readFile(join(dir, "nested", "a.json"), "utf8")), { n: 1 });
});

test("concurrent updates are serialized: none is lost, no temporary file is left", async () => {
  const file = counter("b.json");
  await Promise.all(Array.from({ length: 20 }, () => file.update((c) => ({ n: c.n + 1 }))));
  assert.deepEqual(await file.read(), { n: 20 });
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith(".tmp")), []);
});

test("a failed update leaves the file as it was and later updates still run", async () => {
  const file = counter("c.json");
  await file.update(() => ({ n: 1 }));
  await assert.rejects(
    file.update(() => {
      throw new Error("nope");
    }),
    /nope/,
  );
  assert.deepEqual(await file.update((c) => ({ n: c.n + 1 })), { n: 2 });
});

test("a corrupt or unexpected file is a clear StoreError naming the file", async () => {
  await writeFile(join(dir, "d.json"), "{ not json");
  await assert.rejects(counter("d.json").read(), (err: unknown) => {
    assert.ok(err instanceof StoreError);
    assert.match(err.message, /d\.json is not valid JSON/);
    return true;
  });
  await writeFile(join(dir, "e.json"), '{"n": "three"}');
  await assert.rejects(counter("e.json").read(), /e\.json does not hold the expected data/);
  await assert.rejects(counter("e.json").update((c) => c), StoreError, "never overwritten by an update");
  assert.equal(await readFile(join(dir, "e.json"), "utf8"), '{"n": "three"}');
});
