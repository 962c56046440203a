/**
 * The conversation service through the web chat on a real (embedded) store and tool registry: the
 * queue, commands, the PO's words checked against the store, model errors, summaries. The model is
 * a script (the only part that would be on the internet).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeTelegram, startFakeTelegram } from "../../test/fakes/telegram/index.js";
import { testChatModule } from "../../test/support/chat-module.js";
import { openTestStore } from "../../test/support/store.js";
import {
  AppError,
  type ChatMessage,
  type ModelRequest,
  type ModelTurn,
  type Principal,
} from "../contracts/index.js";
import { type ModelProvider, type ModelScript, ScriptedProvider } from "../llm/index.js";
import { SUMMARY_INSTRUCTION } from "../po/index.js";
import type { Store } from "../store/index.js";
import type { ChatModule } from "./module.js";

let store: Store;
let telegram: FakeTelegram;
const modules: ChatModule[] = [];

/** Bots the Bot API knows: the tokens people paste below are checked with it. */
const BOTS = [
  { token: "7012345678:AAHk3f9Qx_2LmN8pRtVw-4YzBc6DeFgHiJk", username: "jokes_one_bot" },
  { token: "6098765432:AAG1b2C3d4E5f6G7h8I9j0K-LmNoPqRsTuV", username: "jokes_two_bot" },
  { token: "5012345678:AAF1b2C3d4E5f6G7h8I9j0K-LmNoPqRsTuV", username: "jokes_three_bot" },
];

beforeAll(async () => {
  store = await openTestStore();
  telegram = await startFakeTelegram(BOTS[0] as (typeof BOTS)[number]);
  for (const bot of BOTS.slice(1)) telegram.addBot(bot);
});
afterAll(async () => {
  for (const m of modules) await m.stop();
  await telegram?.close();
  await store?.close();
});

/** A model that plays `script`, each call taking `delayMs`, recording what it was asked. */
function model(script: ModelScript, delayMs = 0) {
  const requests: ModelRequest[] = [];
  const inner = new ScriptedProvider(script);
  const provider: ModelProvider = {
    kind: "anthropic",
    defaultModel: "claude-test",
    async complete(request, options) {
      requests.push(request);
      await new Promise((r) => setTimeout(r, delayMs));
      const turn: ModelTurn = await inner.complete(request, options);
      return { ...turn, provider: "anthropic", model: "claude-test" };
    },
  };
  return { provider, requests };
}

async function chat(
  provider: ModelProvider,
  history?: { limit: number; summaryTokens: number; keepRecent: number },
) {
  const m = testChatModule({ store, provider, botApiRoot: telegram.url, ...(history ? { history } : {}) });
  modules.push(m);
  await m.start();
  const user = await store.users.create({ name: "Web person", webLogin: `p-${Math.random()}` });
  const principal: Principal = { kind: "user", tokenId: "t", userId: user.id };
  const conversation = await m.web.create(principal, "en");
  const send = (text: string, clientId?: string) =>
    m.web.post(principal, conversation.id, text, clientId ?? null);
  const all = async (): Promise<ChatMessage[]> =>
    store.conversations.listMessages(conversation.id, { limit: 1000 });
  return { m, principal, conversation, send, all, user };
}

const lastPersonText = (request: ModelRequest) => {
  const texts = request.messages
    .filter((m) => m.role === "user")
    .flatMap((m) => m.content)
    .filter((c) => c.type === "text");
  return texts.at(-1)?.type === "text" ? (texts.at(-1) as { text: string }).text : "";
};

