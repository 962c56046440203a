import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { GrammyError, HttpError } from "grammy";
import { commandList, describeError } from "../src/bot.js";
import { readConfig } from "../src/config.js";
import { type RunningBot, startBot } from "./acceptance/harness.js";

let bot: RunningBot;
before(async () => {
  bot = await startBot();
});
after(() => bot.stop());

test("/start greets the person", async () => {
  assert.equal(await bot.ask(42, "/start"), "Hello! I am {{projectName}}. Send /help to see what I can do.");
});

test("/help lists every command", async () => {
  const text = await bot.ask(43, "/help");
  for (const { command } of commandList()) assert.ok(text.includes(`/${command}`), `missing /${command}`);
});

test("a missing token is a clear error", () => {
  assert.throws(() => readConfig({}), /TELEGRAM_BOT_TOKEN is not set/);
});

test("DATA_DIR defaults to ./data", () => {
  assert.equal(readConfig({ TELEGRAM_BOT_TOKEN: "1:x" }).dataDir, "./data");
  assert.equal(readConfig({ TELEGRAM_BOT_TOKEN: "1:x", DATA_DIR: "/srv/data" }).dataDir, "/srv/data");
});

test("errors are told apart: Telegram API, network, bug", () => {
  const api = new GrammyError(
    "Call to 'sendMessage' failed!",
    { ok: false, error_code: 403, description: "Forbidden" },
    "sendMessage",
    {},
  );
  assert.match(describeError(api), /^Telegram API error: sendMessage answered 403 Forbidden/);
  assert.match(
    describeError(new HttpError("Network request for 'getMe' failed!", new Error("ECONNRESET"))),
    /^network error calling Telegram/,
  );
  assert.match(describeError(new TypeError("x is undefined")), /^TypeError: x is undefined/);
});
