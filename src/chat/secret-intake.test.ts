/**
 * Secrets a person gives in the chat, through the web chat on a real store and tool registry, with
 * bot tokens checked against a fake Telegram Bot API over HTTP. The model is a script: it asks for
 * the project's secrets with `secret.request` when the person says "need", else it echoes.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeTelegram, startFakeTelegram } from "../../test/fakes/telegram/index.js";
import { testChatModule } from "../../test/support/chat-module.js";
import { openTestStore } from "../../test/support/store.js";
import type { ChatMessage, ModelRequest, Principal } from "../contracts/index.js";
import { ScriptedProvider } from "../llm/index.js";
import type { Store } from "../store/index.js";
import type { ChatModule } from "./module.js";

let store: Store;
let telegram: FakeTelegram;
const modules: ChatModule[] = [];
let botNumber = 810_000_000;

function newBot(username: string): string {
  botNumber += 1;
  const token = `${botNumber}:${randomBytes(35).toString("base64url").slice(0, 35)}`;
  telegram.addBot({ token, username });
  return token;
}

beforeAll(async () => {
  store = await openTestStore();
  telegram = await startFakeTelegram({ token: `1:${"z".repeat(35)}`, username: "unused_bot" });
});
afterAll(async () => {
  for (const m of modules) await m.stop();
  await telegram?.close();
  await store?.close();
});

const lastPersonText = (request: ModelRequest) => {
  const texts = request.messages
    .filter((m) => m.role === "user")
    .flatMap((m) => m.content)
    .filter((c) => c.type === "text");
  const last = texts.at(-1);
  return last?.type === "text" ? last.text : "";
};

/** A person with a Telegram bot project of their own, in a fresh web conversation. */
async function setUp() {
  const requests: ModelRequest[] = [];
  let projectId = "";
  const provider = new ScriptedProvider((request) => {
    requests.push(request);
    const said = lastPersonText(request);
    const asked = request.messages.some((m) =>
      m.content.some((c) => c.type === "tool_result" && c.content.includes('"missing"')),
    );
    if (said.startsWith("need") && !asked) {
      return { toolCalls: [{ name: "secret_request", input: { projectId } }] };
    }
    return { toolCalls: [{ name: "respond", input: { text: `re: ${said}` } }] };
  });
  const m = testChatModule({ store, provider, botApiRoot: telegram.url });
  modules.push(m);
  await m.start();
  const user = await store.users.create({
    name: "Bot owner",
    webLogin: `o-${randomBytes(4).toString("hex")}`,
  });
  const project = await store.projects.create({
    name: "Weather bot",
    ownerId: user.id,
    template: "telegram-bot",
  });
  projectId = project.id;
  const principal: Principal = { kind: "user", tokenId: "t", userId: user.id };
  const conversation = await m.web.create(principal, "en");
  const send = async (text: string) => {
    const stored = await m.web.post(principal, conversation.id, text, null);
    await m.drained();
    return stored;
  };
  const all = (): Promise<ChatMessage[]> =>
    store.conversations.listMessages(conversation.id, { limit: 1000 });
  const notices = async () => (await all()).filter((x) => x.role === "system").map((x) => x.text);
  return { m, user, project, principal, conversation, send, all, notices, requests };
}

