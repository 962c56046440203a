import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Bot } from "grammy";
import { commandList, createBot } from "../src/bot.js";
import { readConfig } from "../src/config.js";
import { type FakeBotApi, startFakeBotApi } from "./acceptance/fake-bot-api.js";

const TOKEN = "123456:test-token";
let api: FakeBotApi;
let bot: Bot;
let running: Promise<void>;

before(async () => {
  api = await startFakeBotApi(TOKEN);
  bot = createBot(readConfig({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.url }));
  await new Promise<void>((resolve) => {
    running = bot.start({ timeout: 1, onStart: () => resolve() });
  });
});

after(async () => {
  await bot.stop();
  await running;
  await api.close();
});

test("/start greets the person", async () => {
  const answer = api.nextSent(42);
  api.pushMessage(42, "/start");
  assert.match((await answer).text, /^Hello! I am /);
});

test("/help lists every command", async () => {
  const answer = api.nextSent(43);
  api.pushMessage(43, "/help");
  const text = (await answer).text;
  for (const { command } of commandList()) assert.ok(text.includes(`/${command}`), `missing /${command}`);
});

test("a missing token is a clear error", () => {
  assert.throws(() => readConfig({}), /TELEGRAM_BOT_TOKEN is not set/);
});
