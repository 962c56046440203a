import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callApi } from "./call-api.js";
import { type FakeTelegram, startFakeTelegram } from "./index.js";

const TOKEN = "123456:fake-token";

type Update = {
  update_id: number;
  message?: { text: string; chat: { id: number } };
  callback_query?: unknown;
};

/** A local webhook that records each POST and answers with the next of `replies` (then 200 `{}`). */
async function startWebhook(replies: { status: number; body?: unknown }[] = []) {
  const received: { headers: IncomingHttpHeaders; update: Update }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({
        headers: req.headers,
        update: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Update,
      });
      const reply = replies.shift() ?? { status: 200, body: {} };
      res
        .writeHead(reply.status, { "content-type": "application/json" })
        .end(JSON.stringify(reply.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { url, received, close };
}

describe("fake Telegram Bot API: getUpdates and webhooks", () => {
  let tg: FakeTelegram;
  let stopWebhook: (() => Promise<void>) | undefined;
  const call = (method: string, params: Record<string, unknown> = {}, signal?: AbortSignal) =>
    callApi(tg.url, TOKEN, method, params, signal);
  const poll = async (params: Record<string, unknown> = {}) =>
    (await call("getUpdates", params)).body.result as Update[];

  beforeEach(async () => {
    tg = await startFakeTelegram({ token: TOKEN, username: "fake_bot" });
  });
  afterEach(async () => {
    await stopWebhook?.();
    stopWebhook = undefined;
    await tg.close();
  });

  it("holds a long poll until a message is pushed, with the /command entity", async () => {
    const waiting = call("getUpdates", { offset: 0, timeout: 30 });
    await expect.poll(() => tg.pendingPolls()).toBe(1);
    const id = tg.pushMessage(42, "/start", { username: "ann", firstName: "Ann", languageCode: "pt-br" });
    const updates = (await waiting).body.result as (Update & { message: { entities: unknown[] } })[];
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({
      update_id: id,
      message: {
        text: "/start",
        chat: { id: 42 },
        from: { first_name: "Ann", username: "ann", language_code: "pt-br" },
      },
    });
    expect(updates[0]?.message.entities).toEqual([{ type: "bot_command", offset: 0, length: 6 }]);
  });

  it("answers a held poll with every update pushed in the same turn", async () => {
    const waiting = call("getUpdates", { timeout: 30 });
    await expect.poll(() => tg.pendingPolls()).toBe(1);
    tg.pushMessage(1, "one");
    tg.pushMessage(2, "two");
    const updates = (await waiting).body.result as Update[];
    expect(updates.map((u) => u.message?.text)).toEqual(["one", "two"]);
  });

  it("answers an empty long poll when its timeout passes", async () => {
    expect((await call("getUpdates", { timeout: 1 })).body).toEqual({ ok: true, result: [] });
  });

  it("delivers an update again until a higher offset confirms it, in batches of `limit`", async () => {
    const ids = [tg.pushMessage(1, "a"), tg.pushMessage(1, "b"), tg.pushMessage(1, "c")];
    expect((await poll({ limit: 2 })).map((u) => u.update_id)).toEqual(ids.slice(0, 2));
    // Not confirmed yet: the same updates come again.
    expect((await poll({ limit: 2 })).map((u) => u.update_id)).toEqual(ids.slice(0, 2));
    expect((await poll({ offset: (ids[1] ?? 0) + 1 })).map((u) => u.message?.text)).toEqual(["c"]);
    expect(tg.pendingUpdates()).toBe(1);
    expect(await poll({ offset: (ids[2] ?? 0) + 1 })).toEqual([]);
    expect(tg.pendingUpdates()).toBe(0);
  });

  it("skips a backlog with a negative offset", async () => {
    tg.pushMessage(1, "old");
    tg.pushMessage(1, "new");
    expect((await poll({ offset: -1 })).map((u) => u.message?.text)).toEqual(["new"]);
  });

  it("keeps allowed_updates until it is given again, dropping updates of other types", async () => {
    await call("sendMessage", {
      chat_id: 5,
      text: "pick",
      reply_markup: { inline_keyboard: [[{ text: "A", callback_data: "a" }]] },
    });
    expect(await poll({ allowed_updates: ["callback_query"] })).toEqual([]);
    tg.pushMessage(5, "ignored");
    tg.pushCallback(5, "a");
    const updates = await poll();
    expect(updates.map((u) => Object.keys(u)[1])).toEqual(["callback_query"]);
    await poll({ offset: (updates[0]?.update_id ?? 0) + 1, allowed_updates: [] });
    tg.pushMessage(5, "heard");
    expect((await poll()).map((u) => u.message?.text)).toEqual(["heard"]);
  });

  it("ends the older of two polls with 409 Conflict", async () => {
    const first = call("getUpdates", { timeout: 30 });
    await expect.poll(() => tg.pendingPolls()).toBe(1);
    const second = call("getUpdates", { timeout: 30 });
    const { status, body } = await first;
    expect(status).toBe(409);
    expect(body.description).toMatch(/^Conflict: terminated by other getUpdates request/);
    tg.pushMessage(7, "hi");
    expect(((await second).body.result as unknown[]).length).toBe(1);
  });

  it("forgets a poll whose client went away, and loses none of its updates", async () => {
    const aborter = new AbortController();
    const abandoned = call("getUpdates", { timeout: 30 }, aborter.signal).catch((error: unknown) => error);
    await expect.poll(() => tg.pendingPolls()).toBe(1);
    aborter.abort();
    expect(await abandoned).toBeInstanceOf(Error);
    await expect.poll(() => tg.pendingPolls()).toBe(0);
    tg.pushMessage(3, "still here");
    expect((await poll()).map((u) => u.message?.text)).toEqual(["still here"]);
  });

  it("POSTs updates to a webhook with the secret header and refuses getUpdates meanwhile", async () => {
    const hook = await startWebhook();
    stopWebhook = hook.close;
    const held = call("getUpdates", { timeout: 30 });
    await expect.poll(() => tg.pendingPolls()).toBe(1);
    expect((await call("setWebhook", { url: hook.url, secret_token: "s3cret" })).body).toEqual({
      ok: true,
      result: true,
    });
    expect((await held).body.description).toBe("Conflict: terminated by setWebhook request");
    const id = tg.pushMessage(9, "via hook");
    await expect.poll(() => hook.received.length).toBe(1);
    expect(hook.received[0]?.headers["x-telegram-bot-api-secret-token"]).toBe("s3cret");
    expect(hook.received[0]?.update).toMatchObject({ update_id: id, message: { text: "via hook" } });
    const refused = await call("getUpdates");
    expect(refused.status).toBe(409);
    expect(refused.body.description).toMatch(
      /^Conflict: can't use getUpdates method while webhook is active/,
    );
    await expect
      .poll(async () => (await call("getWebhookInfo")).body.result)
      .toEqual({
        url: hook.url,
        has_custom_certificate: false,
        pending_update_count: 0,
      });
    await call("deleteWebhook");
    expect((await call("getUpdates")).status).toBe(200);
  });

  it("retries a failing webhook until it answers 2xx, and reports the failure", async () => {
    const hook = await startWebhook([{ status: 500 }]);
    stopWebhook = hook.close;
    await call("setWebhook", { url: hook.url });
    const id = tg.pushMessage(9, "again");
    await expect.poll(() => hook.received.length).toBe(2);
    expect(
      hook.received.map((r) => [r.update.update_id, r.headers["x-telegram-bot-api-secret-token"]]),
    ).toEqual([
      [id, undefined],
      [id, undefined],
    ]);
    expect((await call("getWebhookInfo")).body.result).toMatchObject({
      last_error_message: "Wrong response from the webhook: 500 Internal Server Error",
    });
  });

  it("runs a method the webhook answers with as the bot's call", async () => {
    const hook = await startWebhook([
      { status: 200, body: { method: "sendMessage", chat_id: 9, text: "answered" } },
    ]);
    stopWebhook = hook.close;
    await call("setWebhook", { url: hook.url });
    tg.pushMessage(9, "hello");
    const [reply] = await tg.waitForMessages(9, 1);
    expect(reply?.text).toBe("answered");
    expect(tg.callsOf("sendMessage")).toMatchObject([{ status: 200, isWebhookReply: true }]);
  });

  it("drops pending updates when deleteWebhook or setWebhook asks to", async () => {
    tg.pushMessage(1, "stale");
    await call("deleteWebhook", { drop_pending_updates: true });
    expect(await poll()).toEqual([]);
    tg.pushMessage(1, "stale too");
    const hook = await startWebhook();
    stopWebhook = hook.close;
    await call("setWebhook", { url: hook.url, drop_pending_updates: true });
    tg.pushMessage(1, "fresh");
    await expect.poll(() => hook.received.map((r) => r.update.message?.text)).toEqual(["fresh"]);
    expect((await call("setWebhook", { url: "ftp://x" })).body.description).toMatch(
      /An HTTPS URL must be provided/,
    );
  });
});
