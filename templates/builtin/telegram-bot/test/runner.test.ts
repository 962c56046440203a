import assert from "node:assert/strict";
import { test } from "node:test";
import { Composer } from "grammy";
import type { BotContext } from "../src/context.js";
import type { FetchLike } from "../src/deps.js";
import { type Feature, features } from "../src/features/index.js";
import { startBot } from "./acceptance/harness.js";

test("a slow handler in one chat does not hold up another chat", async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const slow: FetchLike = async () => {
    await gate;
    return { ok: true, status: 200, json: async () => ({ quote: "Later.", author: "Slow" }) };
  };
  const bot = await startBot({}, { deps: { fetch: slow } });
  try {
    const slowAnswer = bot.ask(1, "/quote");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.match(await bot.ask(2, "/start"), /^Hello!/, "chat 2 is answered while chat 1 waits");
    assert.equal(bot.sent.filter((m) => m.chatId === 1).length, 0, "chat 1 still waits");
    release();
    assert.equal(await slowAnswer, "“Later.” (Slow)");
  } finally {
    release();
    await bot.stop();
  }
});

test("updates of one chat are handled one at a time, in order", async () => {
  const bot = await startBot();
  try {
    for (const text of ["/note one", "/note two", "/note three"]) bot.api.pushMessage(3, text);
    await waitFor(() => bot.sent.filter((m) => m.chatId === 3).length === 3);
    assert.deepEqual(
      bot.sent.filter((m) => m.chatId === 3).map((m) => m.text),
      ["Noted (1): one", "Noted (2): two", "Noted (3): three"],
    );
  } finally {
    await bot.stop();
  }
});

const broken: Feature = {
  name: "broken",
  commands: [{ command: "boom", description: "Always fails" }],
  composer() {
    const composer = new Composer<BotContext>();
    composer.command("boom", () => {
      throw new Error("the boom feature is broken");
    });
    return composer;
  },
};

test("a handler that throws is logged with its feature, and the bot keeps answering", async () => {
  const bot = await startBot({}, { features: [broken, ...features] });
  try {
    assert.equal(await bot.ask(1, "/boom"), "Sorry, something went wrong. Please try again.");
    assert.ok(
      bot.logs.some(
        (l) => l.startsWith("ERROR [broken] update") && l.includes("Error: the boom feature is broken"),
      ),
      bot.logs.join("\n"),
    );
    assert.match(await bot.ask(1, "/start"), /^Hello!/);
    assert.match(await bot.ask(2, "/start"), /^Hello!/);
  } finally {
    await bot.stop();
  }
});

test("a Telegram API error is logged as one, and the bot keeps answering", async () => {
  const bot = await startBot();
  try {
    bot.api.failNext("sendMessage", { status: 403, description: "Forbidden: bot was blocked by the user" });
    bot.api.pushMessage(1, "/start");
    await waitFor(() => bot.logs.some((l) => l.includes("Telegram API error")));
    assert.ok(
      bot.logs.some(
        (l) =>
          l.includes("[start] update") &&
          l.includes("sendMessage answered 403 Forbidden: bot was blocked by the user"),
      ),
      bot.logs.join("\n"),
    );
    assert.match(await bot.ask(2, "/start"), /^Hello!/);
  } finally {
    await bot.stop();
  }
});

test("a rate limit (429) is waited out and the message still goes", async () => {
  const bot = await startBot();
  try {
    bot.api.failNext("sendMessage", {
      status: 429,
      description: "Too Many Requests: retry after 1",
      retryAfter: 1,
    });
    assert.match(await bot.ask(1, "/start"), /^Hello!/);
    assert.equal(bot.calls.filter((c) => c.method === "sendMessage").length, 2);
  } finally {
    await bot.stop();
  }
});

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
