/**
 * Faults around a conversation, with `orchestrator up` as a user runs it (Telegram and the model
 * faked over HTTP), each ending with the person told the truth: the model failing (500), overloaded
 * (529) or silent past PO_TURN_TIMEOUT gives a short message from the catalogue and the next message
 * works once the model is back; Telegram rate-limiting or refusing the markup still gets the reply
 * through; a PO that claims a live bot before any deploy is not believed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTranslator } from "../../src/chat/index.js";
import {
  answerEveryMessage,
  answerTo,
  type ChatOrchestrator,
  startChatOrchestrator,
  textsIn,
} from "../support/chat-orchestrator.js";

const t = createTranslator();
/** PO_TURN_TIMEOUT: longer than the provider's retries of a failing model (about 3.5 s), short to wait for. */
const TURN_TIMEOUT_S = 6;
const CHATS = {
  failing: 7_001,
  overloaded: 7_002,
  silent: 7_003,
  rateLimited: 7_004,
  badMarkup: 7_005,
  linkClaim: 7_006,
  botClaim: 7_007,
};

let h: ChatOrchestrator;

beforeAll(async () => {
  h = await startChatOrchestrator({
    admins: Object.values(CHATS),
    env: { PO_TURN_TIMEOUT: `${TURN_TIMEOUT_S}s` },
  });
  await h.start();
}, 120_000);
afterAll(async () => {
  await h?.close();
});

/** Writes and waits for the chat's `count`-th message from the bot; answers its text. */
async function write(chat: number, text: string, count: number): Promise<string> {
  h.tg.pushMessage(chat, text, { languageCode: "en" });
  const messages = await h.tg.waitForMessages(chat, count, 60_000);
  return textsIn(h.tg, chat)[messages.length - 1] ?? "";
}

/** The statuses of the bot's sendMessage calls to a chat, in order. */
const sendStatuses = (chat: number) =>
  h.tg
    .callsOf("sendMessage")
    .filter((c) => Number(c.params.chat_id) === chat)
    .map((c) => c.status);

describe("a conversation meeting faults", { timeout: 120_000 }, () => {
  it("a model failing with 500 is said plainly; the next message works once it is back", async () => {
    const before = h.model.conversation().length;
    h.model.setFailure("api_error");
    expect(await write(CHATS.failing, "make me a weather bot", 1)).toBe(t("en", "error.model_unavailable"));
    // The provider retried before giving up.
    expect(h.model.conversation().length - before).toBeGreaterThan(1);
    h.model.setFailure("none");
    answerEveryMessage(h.model, 1);
    expect(await write(CHATS.failing, "again, please", 2)).toBe(answerTo("again, please"));
    expect(textsIn(h.tg, CHATS.failing)).toHaveLength(2);
  });

  it("an overloaded model (529) is said plainly; the next message works once it is back", async () => {
    h.model.setFailure("overloaded");
    expect(await write(CHATS.overloaded, "make me a weather bot", 1)).toBe(
      t("en", "error.model_unavailable"),
    );
    h.model.setFailure("none");
    answerEveryMessage(h.model, 1);
    expect(await write(CHATS.overloaded, "again, please", 2)).toBe(answerTo("again, please"));
  });

  it("a model that does not answer within PO_TURN_TIMEOUT is said plainly; the next message works", async () => {
    h.latency.hold();
    const started = Date.now();
    expect(await write(CHATS.silent, "make me a weather bot", 1)).toBe(t("en", "error.model_timeout"));
    const waitedMs = Date.now() - started;
    expect(waitedMs).toBeGreaterThanOrEqual(TURN_TIMEOUT_S * 1_000 - 500);
    expect(waitedMs).toBeLessThan(TURN_TIMEOUT_S * 1_000 + 15_000);
    h.latency.release();
    answerEveryMessage(h.model, 1);
    expect(await write(CHATS.silent, "again, please", 2)).toBe(answerTo("again, please"));
  });

  it("a reply Telegram rate-limits (429) still arrives, once", async () => {
    answerEveryMessage(h.model, 1);
    h.tg.failNext("sendMessage", { status: 429, retryAfter: 1 });
    expect(await write(CHATS.rateLimited, "how are you?", 1)).toBe(answerTo("how are you?"));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(textsIn(h.tg, CHATS.rateLimited)).toEqual([answerTo("how are you?")]);
    expect(sendStatuses(CHATS.rateLimited)).toEqual([429, 200]);
  });

  it("a reply whose markup Telegram refuses arrives as plain text", async () => {
    const plan = "The plan: **weather** for `/weather` & <city>";
    h.model.enqueue(plan);
    h.tg.failNext("sendMessage", {
      status: 400,
      description: "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
    });
    expect(await write(CHATS.badMarkup, "what is the plan?", 1)).toBe(plan);
    // Markup that cannot nest, refused by the fake itself.
    const tangled = "a **tangled `reply** here`";
    h.model.enqueue(tangled);
    expect(await write(CHATS.badMarkup, "and then?", 2)).toBe(tangled);
    const sent = h.tg.sentMessages(CHATS.badMarkup);
    expect(sent.map((m) => [m.text, m.parseMode])).toEqual([
      [plan, undefined],
      [tangled, undefined],
    ]);
    expect(sendStatuses(CHATS.badMarkup)).toEqual([400, 200, 400, 200]);
  });

  it("a PO claiming a live bot link before any deploy is not believed: the person gets what the store knows", async () => {
    h.model.enqueue(
      { toolUse: { name: "project_create", input: { name: "Weather bot" } } },
      "Done! Your bot is live at https://t.me/some_bot 🎉",
    );
    const said = await write(CHATS.linkClaim, "make me a weather bot", 1);
    expect(said).toBe(
      [
        t("en", "guard.unverified"),
        t("en", "projects.item", { name: "Weather bot", status: t("en", "projectStatus.draft") }),
        t("en", "guard.nothingLive"),
      ].join("\n"),
    );
  });

  it("a PO claiming '@some_bot is live' before any deploy is not believed either", async () => {
    h.model.enqueue("Great news: @some_bot is live, try it!");
    const said = await write(CHATS.botClaim, "is it ready?", 1);
    expect(said).toBe(
      [t("en", "guard.unverified"), t("en", "projects.none"), t("en", "guard.nothingLive")].join("\n"),
    );
    for (const chat of [CHATS.linkClaim, CHATS.botClaim]) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const texts = textsIn(h.tg, chat);
      expect(texts).toHaveLength(1);
      expect(texts.join("\n")).not.toMatch(/some_bot|bot is live|try it/i);
    }
  });
});
