import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type TestApp, testApp } from "./helpers.js";

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(() => t.close());

test("POST /api/notes stores a note that GET /api/notes/:id returns", async () => {
  const created = await t.app.inject({ method: "POST", url: "/api/notes", payload: { text: "  buy milk " } });
  assert.equal(created.statusCode, 201);
  const note = created.json();
  assert.equal(note.text, "buy milk");
  assert.equal(created.headers.location, `/api/notes/${note.id}`);

  const read = await t.app.inject({ method: "GET", url: `/api/notes/${note.id}` });
  assert.equal(read.statusCode, 200);
  assert.deepEqual(read.json(), note);

  const list = await t.app.inject({ method: "GET", url: "/api/notes" });
  assert.deepEqual(list.json().notes, [note]);
});

test("an invalid note body is a 400 naming the field and the reason", async () => {
  const empty = await t.app.inject({ method: "POST", url: "/api/notes", payload: { text: "" } });
  assert.equal(empty.statusCode, 400);
  assert.deepEqual(empty.json().details, [{ field: "body.text", reason: "must not be empty" }]);

  const wrongType = await t.app.inject({ method: "POST", url: "/api/notes", payload: { text: 42 } });
  assert.equal(wrongType.statusCode, 400);
  assert.equal(wrongType.json().details[0].field, "body.text");

  const noBody = await t.app.inject({ method: "POST", url: "/api/notes" });
  assert.equal(noBody.statusCode, 400);
  assert.equal(noBody.json().details[0].field, "body");
});

test("a malformed id is a 400 naming params.id; an unknown one a 404", async () => {
  const bad = await t.app.inject({ method: "GET", url: "/api/notes/not-an-id" });
  assert.equal(bad.statusCode, 400);
  assert.deepEqual(bad.json().details, [{ field: "params.id", reason: "must be a note id (a UUID)" }]);

  const unknown = await t.app.inject({
    method: "GET",
    url: "/api/notes/00000000-0000-4000-8000-000000000000",
  });
  assert.equal(unknown.statusCode, 404);
  assert.deepEqual(unknown.json(), { error: "note not found" });
});

test("notes survive a restart: a second app on the same DATA_DIR sees them", async () => {
  const first = await testApp();
  const created = await first.app.inject({
    method: "POST",
    url: "/api/notes",
    payload: { text: "remember me" },
  });
  await first.close({ keepData: true });

  const second = await testApp({ dataDir: first.dataDir });
  try {
    const read = await second.app.inject({ method: "GET", url: `/api/notes/${created.json().id}` });
    assert.equal(read.statusCode, 200);
    assert.equal(read.json().text, "remember me");
  } finally {
    await second.close();
  }
});
