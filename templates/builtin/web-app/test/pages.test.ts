import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { form, removeDir, tempDataDir, testApp } from "./helpers.js";

describe("pages", () => {
  let dataDir = "";
  let app: FastifyInstance;
  before(async () => {
    dataDir = await tempDataDir();
    app = testApp(dataDir);
  });
  after(async () => {
    await app.close();
    await removeDir(dataDir);
  });

  for (const [path, text] of [
    ["/", "Get in touch"],
    ["/contact", '<form method="post" action="/contact"'],
    ["/contact/thanks", "Thank you!"],
    ["/messages", "No messages yet."],
  ] as const) {
    test(`GET ${path} renders an HTML page`, async () => {
      const res = await app.inject({ method: "GET", url: path });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers["content-type"]), /^text\/html; charset=utf-8/);
      assert.ok(res.body.startsWith("<!doctype html>"));
      assert.ok(res.body.includes(text), `${path} shows ${text}`);
    });
  }

  test("GET /health answers 200 with JSON (the deploy's health check)", async () => {
    const res = await app.inject({ method: "GET", url: "/health" });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["content-type"]), /^application\/json/);
    assert.deepEqual(res.json(), { status: "ok", env: "test" });
  });

  test("GET /style.css serves the stylesheet from public/", async () => {
    const res = await app.inject({ method: "GET", url: "/style.css" });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["content-type"]), /^text\/css/);
    assert.ok(res.body.includes(".site-header"));
  });

  test("an unknown path is a 404 page", async () => {
    const res = await app.inject({ method: "GET", url: "/no-such-page" });
    assert.equal(res.statusCode, 404);
    assert.match(String(res.headers["content-type"]), /^text\/html/);
    assert.ok(res.body.includes("Page not found"));
  });

  test("a malformed request body is a 400 page, and the app keeps answering", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/contact",
      payload: '{"name": ',
      headers: { "content-type": "application/json" },
    });
    assert.equal(res.statusCode, 400);
    assert.match(String(res.headers["content-type"]), /^text\/html/);
    const tooBig = await app.inject({
      method: "POST",
      url: "/contact",
      ...form({ name: "x", email: "x@example.com", message: "x".repeat(200_000) }),
    });
    assert.equal(tooBig.statusCode, 413);
    assert.equal((await app.inject({ method: "GET", url: "/health" })).statusCode, 200);
  });
});

describe("errors inside a handler", () => {
  let dataDir = "";
  let app: FastifyInstance;
  before(async () => {
    dataDir = await tempDataDir();
    app = testApp(dataDir);
    app.get("/boom", async () => {
      throw new Error("secret internal detail");
    });
  });
  after(async () => {
    await app.close();
    await removeDir(dataDir);
  });

  test("a throwing handler is a plain 500 page without the error's details", async () => {
    const res = await app.inject({ method: "GET", url: "/boom" });
    assert.equal(res.statusCode, 500);
    assert.match(String(res.headers["content-type"]), /^text\/html/);
    assert.ok(res.body.includes("Something went wrong"));
    assert.ok(!res.body.includes("secret internal detail"));
    assert.equal((await app.inject({ method: "GET", url: "/" })).statusCode, 200);
  });
});
