import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { rawRequest, type TestApp, testApp } from "./helpers.js";

let t: TestApp;
let port = 0;

before(async () => {
  t = await testApp();
  await t.app.listen({ port: 0, host: "127.0.0.1" });
  port = (t.app.server.address() as AddressInfo).port;
});
after(() => t.close());

async function stillAlive(): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  assert.equal(res.status, 200);
}

test("a garbage request line is answered 400 and the server keeps serving", async () => {
  const answer = await rawRequest(port, "this is not http\r\n\r\n");
  assert.match(answer, /^HTTP\/1\.1 400 /);
  await stillAlive();
});

test("a request target no URL parser accepts is answered 400 and the server keeps serving", async () => {
  const answer = await rawRequest(port, "GET http://[::1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.match(answer, /^HTTP\/1\.1 400 /);
  await stillAlive();
});

test("a bad header is answered 400 and the server keeps serving", async () => {
  const answer = await rawRequest(port, "GET /health HTTP/1.1\r\nHo st: x\r\n\r\n");
  assert.match(answer, /^HTTP\/1\.1 400 /);
  await stillAlive();
});