describe("secrets in the chat", () => {
  it("takes the next bare value as the bot token the PO asked for, checked with Telegram, named by its bot", async () => {
    const { send, conversation, project, notices, requests, all } = await setUp();
    await send("need a token?");
    expect((await store.conversations.get(conversation.id)).awaitingSecrets).toEqual({
      projectId: project.id,
      keys: ["TELEGRAM_BOT_TOKEN"],
    });
    const token = newBot("weather_helper_bot");
    const stored = await send(token);
    expect(stored.text).toBe("[secret TELEGRAM_BOT_TOKEN]");
    expect(await notices()).toContain(
      "✅ That token belongs to @weather_helper_bot, stored for Weather bot.",
    );
    const [meta] = await store.secrets.listMeta(project.id);
    expect(meta).toMatchObject({
      key: "TELEGRAM_BOT_TOKEN",
      isFilled: true,
      bot: { username: "weather_helper_bot" },
    });
    expect((await store.conversations.get(conversation.id)).awaitingSecrets).toBeNull();
    expect(JSON.stringify(requests)).not.toContain(token);
    expect(JSON.stringify(await all())).not.toContain(token);
  });

  it("gives a malformed token, one Telegram refuses and one another project runs each its own answer, keeping none", async () => {
    const { send, project, notices, conversation } = await setUp();
    await send("need a token?");
    await send("123456:not-a-bot-token");
    expect((await notices()).at(-1)).toContain("That is not a bot token");
    await send(`${botNumber + 500}:${"Q".repeat(35)}`);
    expect((await notices()).at(-1)).toContain("Telegram does not accept that token");
    const taken = newBot("taken_bot");
    const other = await store.projects.create({ name: "Other", template: "telegram-bot" });
    await store.secrets.put({
      projectId: other.id,
      key: "TELEGRAM_BOT_TOKEN",
      kind: "user",
      ciphertext: "sealed",
      length: taken.length,
      createdBy: null,
      bot: { id: taken.split(":")[0] as string, username: "taken_bot" },
    });
    await send(taken);
    expect((await notices()).at(-1)).toContain("@taken_bot already runs for another project");
    expect(await store.secrets.listMeta(project.id)).toEqual([]);
    expect(await store.secrets.listHeld(conversation.id)).toEqual([]);
    // Still waiting for a good one.
    expect((await store.conversations.get(conversation.id)).awaitingSecrets?.keys).toEqual([
      "TELEGRAM_BOT_TOKEN",
    ]);
  });

  it("fills two awaited secrets from one message of NAME=value lines", async () => {
    const { send, conversation, project } = await setUp();
    await store.conversations.update(conversation.id, {
      awaitingSecrets: { projectId: project.id, keys: ["WEATHER_API_KEY", "MAPS_API_KEY"] },
    });
    const weather = `Wk${randomBytes(16).toString("hex")}`;
    const maps = `Mp${randomBytes(16).toString("hex")}`;
    const stored = await send(`WEATHER_API_KEY=${weather}\nMAPS_API_KEY=${maps}`);
    expect(stored.text).toBe("WEATHER_API_KEY=[secret WEATHER_API_KEY]\nMAPS_API_KEY=[secret MAPS_API_KEY]");
    expect((await store.secrets.listMeta(project.id)).map((s) => s.key)).toEqual([
      "MAPS_API_KEY",
      "WEATHER_API_KEY",
    ]);
    expect((await store.conversations.get(conversation.id)).awaitingSecrets).toBeNull();
  });

  it("passes words to the PO while a secret is awaited: only a bare credential-like value fills it", async () => {
    const { send, conversation, project } = await setUp();
    await send("need a token?");
    expect((await send("Wonderful")).text).toBe("Wonderful");
    expect((await send("I will get it tomorrow")).text).toBe("I will get it tomorrow");
    expect(await store.secrets.listMeta(project.id)).toEqual([]);
    expect((await store.conversations.get(conversation.id)).awaitingSecrets?.keys).toEqual([
      "TELEGRAM_BOT_TOKEN",
    ]);
  });

  it("reports a webhook set elsewhere and removes it only when the person presses the button", async () => {
    const { send, conversation, all, m } = await setUp();
    const token = newBot("hooked_bot");
    await fetch(
      `${telegram.url}/bot${token}/setWebhook?url=${encodeURIComponent("https://elsewhere.example/hook")}`,
    );
    await send(`here it is: ${token}`);
    const warning = (await all()).find((x) =>
      x.text.includes("has a webhook set to https://elsewhere.example/hook"),
    );
    expect(warning?.buttons).toEqual([{ text: "Remove the webhook", data: "webhook:held" }]);
    expect(telegram.callsOf("deleteWebhook").filter((c) => c.token === token)).toEqual([]);
    await m.service.press({
      channel: "web",
      chatId: (await store.conversations.get(conversation.id)).chatId,
      data: "webhook:held",
      sender: { externalId: "x", name: "x", username: null, languageCode: null },
    });
    expect(telegram.callsOf("deleteWebhook").filter((c) => c.token === token)).toHaveLength(1);
    expect((await all()).at(-1)?.text).toBe(
      "✅ The webhook is removed: @hooked_bot gets its updates here now.",
    );
  });

  it("takes a secret out of the middle of a long message and lets the PO read the rest", async () => {
    const { send, conversation, requests } = await setUp();
    const key = `sk-ant-api03-${randomBytes(30).toString("base64url")}`;
    const long = `${"I want a bot that summarises the news every morning. ".repeat(40)}Use my key ${key} for it. ${"It should speak English and Russian. ".repeat(40)}`;
    const stored = await send(long);
    expect(stored.text).toContain("Use my key [secret ANTHROPIC_API_KEY] for it.");
    expect(stored.text.length).toBeGreaterThan(3000);
    expect((await store.secrets.listHeld(conversation.id)).map((h) => h.key)).toEqual(["ANTHROPIC_API_KEY"]);
    expect(JSON.stringify(requests)).toContain("[secret ANTHROPIC_API_KEY]");
    expect(JSON.stringify(requests)).not.toContain(key);
  });

  it("refuses a secret too large to keep, keeping nothing of it", async () => {
    const { send, conversation, notices } = await setUp();
    const pem = `-----BEGIN PRIVATE KEY-----\n${randomBytes(9_000).toString("base64")}\n-----END PRIVATE KEY-----`;
    const stored = await send(`my key:\n${pem}`);
    expect(stored.text).toBe("my key:\n[secret PRIVATE_KEY]");
    expect((await notices()).join("\n")).toContain(
      "PRIVATE_KEY in your message is too large to keep as a secret",
    );
    expect(await store.secrets.listHeld(conversation.id)).toEqual([]);
  });

  it("stores the web chat's masked field value for the project, never as a message", async () => {
    const { send, m, principal, conversation, project, all } = await setUp();
    await send("need a token?");
    const token = newBot("masked_field_bot");
    const answer = await m.web.fillSecret(principal, conversation.id, "TELEGRAM_BOT_TOKEN", token);
    expect(answer.notices).toEqual(["✅ That token belongs to @masked_field_bot, stored for Weather bot."]);
    expect((await store.secrets.listMeta(project.id))[0]?.bot?.username).toBe("masked_field_bot");
    expect((await all()).filter((x) => x.role === "person").map((x) => x.text)).toEqual(["need a token?"]);
    expect(JSON.stringify(await all())).not.toContain(token);
    // A name nobody asked for is not stored.
    const refused = await m.web.fillSecret(principal, conversation.id, "OTHER_KEY", "value-123456");
    expect(refused.notices[0]).toContain("Nothing asked for OTHER_KEY");
    expect((await store.secrets.listMeta(project.id)).map((s) => s.key)).toEqual(["TELEGRAM_BOT_TOKEN"]);
  });
});