describe("ChatService", () => {
  it("answers queued messages one at a time, in order, each once", async () => {
    const { provider } = model(
      (r) => ({ toolCalls: [{ name: "respond", input: { text: `re: ${lastPersonText(r)}` } }] }),
      60,
    );
    const { m, send, all } = await chat(provider);
    await Promise.all([send("one"), send("two"), send("three")]);
    await m.drained();
    const messages = await all();
    const person = messages.filter((x) => x.role === "person").map((x) => x.text);
    const replies = messages.filter((x) => x.role === "po").map((x) => x.text);
    expect(replies).toEqual(person.map((t) => `re: ${t}`));
    expect(messages.filter((x) => x.role === "person").every((x) => x.status === "handled")).toBe(true);
  });

  it("takes a pasted secret out before anything keeps it, holds it sealed and says so", async () => {
    const token = "7012345678:AAHk3f9Qx_2LmN8pRtVw-4YzBc6DeFgHiJk";
    const { provider, requests } = model((r) => ({
      toolCalls: [{ name: "respond", input: { text: `re: ${lastPersonText(r)}` } }],
    }));
    const { m, send, all, conversation, principal } = await chat(provider);
    const stored = await send(`my bot token is ${token}, make it tell jokes`);
    expect(stored.text).toBe("my bot token is [secret TELEGRAM_BOT_TOKEN], make it tell jokes");
    await m.drained();
    // Held for the conversation, sealed.
    const held = await store.secrets.listHeld(conversation.id);
    expect(held.map((h) => h.key)).toEqual(["TELEGRAM_BOT_TOKEN"]);
    expect(JSON.stringify(held)).not.toContain(token);
    // The person is told, before the PO answers; the model saw only the reference.
    const texts = (await all()).map((x) => [x.role, x.text]);
    expect(texts[1]?.[0]).toBe("system");
    expect(texts[1]?.[1]).toContain("I took TELEGRAM_BOT_TOKEN out of your message");
    // Telegram was asked who the bot is before it was kept.
    expect(texts[2]).toEqual([
      "system",
      "✅ That token belongs to @jokes_one_bot, stored: it goes to the project we make.",
    ]);
    expect(texts[3]).toEqual(["po", "re: my bot token is [secret TELEGRAM_BOT_TOKEN], make it tell jokes"]);
    expect(JSON.stringify(requests)).not.toContain(token);
    expect(JSON.stringify(await all())).not.toContain(token);
    // The conversation is named after what was stored.
    const [view] = await m.web.conversations(principal);
    expect(view?.title).not.toContain(token);
  });

  it("hands the held secrets to the project the PO creates for the person", async () => {
    const token = "6098765432:AAG1b2C3d4E5f6G7h8I9j0K-LmNoPqRsTuV";
    const { provider } = model((r) =>
      lastPersonText(r).startsWith("build")
        ? {
            toolCalls: [
              { name: "project_create", input: { name: "Joke bot", description: "tells jokes" } },
              { name: "respond", input: { text: "Created Joke bot." } },
            ],
          }
        : { toolCalls: [{ name: "respond", input: { text: "Noted." } }] },
    );
    const { m, send, conversation, user } = await chat(provider);
    await send(`token: ${token}`);
    await m.drained();
    expect((await store.secrets.listHeld(conversation.id)).map((h) => h.key)).toEqual(["TELEGRAM_BOT_TOKEN"]);
    await send("build a joke bot with it");
    await m.drained();
    const [project] = (await store.projects.list({ ownerId: user.id, limit: 10, offset: 0 })).items;
    expect(project?.name).toBe("Joke bot");
    const kept = await store.secrets.listMeta(project?.id ?? null);
    expect(kept.map((s) => [s.key, s.kind, s.length])).toEqual([
      ["TELEGRAM_BOT_TOKEN", "user", token.length],
    ]);
    expect(await store.secrets.listHeld(conversation.id)).toEqual([]);
  });

  it("keeps held secrets from a project the PO only reads, and hands them to the one it builds", async () => {
    const token = "5012345678:AAF1b2C3d4E5f6G7h8I9j0K-LmNoPqRsTuV";
    let projectId = "";
    const { provider } = model((r) => {
      const said = lastPersonText(r);
      if (said.startsWith("status")) {
        return {
          toolCalls: [
            { name: "project_status", input: { projectId } },
            { name: "respond", input: { text: "It is a draft." } },
          ],
        };
      }
      if (said.startsWith("build")) {
        return {
          toolCalls: [
            { name: "engineering_start", input: { projectId, brief: "a bot that tells jokes" } },
            { name: "respond", input: { text: "Building." } },
          ],
        };
      }
      return { toolCalls: [{ name: "respond", input: { text: "Noted." } }] };
    });
    const { m, send, conversation, user } = await chat(provider);
    projectId = (await store.projects.create({ name: "Existing bot", ownerId: user.id })).id;
    await send(`token: ${token}`);
    await send("status of my bot?");
    await m.drained();
    expect((await store.secrets.listHeld(conversation.id)).map((h) => h.key)).toEqual(["TELEGRAM_BOT_TOKEN"]);
    expect(await store.secrets.listMeta(projectId)).toEqual([]);
    await send("build it");
    await m.drained();
    expect((await store.secrets.listMeta(projectId)).map((s) => s.key)).toEqual(["TELEGRAM_BOT_TOKEN"]);
    expect(await store.secrets.listHeld(conversation.id)).toEqual([]);
  });

  it("stores a retried post once", async () => {
    const { provider } = model(() => ({ text: "ok" }));
    const { m, send, all } = await chat(provider);
    await send("hello", "c-1");
    await send("hello", "c-1");
    await m.drained();
    expect((await all()).filter((x) => x.role === "person")).toHaveLength(1);
    expect((await all()).filter((x) => x.role === "po")).toHaveLength(1);
  });

  it("answers commands without the model", async () => {
    const { provider, requests } = model(() => ({ text: "never" }));
    const { m, send, all } = await chat(provider);
    await send("/help");
    await send("/projects");
    await send("/frobnicate");
    await m.drained();
    expect(requests).toHaveLength(0);
    const texts = (await all()).filter((x) => x.role !== "person").map((x) => x.text);
    expect(texts[0]).toContain("/projects");
    expect(texts[1]).toBe("You have no projects yet. Tell me what to build.");
    expect(texts[2]).toContain("I do not know /frobnicate");
  });

  it("does not pass on a link or a live claim the store does not back", async () => {
    const { provider } = model(() => ({ text: "Your bot is live at https://t.me/invented_bot 🎉" }));
    const { m, send, all } = await chat(provider);
    await send("is it done?");
    await m.drained();
    const reply = (await all()).find((x) => x.role === "po");
    expect(reply?.text).not.toContain("invented_bot");
    expect(reply?.text).toContain("I cannot confirm");
    expect(reply?.text).toContain("None of your projects is live yet.");
  });

  it("tells the person the truth when the model fails, and answers again once it is back", async () => {
    let failing = true;
    const provider: ModelProvider = {
      kind: "anthropic",
      defaultModel: "claude-test",
      async complete() {
        if (failing)
          throw new AppError("unavailable", "model_timeout", "the model did not answer within 10 ms");
        return {
          provider: "anthropic",
          model: "claude-test",
          content: [{ type: "text", text: "back" }],
          stop: "end",
          usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
        };
      },
    };
    const { m, send, all } = await chat(provider);
    await send("hello?");
    await m.drained();
    const error = (await all()).find((x) => x.role === "po");
    expect(error).toMatchObject({ kind: "error" });
    expect(error?.text).toContain("did not answer in time");
    failing = false;
    await send("hello again");
    await m.drained();
    expect((await all()).filter((x) => x.role === "po").at(-1)?.text).toBe("back");
  });

  it("folds old history into a summary once it grows past the threshold", async () => {
    const { provider, requests } = model((r) =>
      r.system.startsWith(SUMMARY_INSTRUCTION) ? { text: "SUMMARY: they want a clock" } : { text: "noted" },
    );
    const { m, send, conversation } = await chat(provider, { limit: 40, summaryTokens: 60, keepRecent: 2 });
    for (const text of ["a".repeat(120), "b".repeat(120), "c".repeat(120), "d"]) {
      await send(text);
      await m.drained();
    }
    const summaryCalls = requests.filter((r) => r.system.startsWith(SUMMARY_INSTRUCTION));
    expect(summaryCalls.length).toBeGreaterThan(0);
    const stored = await store.conversations.get(conversation.id);
    expect(stored.summary).toBe("SUMMARY: they want a clock");
    expect(stored.summarizedThrough).toBeGreaterThan(0);
    const last = requests.filter((r) => !r.system.startsWith(SUMMARY_INSTRUCTION)).at(-1);
    expect(last?.system).toContain("SUMMARY: they want a clock");
    expect(JSON.stringify(last?.messages)).not.toContain("a".repeat(120));
  });

  it("/new starts a fresh context and /cancel drops what waits", async () => {
    const { provider, requests } = model((r) => ({ text: `re: ${lastPersonText(r)}` }), 300);
    const { m, send, all, conversation } = await chat(provider);
    await send("remember the word banana");
    await m.drained();
    await send("/new");
    await send("what was the word?");
    await m.drained();
    expect(JSON.stringify(requests.at(-1)?.messages)).not.toContain("banana");
    await send("slow one");
    await send("queued one");
    await send("/cancel");
    await m.drained();
    const texts = (await all()).map((x) => x.text);
    expect(texts.some((t) => t.startsWith("Stopped."))).toBe(true);
    expect(texts).not.toContain("re: queued one");
    expect((await store.conversations.nextQueued(conversation.id)) === null).toBe(true);
  });
});
