import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeTelegram, startFakeTelegram } from "../../test/fakes/telegram/index.js";
import { openTestStore } from "../../test/support/store.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { BotTokens, SecretsService, TELEGRAM_BOT_TOKEN_KEY, telegramBotApi, Vault } from "./index.js";

let store: Store;
let telegram: FakeTelegram;
let bots: BotTokens;
let secrets: SecretsService;
const filled: string[] = [];
let botNumber = 700_000_000;

/** A bot the fake Telegram knows: a fresh token and username each time. */
function newBot(username = `bot${botNumber + 1}_bot`): { token: string; username: string; id: string } {
  botNumber += 1;
  const token = `${botNumber}:${randomBytes(35).toString("base64url").slice(0, 35)}`;
  telegram.addBot({ token, username });
  return { token, username, id: String(botNumber) };
}

async function project(): Promise<string> {
  return (await store.projects.create({ name: `Bots ${randomBytes(4).toString("hex")}` })).id;
}

beforeAll(async () => {
  store = await openTestStore();
  telegram = await startFakeTelegram({ token: `1:${"a".repeat(35)}`, username: "first_bot" });
  secrets = new SecretsService({ store, vault: new Vault(randomBytes(32)), redactor: new SecretRedactor() });
  bots = new BotTokens({
    store,
    secrets,
    telegram: telegramBotApi(telegram.url),
    logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
    onFilled: async (projectId) => {
      filled.push(projectId);
    },
  });
});
afterAll(async () => {
  await telegram?.close();
  await store?.close();
});

describe("checking a bot token", () => {
  it("refuses a value that is not shaped like a token without asking Telegram", async () => {
    const before = telegram.calls.length;
    expect(await bots.check("12345:short", null)).toEqual({ ok: false, code: "invalid_bot_token" });
    expect(telegram.calls.length).toBe(before);
  });

  it("names the bot of a token Telegram knows, and reports a webhook set elsewhere", async () => {
    const bot = newBot("weather_helper_bot");
    expect(await bots.check(bot.token, null)).toEqual({
      ok: true,
      bot: { id: bot.id, username: "weather_helper_bot" },
      webhook: null,
    });
    await fetch(
      `${telegram.url}/bot${bot.token}/setWebhook?url=${encodeURIComponent("https://elsewhere.example/hook")}`,
    );
    const checked = await bots.check(bot.token, null);
    expect(checked).toMatchObject({ ok: true, webhook: "https://elsewhere.example/hook" });
  });

  it("tells a token Telegram refuses (401) from a Telegram it cannot reach", async () => {
    const unknown = `${botNumber + 99}:${"b".repeat(35)}`;
    expect(await bots.check(unknown, null)).toMatchObject({ ok: false, code: "bot_token_rejected" });
    const bot = newBot();
    telegram.failNext("getMe", { status: 502, description: "Bad Gateway" });
    const offline = await new BotTokens({
      store,
      secrets,
      telegram: telegramBotApi("http://127.0.0.1:9"),
      logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
    }).check(bot.token, null);
    expect(offline).toMatchObject({ ok: false, code: "bot_token_unchecked" });
    // A 5xx is Telegram's answer about itself, not about the token: no verdict on the token.
    expect(await bots.check(bot.token, null)).toMatchObject({ ok: false, code: "bot_token_unchecked" });
    expect(await bots.check(bot.token, null)).toMatchObject({ ok: true });
  });

  it("refuses a bot another active project runs, but not one a stopped project ran", async () => {
    const bot = newBot();
    const first = await project();
    expect(await bots.store(first, bot.token, "test")).toMatchObject({ ok: true });
    const second = await project();
    expect(await bots.store(second, bot.token, "test")).toMatchObject({
      ok: false,
      code: "bot_in_use",
      by: "project",
      bot: { username: bot.username },
    });
    // The same project storing its own bot again is no conflict.
    expect(await bots.store(first, bot.token, "test")).toMatchObject({ ok: true });
    for (const status of ["building", "failed", "stopped"] as const)
      await store.projects.setStatus(first, status);
    expect((await store.projects.get(first)).status).toBe("stopped");
    expect(await bots.store(second, bot.token, "test")).toMatchObject({ ok: true });
  });

  it("stores a checked token with its bot, tells who waits, and removes a webhook on request", async () => {
    const bot = newBot();
    const id = await project();
    await fetch(
      `${telegram.url}/bot${bot.token}/setWebhook?url=${encodeURIComponent("https://other.example/x")}`,
    );
    const stored = await bots.store(id, bot.token, "test");
    expect(stored).toMatchObject({ ok: true, webhook: "https://other.example/x" });
    const [meta] = await secrets.listMeta(id);
    expect(meta).toMatchObject({ key: TELEGRAM_BOT_TOKEN_KEY, bot: { id: bot.id, username: bot.username } });
    expect(await secrets.get(id, TELEGRAM_BOT_TOKEN_KEY)).toBe(bot.token);
    expect(filled).toContain(id);
    expect(await bots.removeWebhook({ projectId: id })).toEqual({ ok: true, description: null });
    expect(await bots.check(bot.token, id)).toMatchObject({ ok: true, webhook: null });
  });
});

