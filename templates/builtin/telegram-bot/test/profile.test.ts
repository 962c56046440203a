import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type RunningBot, startBot } from "./acceptance/harness.js";

let bot: RunningBot;
before(async () => {
  bot = await startBot();
});
after(() => bot.stop());

test("/profile asks two questions, one message at a time, and remembers the answers", async () => {
  assert.equal(await bot.ask(1, "/whoami"), "I don't know you yet: send /profile.");
  assert.equal(await bot.ask(1, "/profile"), "What is your name? (/cancel to stop)");
  assert.equal(await bot.ask(1, "Ann"), "Nice to meet you, Ann! Which city do you live in?");
  assert.equal(await bot.ask(1, "Lisbon"), "Saved: Ann from Lisbon.");
  assert.equal(await bot.ask(1, "/whoami"), "You are Ann from Lisbon.");
});

test("other commands still work during the dialog, and /cancel leaves it", async () => {
  assert.equal(await bot.ask(2, "/profile"), "What is your name? (/cancel to stop)");
  assert.match(await bot.ask(2, "/start"), /^Hello!/);
  assert.equal(await bot.ask(2, "/cancel"), "Cancelled.");
  assert.equal(await bot.ask(2, "/cancel"), "There is nothing to cancel.");
  assert.equal(await bot.ask(2, "/whoami"), "I don't know you yet: send /profile.");
});

test("a dialog halfway through survives a restart (the session is on DATA_DIR)", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "profile-restart-"));
  try {
    const first = await startBot({ DATA_DIR: dataDir });
    await first.ask(5, "/profile");
    await first.ask(5, "Bo");
    await first.stop();
    const second = await startBot({ DATA_DIR: dataDir });
    try {
      assert.equal(await second.ask(5, "Oslo"), "Saved: Bo from Oslo.");
    } finally {
      await second.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
