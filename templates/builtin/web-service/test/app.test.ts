import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { escapeHtml, html } from "../src/html.js";
import { type TestApp, testApp } from "./helpers.js";

let t: TestApp;

before(async () => {
  t = await testApp({
    // Test-only routes that fail the ways a real handler can.
    extend(app) {
      app.get("/test/throws", async () => {
        throw new Error("kaboom");
      });
      app.get("/test/bigint", async () => ({ big: 10n }));
      app.get("/test/cycle", async () => {
        const cycle: Record<string, unknown> = {};
        cycle.self = cycle;
        return cycle;
      });
    },
  });
});
after(() => t.close());

async function assertStillAlive(): Promise<void> {
  const res = await t.app.inject({ method: "GET", url: "/health" });
  assert.equal(res.statusCode, 200);
}

test("GET /health answers ok", async () => {
  const res = await t.app.inject({ method: "GET", url: "/health" });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { status: "ok", env: "test" });
});

test("GET /api/hello greets by name, world by default", async () => {
  const named = await t.app.inject({ method: "GET", url: "/api/hello?name=Ada" });
  assert.equal(named.statusCode, 200);
  assert.equal(named.json().message, "Hello, Ada!");
  assert.equal((await t.app.inject({ method: "GET", url: "/api/hello" })).json().message, "Hello, world!");
});

test("a query that fails its schema is a 400 naming the field", async () => {
  const res = await t.app.inject({ method: "GET", url: `/api/hello?name=${"x".repeat(101)}` });
  assert.equal(res.statusCode, 400);
  const body = res.json();
  assert.equal(body.error, "invalid request");
  assert.equal(body.details[0].field, "querystring.name");
  assert.match(body.details[0].reason, /100/);
});

test("unknown paths are a JSON 404", async () => {
  const res = await t.app.inject({ method: "GET", url: "/nope?x=1" });
  assert.equal(res.statusCode, 404);
  assert.deepEqual(res.json(), { error: "no route for GET /nope" });
});

test("a handler that throws is a 500 with a clean JSON body and an error log line", async () => {
  const res = await t.app.inject({ method: "GET", url: "/test/throws" });
  assert.equal(res.statusCode, 500);
  assert.deepEqual(res.json(), { error: "internal error" });
  assert.doesNotMatch(res.body, /kaboom/);
  const line = t.logs.find((l) => l.msg === "request failed");
  assert.ok(line, "an error was logged");
  assert.equal(line.level, 50);
  assert.match(JSON.stringify(line.err), /kaboom/);
  await assertStillAlive();
});

test("a body JSON cannot encode (BigInt, a cycle) is a 500 and the app keeps serving", async () => {
  for (const url of ["/test/bigint", "/test/cycle"]) {
    const res = await t.app.inject({ method: "GET", url });
    assert.equal(res.statusCode, 500, url);
    assert.deepEqual(res.json(), { error: "internal error" });
  }
  await assertStillAlive();
});

test("a body that is not valid JSON is a 400", async () => {
  const res = await t.app.inject({
    method: "POST",
    url: "/api/notes",
    headers: { "content-type": "application/json" },
    payload: "{not json",
  });
  assert.equal(res.statusCode, 400);
  assert.equal(typeof res.json().error, "string");
});

test("public/ is served under /static/", async () => {
  const res = await t.app.inject({ method: "GET", url: "/static/style.css" });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers["content-type"]), /^text\/css/);
  assert.match(res.body, /font-family/);
  assert.equal((await t.app.inject({ method: "GET", url: "/static/missing.css" })).statusCode, 404);
  assert.equal((await t.app.inject({ method: "GET", url: "/static/../package.json" })).statusCode, 404);
});

test("the home page is HTML with the form", async () => {
  const res = await t.app.inject({ method: "GET", url: "/" });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers["content-type"]), /^text\/html/);
  assert.match(res.body, /<form method="post" action="\/notes">/);
});

test("a form post (urlencoded) creates a note and redirects to its page (a path parameter)", async () => {
  const posted = await t.app.inject({
    method: "POST",
    url: "/notes",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    payload: "text=Hello+from+a+form+%26+friends",
  });
  assert.equal(posted.statusCode, 303);
  const location = String(posted.headers.location);
  assert.match(location, /^\/notes\/[0-9a-f-]{36}$/);
  const page = await t.app.inject({ method: "GET", url: location });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /Hello from a form &amp; friends/);
});

test("an empty form field is a 400 naming it", async () => {
  const res = await t.app.inject({
    method: "POST",
    url: "/notes",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    payload: "text=+",
  });
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().details[0].field, "body.text");
});

test("pages escape what users wrote", async () => {
  const created = await t.app.inject({
    method: "POST",
    url: "/api/notes",
    payload: { text: `<script>alert("x")</script>` },
  });
  const page = await t.app.inject({ method: "GET", url: `/notes/${created.json().id}` });
  assert.doesNotMatch(page.body, /<script>/);
  assert.match(page.body, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
  const home = await t.app.inject({ method: "GET", url: "/" });
  assert.doesNotMatch(home.body, /<script>/);
});

test("html`` escapes values and keeps nested html", () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  const items = ["<b>", "c"].map((s) => html`<li>${s}</li>`);
  assert.equal(html`<ul>${items}</ul>`.text, "<ul><li>&lt;b&gt;</li><li>c</li></ul>");
});
