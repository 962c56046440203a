import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Site, startApp, submitForm } from "./harness.js";

let site: Site;
before(async () => {
  site = await startApp();
});
after(() => site.stop());

test("GET /health answers 200 ok (the deploy's health check)", async () => {
  const res = await fetch(`${site.url}/health`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { status: string }).status, "ok");
});

test("the home page is an HTML page", async () => {
  const res = await fetch(`${site.url}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(await res.text(), /<html/);
});

test("a submitted form redirects and its data is kept across a restart", async () => {
  const res = await submitForm(`${site.url}/contact`, {
    name: "Grace",
    email: "grace@example.com",
    message: "Hi",
  });
  assert.equal(res.status, 303);
  const again = await startApp({ dataDir: site.dataDir });
  try {
    assert.match(await (await fetch(`${again.url}/messages`)).text(), /Grace/);
  } finally {
    await again.stop();
  }
});
