import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { createApp } from "../src/app.js";
import { readConfig } from "../src/config.js";

const server = createApp(readConfig({ PORT: "0", APP_ENV: "test" }));
let base = "";

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test("GET /health answers ok", async () => {
  const res = await fetch(`${base}/health`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: "ok", env: "test" });
});

test("GET /api/hello greets by name", async () => {
  const res = await fetch(`${base}/api/hello?name=Ada`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { message: string }).message, "Hello, Ada!");
});

test("unknown paths are 404 and wrong methods 405", async () => {
  assert.equal((await fetch(`${base}/nope`)).status, 404);
  assert.equal((await fetch(`${base}/health`, { method: "POST" })).status, 405);
});

test("a bad PORT is a clear error", () => {
  assert.throws(() => readConfig({ PORT: "x" }), /PORT must be a TCP port number/);
});
