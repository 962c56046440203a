import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type RunningBot, startBot } from "./harness.js";

let bot: RunningBot;
before(async () => {
  bot = await startBot();
});
after(() => bot.stop());

test("/start greets the person", async () => {
  assert.match(await bot.ask(42, "/start"), /^Hello!/);
});