describe("the bot pool", () => {
  /** Empties the pool of free bots, so each case starts from an empty pool. */
  async function drain(): Promise<void> {
    for (const bot of await bots.listPool())
      if (bot.projectId === null) await bots.removeFromPool(bot.id, "test");
  }

  it("checks a bot on the way in, removes its webhook, and lists it masked", async () => {
    await drain();
    expect(await bots.addToPool("not-a-token", "admin:1")).toEqual({ ok: false, code: "invalid_bot_token" });
    expect(await bots.addToPool(`${botNumber + 77}:${"c".repeat(35)}`, "admin:1")).toMatchObject({
      code: "bot_token_rejected",
    });
    const bot = newBot();
    await fetch(
      `${telegram.url}/bot${bot.token}/setWebhook?url=${encodeURIComponent("https://old.example/x")}`,
    );
    const added = await bots.addToPool(bot.token, "admin:1");
    expect(added).toMatchObject({ ok: true, bot: { botUsername: bot.username, projectId: null } });
    expect(await bots.check(bot.token, null)).toMatchObject({ ok: false, code: "bot_in_use", by: "pool" });
    expect((await telegramBotApi(telegram.url).webhookOf(bot.token)) as unknown).toEqual({
      ok: true,
      value: null,
    });
    const listed = JSON.stringify(await bots.listPool());
    expect(listed).toContain(bot.username);
    expect(listed).not.toContain(bot.token.split(":")[1]);
    // A bot in the pool is no project's own token.
    expect(await bots.store(await project(), bot.token, "test")).toMatchObject({
      code: "bot_in_use",
      by: "pool",
    });
  });

  it("keeps a project waiting on an empty pool and serves it when an admin adds a bot", async () => {
    await drain();
    const id = await project();
    expect(await bots.take(id, "chat")).toEqual({ status: "waiting" });
    expect(await secrets.get(id, TELEGRAM_BOT_TOKEN_KEY)).toBeNull();
    const bot = newBot();
    await bots.addToPool(bot.token, "admin:1");
    expect(await secrets.get(id, TELEGRAM_BOT_TOKEN_KEY)).toBe(bot.token);
    expect((await secrets.listMeta(id))[0]?.bot).toEqual({ id: bot.id, username: bot.username });
    expect(filled.at(-1)).toBe(id);
    expect(await store.botPool.waiting()).not.toContain(id);
  });

  it("gives a torn-down project's bot back: webhook removed, token gone, the next waiting project served", async () => {
    await drain();
    const bot = newBot();
    await bots.addToPool(bot.token, "admin:1");
    const holder = await project();
    expect(await bots.take(holder, "chat")).toEqual({
      status: "taken",
      bot: { id: bot.id, username: bot.username },
    });
    const waiter = await project();
    expect(await bots.take(waiter, "chat")).toEqual({ status: "waiting" });
    await fetch(
      `${telegram.url}/bot${bot.token}/setWebhook?url=${encodeURIComponent("https://holder.example/x")}`,
    );
    const given = await bots.giveBack(holder, "teardown");
    expect(given?.botId).toBe(bot.id);
    expect(await secrets.get(holder, TELEGRAM_BOT_TOKEN_KEY)).toBeNull();
    expect(telegram.callsOf("deleteWebhook").some((c) => c.token === bot.token)).toBe(true);
    expect(await secrets.get(waiter, TELEGRAM_BOT_TOKEN_KEY)).toBe(bot.token);
    expect((await store.botPool.heldBy(waiter))?.bot.botId).toBe(bot.id);
  });

  it("lets a person who brings their own token give the pool bot back", async () => {
    await drain();
    const pooled = newBot();
    await bots.addToPool(pooled.token, "admin:1");
    const id = await project();
    await bots.take(id, "chat");
    const waiter = await project();
    expect(await bots.take(waiter, "chat")).toEqual({ status: "waiting" });
    const own = newBot();
    expect(await bots.store(id, own.token, "chat")).toMatchObject({ ok: true });
    expect(await secrets.get(id, TELEGRAM_BOT_TOKEN_KEY)).toBe(own.token);
    expect(await store.botPool.heldBy(id)).toBeNull();
    expect(await bots.take(id, "chat")).toEqual({
      status: "own",
      bot: { id: own.id, username: own.username },
    });
    // The bot it gave back went at once to the project that was waiting for one.
    expect(await secrets.get(waiter, TELEGRAM_BOT_TOKEN_KEY)).toBe(pooled.token);
  });
});
