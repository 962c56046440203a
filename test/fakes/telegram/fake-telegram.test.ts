import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callApi } from "./call-api.js";
import { type FakeTelegram, startFakeTelegram } from "./index.js";

const TOKEN = "123456:fake-token";
const KEYBOARD = { inline_keyboard: [[{ text: "Yes", callback_data: "yes" }]] };

describe("fake Telegram Bot API: methods and errors", () => {
  let tg: FakeTelegram;
  const call = (method: string, params: Record<string, unknown> = {}, token = TOKEN) =>
    callApi(tg.url, token, method, params);
  const send = async (params: Record<string, unknown>) => {
    const { body } = await call("sendMessage", { chat_id: 42, ...params });
    return body.result as { message_id: number; text: string };
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

  it("refuses a wrong token with 401 and unknown methods with 404, and logs both", async () => {
    expect(await call("getMe", {}, "1:wrong")).toEqual({
      status: 401,
      body: { ok: false, error_code: 401, description: "Unauthorized" },
    });
    expect(await call("noSuchMethod")).toEqual({
      status: 404,
      body: { ok: false, error_code: 404, description: "Not Found" },
    });
    expect(tg.calls.map((c) => [c.method, c.token, c.status])).toEqual([
      ["getMe", "1:wrong", 401],
      ["noSuchMethod", TOKEN, 404],
    ]);
  });

  it("takes parameters as JSON, form-urlencoded, multipart or query, keeping texts as strings", async () => {
    expect((await send({ text: "json" })).text).toBe("json");
    const form = await fetch(`${tg.url}/bot${TOKEN}/sendMessage`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ chat_id: "43", text: "1e3", reply_markup: JSON.stringify(KEYBOARD) }),
    });
    expect(form.status).toBe(200);
    const multipart = new FormData();
    multipart.set("chat_id", "43");
    multipart.set("text", "true");
    multipart.set("attachment", new Blob(["abc"]), "a.txt");
    expect(
      (await fetch(`${tg.url}/bot${TOKEN}/sendMessage`, { method: "POST", body: multipart })).status,
    ).toBe(200);
    expect((await fetch(`${tg.url}/bot${TOKEN}/sendMessage?chat_id=43&text=via%20query`)).status).toBe(200);
    const [viaForm, viaMultipart, viaQuery] = tg.sentMessages(43);
    expect([viaForm?.text, viaMultipart?.text, viaQuery?.text]).toEqual(["1e3", "true", "via query"]);
    expect(viaForm?.replyMarkup).toEqual(KEYBOARD);
    expect(viaMultipart?.params).toMatchObject({ chat_id: 43, attachment: { fileName: "a.txt", size: 3 } });
  });

  it("refuses empty, over-long and badly marked-up texts as Telegram words it", async () => {
    const refusal = async (params: Record<string, unknown>) =>
      (await call("sendMessage", { chat_id: 42, ...params })).body;
    expect(await refusal({ text: " " })).toEqual({
      ok: false,
      error_code: 400,
      description: "Bad Request: message text is empty",
    });
    expect((await refusal({ text: "x".repeat(4097) })).description).toBe("Bad Request: message is too long");
    expect((await refusal({ text: "<b>bold</i>", parse_mode: "HTML" })).description).toMatch(
      /^Bad Request: can't parse entities: /,
    );
    expect((await refusal({ text: "<script>", parse_mode: "HTML" })).description).toContain(
      'unsupported start tag "script"',
    );
    // Tags do not count towards the limit; only the visible text does.
    const long = await send({ text: `<b>${"x".repeat(4096)}</b>`, parse_mode: "HTML" });
    expect(long.text).toBe("x".repeat(4096));
    expect(
      (await refusal({ text: "hi", reply_markup: { inline_keyboard: [[{ text: "plain" }]] } })).description,
    ).toBe(
      "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
    );
    const tooMuchData = { inline_keyboard: [[{ text: "x", callback_data: "d".repeat(65) }]] };
    expect((await refusal({ text: "hi", reply_markup: tooMuchData })).description).toBe(
      "Bad Request: BUTTON_DATA_INVALID",
    );
    expect((await refusal({ text: "hi", chat_id: undefined })).description).toBe(
      "Bad Request: chat_id is empty",
    );
    expect(tg.sentMessages(42)).toHaveLength(1);
  });

  it("stores the inline keyboard and the replied-to message of a sent message", async () => {
    tg.pushMessage(42, "question");
    const [update] = (await call("getUpdates")).body.result as { message: { message_id: number } }[];
    const userMessageId = update?.message.message_id;
    const sent = await send({
      text: "answer",
      reply_markup: KEYBOARD,
      reply_parameters: { message_id: userMessageId },
    });
    expect(sent).toMatchObject({ reply_markup: KEYBOARD, reply_to_message: { text: "question" } });
    expect(tg.sentMessages(42)[0]).toMatchObject({ replyMarkup: KEYBOARD, replyToMessageId: userMessageId });
    const missing = await call("sendMessage", {
      chat_id: 42,
      text: "x",
      reply_parameters: { message_id: 999 },
    });
    expect(missing.body.description).toBe("Bad Request: message to be replied not found");
    const optional = { message_id: 999, allow_sending_without_reply: true };
    expect((await call("sendMessage", { chat_id: 42, text: "x", reply_parameters: optional })).status).toBe(
      200,
    );
  });

  it("edits text and keyboard, refuses an edit that changes nothing, and drops an omitted keyboard", async () => {
    const { message_id } = await send({ text: "v1", reply_markup: KEYBOARD });
    const same = await call("editMessageText", {
      chat_id: 42,
      message_id,
      text: "v1",
      reply_markup: KEYBOARD,
    });
    expect(same.status).toBe(400);
    expect(same.body.description).toMatch(/^Bad Request: message is not modified/);
    const edited = await call("editMessageText", {
      chat_id: 42,
      message_id,
      text: "<i>v2</i>",
      parse_mode: "HTML",
    });
    expect(edited.body.result).toMatchObject({ message_id, text: "v2" });
    const [message] = tg.editedMessages(42);
    expect(message).toMatchObject({ text: "<i>v2</i>", edits: ["<i>v2</i>"], replyMarkup: undefined });
    expect(
      (await call("editMessageReplyMarkup", { chat_id: 42, message_id, reply_markup: KEYBOARD })).status,
    ).toBe(200);
    expect(message?.replyMarkup).toEqual(KEYBOARD);
    const lost = await call("editMessageText", { chat_id: 42, message_id: 999, text: "x" });
    expect(lost.body.description).toBe("Bad Request: message to edit not found");
  });

  it("deletes a message once and records chat actions per chat", async () => {
    const { message_id } = await send({ text: "bye" });
    expect((await call("deleteMessage", { chat_id: 42, message_id })).body).toEqual({
      ok: true,
      result: true,
    });
    expect(tg.sentMessages(42)[0]?.isDeleted).toBe(true);
    expect((await call("deleteMessage", { chat_id: 42, message_id })).body.description).toBe(
      "Bad Request: message to delete not found",
    );
    await call("sendChatAction", { chat_id: 42, action: "typing" });
    await call("sendChatAction", { chat_id: 7, action: "upload_document" });
    expect((await call("sendChatAction", { chat_id: 42, action: "dancing" })).status).toBe(400);
    expect(tg.chatActions(42)).toEqual([{ token: TOKEN, chatId: 42, action: "typing" }]);
    expect(tg.chatActions().map((a) => a.action)).toEqual(["typing", "upload_document"]);
  });

  it("answers a button press once; an unknown query id is refused", async () => {
    await send({ text: "pick", reply_markup: KEYBOARD });
    expect(() => tg.pushCallback(42, "no")).toThrow(/no message in chat 42 has a button/);
    tg.pushCallback(42, "yes", { languageCode: "de" });
    const { body } = await call("getUpdates");
    const [update] = body.result as {
      callback_query: { id: string; data: string; message: { text: string } };
    }[];
    expect(update?.callback_query).toMatchObject({
      data: "yes",
      message: { text: "pick" },
      from: { language_code: "de" },
    });
    const id = update?.callback_query.id;
    expect((await call("answerCallbackQuery", { callback_query_id: id, text: "Noted" })).status).toBe(200);
    expect(tg.callbackQueries(42)[0]?.answer).toEqual({ text: "Noted", showAlert: false });
    expect((await call("answerCallbackQuery", { callback_query_id: id })).body.description).toMatch(
      /query ID is invalid/,
    );
  });

  it("keeps commands per scope and language", async () => {
    const commands = [{ command: "start", description: "Begin" }];
    expect((await call("setMyCommands", { commands })).body).toEqual({ ok: true, result: true });
    await call("setMyCommands", {
      commands: [{ command: "hilfe", description: "Hilfe" }],
      language_code: "de",
    });
    expect((await call("getMyCommands")).body.result).toEqual(commands);
    expect((await call("getMyCommands", { language_code: "de" })).body.result).toEqual([
      { command: "hilfe", description: "Hilfe" },
    ]);
    expect(tg.commands()).toEqual(commands);
    const bad = await call("setMyCommands", { commands: [{ command: "Start!", description: "x" }] });
    expect(bad.body.description).toBe("Bad Request: BOT_COMMAND_INVALID");
    await call("deleteMyCommands");
    expect((await call("getMyCommands")).body.result).toEqual([]);
  });

  it("fails the next call of a method as told: 429 with retry_after, or any status", async () => {
    tg.failNext("sendMessage", { status: 429, retryAfter: 3 });
    tg.failNext("sendmessage", { status: 500 });
    expect((await call("sendMessage", { chat_id: 42, text: "a" })).body).toEqual({
      ok: false,
      error_code: 429,
      description: "Too Many Requests: retry after 3",
      parameters: { retry_after: 3 },
    });
    expect((await call("sendMessage", { chat_id: 42, text: "a" })).body).toEqual({
      ok: false,
      error_code: 500,
      description: "Internal Server Error",
    });
    expect((await call("sendMessage", { chat_id: 42, text: "a" })).status).toBe(200);
    expect(tg.callsOf("SENDMESSAGE").map((c) => c.status)).toEqual([429, 500, 200]);
    expect(tg.sentMessages()).toHaveLength(1);
  });

  it("serves several bots, each with its own queue and failures", async () => {
    tg.addBot({ token: "777:other", username: "other_bot" });
    tg.failNext("getMe", { status: 400, token: "777:other" });
    expect((await call("getMe")).status).toBe(200);
    expect((await call("getMe", {}, "777:other")).status).toBe(400);
    tg.pushMessage(1, "to other", { token: "777:other" });
    expect(((await call("getUpdates", {}, "777:other")).body.result as unknown[]).length).toBe(1);
    expect((await call("getUpdates", {})).body.result).toEqual([]);
  });
});
