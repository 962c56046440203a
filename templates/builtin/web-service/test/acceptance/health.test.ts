import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Service, startService } from "./harness.js";

let service: Service;
before(async () => {
  service = await startService();
});
after(() => service.stop());

test("GET /health answers 200 ok (the deploy's health check)", async () => {
  const res = await fetch(`${service.url}/health`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { status: string }).status, "ok");
});
