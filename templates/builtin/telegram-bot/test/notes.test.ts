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

test("/note keeps notes and /notes lists them with a button each", async () => {
  assert.equal(await bot.ask(1, "/notes"), "No notes yet. Add one with /note <text>.");
  assert.equal(await bot.ask(1, "/note buy milk"), "Noted (1): buy milk");
  assert.equal(await bot.ask(1, "/note call mum"), "Noted (2): call mum");
  assert.equal(await bot.ask(1, "/notes"), "Your notes:\n1. buy milk\n2. call mum");
  assert.deepEqual(bot.sent.at(-1)?.buttons, [
    [
      { text: "✅ 1", data: "notes:done:0" },
      { text: "✅ 2", data: "notes:done:1" },
    ],
  ]);
  assert.equal(
    await bot.ask(2, "/notes"),
    "No notes yet. Add one with /note <text>.",
    "another chat has its own list",
  );
});

test("pressing a done button removes that note and updates the list", async () => {
  assert.equal(await bot.press(1, "notes:done:0"), "Your notes:\n1. call mum");
  assert.equal(bot.sent.at(-1)?.edited, true);
  const answered = bot.calls.filter((c) => c.method === "answerCallbackQuery").at(-1);
  assert.equal(answered?.params.text, "Done: buy milk");
});

test("an empty /note asks for the text", async () => {
  assert.equal(await bot.ask(3, "/note"), "What should I note? Send /note <text>.");
});

test("notes survive a restart: a second bot on the same DATA_DIR sees them", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "notes-restart-"));
  try {
    const first = await startBot({ DATA_DIR: dataDir });
    await first.ask(7, "/note water the plants");
    await first.stop();
    const second = await startBot({ DATA_DIR: dataDir });
    try {
      assert.equal(await second.ask(7, "/notes"), "Your notes:\n1. water the plants");
    } finally {
      await second.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
