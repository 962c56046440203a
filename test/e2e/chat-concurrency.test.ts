/**
 * Fifty people write to the bot at once, three messages each, while the Product Owner is busy (the
 * model takes 200-500 ms per call). The real `orchestrator up` process, as a user runs it: its
 * composition, its polling, its embedded store and its outbox are what is under test, with the
 * Telegram Bot API and the model API faked over HTTP. Every message is answered once, in order,
 * in its own chat, and the PO only ever saw that chat's history.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  answerEveryMessage,
  answerTo,
  type ChatOrchestrator,
  lastPersonText,
  personTexts,
  startChatOrchestrator,
  textsIn,
} from "../support/chat-orchestrator.js";
import { until } from "../support/until.js";

const CHATS = Array.from({ length: 50 }, (_, i) => 5_001 + i);
const PER_CHAT = 3;
const said = (chat: number, n: number) => `chat ${chat} message ${n}`;

let h: ChatOrchestrator;

beforeAll(async () => {
  h = await startChatOrchestrator({ admins: CHATS });
  await h.start();
}, 120_000);
afterAll(async () => {
  await h?.close();
});

describe("fifty chats at once", () => {
  it("answers every message once, in order, in its own chat", { timeout: 180_000 }, async () => {
    // Every turn outlasts the wait before "typing" is shown.
    h.latency.setDelay(() => 350 + Math.floor(Math.random() * 300));
    answerEveryMessage(h.model, CHATS.length * PER_CHAT + 20);
    const started = Date.now();
    for (const chat of CHATS) h.tg.pushMessage(chat, said(chat, 1), { firstName: `P${chat}` });
    // The PO is working on many first messages when the second and third ones come in.
    const busy = await until("the PO to be busy", 30_000, async () =>
      h.latency.held >= 10 ? h.latency.held : null,
    );
    for (let n = 2; n <= PER_CHAT; n++) {
      for (const chat of CHATS) h.tg.pushMessage(chat, said(chat, n), { firstName: `P${chat}` });
    }
    for (const chat of CHATS) await h.tg.waitForMessages(chat, PER_CHAT, 150_000);
    const tookMs = Date.now() - started;
    // Anything answered twice would arrive by now.
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    for (const chat of CHATS) {
      expect(textsIn(h.tg, chat), `chat ${chat}`).toEqual(
        Array.from({ length: PER_CHAT }, (_, i) => answerTo(said(chat, i + 1))),
      );
    }
    // One model call per message (no turn ran twice), each seeing only its own chat, in order.
    const calls = h.model.conversation().map((r) => r.body as Parameters<typeof lastPersonText>[0]);
    expect(calls).toHaveLength(CHATS.length * PER_CHAT);
    const handled = new Set<string>();
    for (const body of calls) {
      const current = lastPersonText(body);
      const [, chat, n] = /^chat (\d+) message (\d+)$/.exec(current) ?? [];
      expect(chat, current).toBeDefined();
      expect(handled.has(current), `${current} handled twice`).toBe(false);
      handled.add(current);
      expect(personTexts(body)).toEqual(
        Array.from({ length: Number(n) }, (_, i) => said(Number(chat), i + 1)),
      );
    }
    // Every chat was told the PO was working.
    for (const chat of CHATS) expect(h.tg.chatActions(chat).length, `chat ${chat}`).toBeGreaterThan(0);
    expect(h.tg.pendingUpdates()).toBe(0);
    console.log(
      `150 messages in 50 chats answered in ${tookMs} ms; ${busy} model calls were in flight when the 100 follow-ups came`,
    );
  });
});
