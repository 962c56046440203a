import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { autoRetry } from "@grammyjs/auto-retry";
import { type RunnerHandle, run, sequentialize } from "@grammyjs/runner";
import { Bot, GrammyError, InlineKeyboard, webhookCallback } from "grammy";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeTelegram, startFakeTelegram } from "./index.js";

const TOKEN = "424242:grammy-token";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("fake Telegram Bot API with real grammY clients", () => {
  let tg: FakeTelegram;
  /** Stops whatever a test started, newest first. */
  let stops: (() => Promise<unknown>)[];
  const newBot = (client: ConstructorParameters<typeof Bot>[1] = {}) =>
    new Bot(TOKEN, { ...client, client: { apiRoot: tg.url, ...client.client } });
  const runBot = (bot: Bot): RunnerHandle => {
    const handle = run(bot);
    stops.push(async () => {
      if (handle.isRunning()) await handle.stop();
      // stop() only ends fetching: handlers under way still call the API, so let them finish.
      await expect.poll(() => handle.size(), { timeout: 5_000 }).toBe(0);
    });
    return handle;
  };

  beforeEach(async () => {
    tg = await startFakeTelegram({ token: TOKEN, username: "grammy_bot" });
    stops = [];
  });
  afterEach(async () => {
    for (const stop of stops.reverse()) await stop();
    await tg.close();
  });

  /** Echoes each text; the first message of a chat is the slowest to answer. */
  const echoBot = (isSequential: boolean) => {
    const bot = newBot();
    if (isSequential) bot.use(sequentialize((ctx) => ctx.chat?.id.toString()));
    bot.on("message:text", async (ctx) => {
      await sleep(ctx.message.text.endsWith("1") ? 300 : 10);
      await ctx.reply(`echo ${ctx.message.text}`);
    });
    return bot;
  };
  const pushInTwoChats = () => {
    for (const [chat, text] of [
      [1, "a1"],
      [2, "b1"],
      [1, "a2"],
      [2, "b2"],
      [1, "a3"],
    ] as const) {
      tg.pushMessage(chat, text);
    }
  };

  it("a runner with sequentialize answers each chat in order", async () => {
    runBot(echoBot(true));
    pushInTwoChats();
    const [chatA, chatB] = await Promise.all([tg.waitForMessages(1, 3), tg.waitForMessages(2, 2)]);
    expect(chatA.map((m) => m.text)).toEqual(["echo a1", "echo a2", "echo a3"]);
    expect(chatB.map((m) => m.text)).toEqual(["echo b1", "echo b2"]);
    expect(tg.callsOf("getMe")).toHaveLength(1);
    // The runner confirms what it handled: the fake holds nothing back.
    await expect.poll(() => tg.pendingUpdates()).toBe(0);
  });

  it("without sequentialize the same runner answers out of order (the batch is concurrent)", async () => {
    runBot(echoBot(false));
    pushInTwoChats();
    const [chatA, chatB] = await Promise.all([tg.waitForMessages(1, 3), tg.waitForMessages(2, 2)]);
    // The slow first answers come last; the fast ones may race each other.
    expect(chatA.map((m) => m.text).sort()).toEqual(["echo a1", "echo a2", "echo a3"]);
    expect([chatA.at(-1)?.text, chatB.at(-1)?.text]).toEqual(["echo a1", "echo b1"]);
  });

  it("auto-retry waits out a 429 and the message arrives", async () => {
    const bot = newBot();
    bot.api.config.use(autoRetry());
    bot.on("message:text", (ctx) => ctx.reply(`pong ${ctx.message.text}`));
    tg.failNext("sendMessage", { status: 429, retryAfter: 1 });
    const polling = bot.start({ timeout: 30 });
    stops.push(async () => {
      await bot.stop();
      await polling;
    });
    const pushedAt = Date.now();
    tg.pushMessage(5, "ping");
    const [reply] = await tg.waitForMessages(5, 1);
    expect(reply?.text).toBe("pong ping");
    expect(Date.now() - pushedAt).toBeGreaterThanOrEqual(900);
    expect(tg.callsOf("sendMessage").map((c) => c.status)).toEqual([429, 200]);
    // bot.start() learns who it is and clears any webhook first, as against the real API.
    expect(tg.calls.slice(0, 2).map((c) => c.method)).toEqual(["getMe", "deleteWebhook"]);
  });

  it("a button press reaches the bot, which answers it and edits the message", async () => {
    const bot = newBot();
    bot.command("start", (ctx) =>
      ctx.reply("Proceed?", { reply_markup: new InlineKeyboard().text("Yes", "yes").text("No", "no") }),
    );
    bot.callbackQuery("yes", async (ctx) => {
      await ctx.answerCallbackQuery({ text: "Noted" });
      await ctx.editMessageText("You chose yes");
    });
    runBot(bot);
    tg.pushMessage(7, "/start");
    const [prompt] = await tg.waitForMessages(7, 1);
    expect(prompt?.replyMarkup?.inline_keyboard[0]?.map((b) => b.callback_data)).toEqual(["yes", "no"]);
    tg.pushCallback(7, "yes");
    await tg.waitForMessage((m) => m.messageId === prompt?.messageId && m.edits.length === 1);
    expect(prompt).toMatchObject({ text: "You chose yes", replyMarkup: undefined });
    expect(tg.callbackQueries(7)).toMatchObject([
      { data: "yes", answer: { text: "Noted", showAlert: false } },
    ]);
  });

  it("a webhook bot gets updates as POSTs with the secret token and replies through the response", async () => {
    const bot = newBot({ client: { canUseWebhookReply: (method) => method === "sendMessage" } });
    bot.on("message:text", (ctx) => ctx.reply(`hook ${ctx.message.text}`));
    const secrets: (string | string[] | undefined)[] = [];
    const handle = webhookCallback(bot, "http", { secretToken: "s3cret" });
    const server: Server = createServer((req, res) => {
      secrets.push(req.headers["x-telegram-bot-api-secret-token"]);
      handle(req, res).catch(() => res.writeHead(500).end());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    await bot.api.setWebhook(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
      secret_token: "s3cret",
    });
    const refused = await bot.api.getUpdates().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GrammyError);
    expect((refused as GrammyError).error_code).toBe(409);
    tg.pushMessage(9, "hi");
    const [reply] = await tg.waitForMessages(9, 1);
    expect(reply?.text).toBe("hook hi");
    expect(secrets).toEqual(["s3cret"]);
    expect(tg.callsOf("sendMessage")).toMatchObject([{ isWebhookReply: true, status: 200 }]);
    expect((await bot.api.getWebhookInfo()).pending_update_count).toBe(0);
  });
});
