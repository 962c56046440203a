import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { form, removeDir, tempDataDir, testApp } from "./helpers.js";

const valid = { name: "Ada Lovelace", email: "ada@example.com", message: "Hello there" };

describe("contact form", () => {
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

  test("invalid input is shown again with a message per field, input kept, status 400", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/contact",
      ...form({ name: "  ", email: "not-an-email", message: "Keep <this> text" }),
    });
    assert.equal(res.statusCode, 400);
    assert.match(String(res.headers["content-type"]), /^text\/html/);
    assert.ok(res.body.includes("Please enter your name."));
    assert.ok(res.body.includes("Please enter a valid email address"));
    assert.ok(!res.body.includes("Please write a message."), "a valid field shows no error");
    assert.ok(res.body.includes('value="not-an-email"'), "the email typed is kept");
    assert.ok(res.body.includes("Keep &lt;this&gt; text</textarea>"), "the message is kept, escaped");
  });

  test("a form with no fields at all is a 400 with every field's message", async () => {
    const res = await app.inject({ method: "POST", url: "/contact", ...form({}) });
    assert.equal(res.statusCode, 400);
    for (const text of ["Please enter your name.", "Please enter your email address.", "Please write a message."]) {
      assert.ok(res.body.includes(text), text);
    }
  });

  test("a valid submission is stored, redirects to the thank-you page and is listed", async () => {
    const res = await app.inject({ method: "POST", url: "/contact", ...form(valid) });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, "/contact/thanks");
    const list = await app.inject({ method: "GET", url: "/messages" });
    assert.equal(list.statusCode, 200);
    assert.ok(list.body.includes("Ada Lovelace"));
    assert.ok(list.body.includes("ada@example.com"));
    assert.ok(list.body.includes("Hello there"));
    assert.ok(list.body.includes("<strong>1</strong> message received"));
  });

  test("a stored submission with markup is shown escaped, never as markup", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/contact",
      ...form({ name: '<script>alert("x")</script>', email: "eve@example.com", message: "<b>bold</b> & 'quoted'" }),
    });
    assert.equal(res.statusCode, 303);
    const list = await app.inject({ method: "GET", url: "/messages" });
    assert.ok(!list.body.includes("<script>"), "no script tag in the page");
    assert.ok(list.body.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert.ok(list.body.includes("&lt;b&gt;bold&lt;/b&gt; &amp; &#39;quoted&#39;"));
  });
});

describe("data on DATA_DIR", () => {
  let dataDir = "";
  before(async () => {
    dataDir = await tempDataDir();
  });
  after(() => removeDir(dataDir));

  test("submissions are kept across a restart (a second app on the same DATA_DIR)", async () => {
    const first = testApp(dataDir);
    assert.equal((await first.inject({ method: "POST", url: "/contact", ...form(valid) })).statusCode, 303);
    await first.close();
    const second = testApp(dataDir);
    try {
      const list = await second.inject({ method: "GET", url: "/messages" });
      assert.equal(list.statusCode, 200);
      assert.ok(list.body.includes("Ada Lovelace"));
    } finally {
      await second.close();
    }
  });

  test("a corrupt data file is a 500 page, not a crash nor an empty list", async () => {
    const broken = await tempDataDir();
    await writeFile(join(broken, "messages.json"), "{ not json");
    const app = testApp(broken);
    try {
      const res = await app.inject({ method: "GET", url: "/messages" });
      assert.equal(res.statusCode, 500);
      assert.equal((await app.inject({ method: "GET", url: "/health" })).statusCode, 200);
    } finally {
      await app.close();
      await removeDir(broken);
    }
  });
});
