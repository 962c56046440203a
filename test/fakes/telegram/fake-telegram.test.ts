import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeTelegram, startFakeTelegram } from "./index.js";

const TOKEN = "123456:fake-token";

describe("fake Telegram Bot API", () => {
  let tg: FakeTelegram;
  const call = async (method: string, params: Record<string, unknown> = {}, token = TOKEN) => {
    const res = await fetch(`${tg.url}/bot${token}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(params),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeEach(async () => {
    tg = await startFakeTelegram({ token: TOKEN, username: "fake_bot" });
  });
  afterEach(async () => {
    await tg.close();
  });

  it("answers getMe with the bot's identity", async () => {
    const { status, body } = await call("getMe");
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: true, result: { id: 123456, is_bot: true, username: "fake_bot" } });
  });

  it("refuses a wrong token with 401 and unknown methods with 404", async () => {
    expect(await call("getMe", {}, "1:wrong")).toEqual({
      status: 401,
      body: { ok: false, error_code: 401, description: "Unauthorized" },
    });
    expect(await call("noSuchMethod")).toEqual({
      status: 404,
      body: { ok: false, error_code: 404, description: "Not Found" },
    });
    expect(tg.calls.map((c) => [c.method, c.token])).toEqual([
      ["getMe", "1:wrong"],
      ["noSuchMethod", TOKEN],
    ]);
  });

  it("holds a long poll until a message is pushed, then confirms by offset", async () => {
    const poll = call("getUpdates", { offset: 0, timeout: 30 });
    await expect.poll(() => tg.pendingPolls()).toBe(1);
    const id = tg.pushMessage(42, "/start");
    const { body } = await poll;
    const updates = body.result as { update_id: number; message: { text: string; entities: unknown[] } }[];
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ update_id: id, message: { text: "/start", chat: { id: 42 } } });
    expect(updates[0]?.message.entities).toEqual([{ type: "bot_command", offset: 0, length: 6 }]);
    // The next poll with offset id+1 confirms it: an immediate poll returns nothing.
    expect((await call("getUpdates", { offset: id + 1, timeout: 0 })).body.result).toEqual([]);
  });

  it("answers an empty long poll when its timeout passes", async () => {
    expect((await call("getUpdates", { timeout: 1 })).body).toEqual({ ok: true, result: [] });
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

  it("records sendMessage and lets a test wait for it; form bodies work too", async () => {
    const waiting = tg.waitForMessage((m) => m.chatId === 42);
    const { body } = await call("sendMessage", { chat_id: 42, text: "hello" });
    expect(body).toMatchObject({ ok: true, result: { chat: { id: 42 }, text: "hello" } });
    expect((await waiting).text).toBe("hello");
    const form = await fetch(`${tg.url}/bot${TOKEN}/sendMessage`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ chat_id: "43", text: "via form" }).toString(),
    });
    expect(form.status).toBe(200);
    expect(tg.sentMessages(43).map((m) => m.text)).toEqual(["via form"]);
    expect((await call("sendMessage", { chat_id: 42, text: "" })).status).toBe(400);
  });

  it("answers the setup calls a bot makes with ok", async () => {
    for (const method of ["deleteWebhook", "setMyCommands"]) {
      expect((await call(method, { commands: [] })).body).toEqual({ ok: true, result: true });
    }
  });

  it("serves several bots, each with its own queue", async () => {
    tg.addBot({ token: "777:other", username: "other_bot" });
    tg.pushMessage(1, "to other", { token: "777:other" });
    expect(((await call("getUpdates", {}, "777:other")).body.result as unknown[]).length).toBe(1);
    expect((await call("getUpdates", {})).body.result).toEqual([]);
  });
});
