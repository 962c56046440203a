/**
 * The webhook's answers to malformed updates. They once reached grammY's context unchecked and the
 * route answered 500 (a non-integer update_id, an empty body, a callback query without a sender,
 * a message without a chat), so Telegram would redeliver them forever: now one that carries the
 * secret is acknowledged and dropped with a log line, and a well-formed one still reaches the inbox.
 * A button press whose answer Telegram refuses (a query too old) is not failed either: the press
 * took effect, and a redelivery would press again.
 */
import { Writable } from "node:stream";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeTelegram, startFakeTelegram } from "../../../test/fakes/telegram/index.js";
import { AppError } from "../../contracts/index.js";
import { createLogger, SecretRedactor } from "../../observability/index.js";
import type { InboundMessage, InboundPress } from "../channel.js";
import { TelegramChannel } from "./channel.js";

const TOKEN = "990099:webhook-unit-token-abcdefghijklmnop";
const SECRET = "webhook-unit-secret-0123456789";

let tg: FakeTelegram;
let app: FastifyInstance;
const received: InboundMessage[] = [];
const pressed: InboundPress[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  tg = await startFakeTelegram({ token: TOKEN, username: "webhook_unit_bot" });
  const destination = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const channel = new TelegramChannel({
    token: TOKEN,
    apiRoot: tg.url,
    webhookUrl: "http://127.0.0.1:9/telegram/webhook",
    webhookSecret: SECRET,
    commands: {},
    logger: createLogger({ level: "info", redactor: new SecretRedactor(), destination }),
  });
  channel.acceptWebhook({
    receive: async (message) => {
      if (message.text === "cannot be stored") throw new AppError("invalid", "invalid_input", "a NUL");
      if (message.text === "store is down") throw new Error("connection lost");
      received.push(message);
      return null;
    },
    press: async (press) => {
      pressed.push(press);
      return { notice: null };
    },
  });
  app = Fastify();
  app.post("/telegram/webhook", (req, reply) => channel.webhookHandler()?.(req, reply));
});
afterAll(async () => {
  await app?.close();
  await tg?.close();
});

function post(body: unknown, secret: string | null = SECRET) {
  return app.inject({
    method: "POST",
    url: "/telegram/webhook",
    headers: secret === null ? {} : { "x-telegram-bot-api-secret-token": secret },
    ...(body === undefined ? {} : { payload: body as object }),
  });
}

const person = { id: 42, is_bot: false, first_name: "Ada" };

describe("the Telegram webhook", () => {
  it("acknowledges and drops malformed updates that carry the secret, logging each", async () => {
    const malformed: unknown[] = [
      undefined,
      { update_id: "7" },
      {
        update_id: 7.5,
        message: { message_id: 1, date: 1, chat: { id: 42, type: "private" }, from: person },
      },
      { update_id: 8, callback_query: {} },
      { update_id: 9, callback_query: { id: "q", from: { id: 42 }, data: "x", chat_instance: "c" } },
      { update_id: 10, message: { text: "hi" } },
      { update_id: 11, edited_message: { chat: {} } },
      [1, 2, 3],
    ];
    for (const body of malformed) {
      const res = await post(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(200);
    }
    expect(received).toEqual([]);
    expect(pressed).toEqual([]);
    const dropped = logLines.filter((l) => l.includes("dropped a malformed Telegram update"));
    expect(dropped).toHaveLength(malformed.length);
  });

  it("still refuses an update without the secret, malformed or not", async () => {
    expect((await post({ update_id: "7" }, null)).statusCode).toBe(401);
    expect((await post({ update_id: 12 }, "wrong")).statusCode).toBe(401);
  });

  it("acknowledges an update the inbox refuses as invalid, and answers 500 to any other failure", async () => {
    const said = (updateId: number, text: string) => ({
      update_id: updateId,
      message: { message_id: updateId, date: 1, chat: { id: 42, type: "private" }, from: person, text },
    });
    expect((await post(said(30, "cannot be stored"))).statusCode).toBe(200);
    expect(logLines.some((l) => l.includes("dropped a Telegram update the chat refused"))).toBe(true);
    // Telegram redelivers it: a store that is down may be up again by then.
    expect((await post(said(31, "store is down"))).statusCode).toBe(500);
  });

  it("hands a well-formed message and button press to the inbox", async () => {
    const chat = { id: 42, type: "private" };
    const message = { message_id: 5, date: 1, chat, from: person, text: "hello" };
    expect((await post({ update_id: 20, message })).statusCode).toBe(200);
    expect(received).toMatchObject([{ chatId: "42", text: "hello", inboundKey: "20" }]);
    const press = {
      id: "q1",
      from: person,
      chat_instance: "c",
      data: "yes",
      message: { message_id: 5, chat },
    };
    expect((await post({ update_id: 21, callback_query: press })).statusCode).toBe(200);
    expect(pressed).toMatchObject([{ chatId: "42", data: "yes" }]);
    // The fake Bot API does not know this query: its refusal of the answer is logged, not a 500.
    expect(logLines.some((l) => l.includes("could not answer a button press"))).toBe(true);
  });
});
