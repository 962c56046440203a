/**
 * Two API processes' chat modules on one store and one bot: only the holder of the `chat.telegram`
 * lease talks to Telegram, and when it stops the other takes over, answering each message once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeTelegram, startFakeTelegram } from "../../test/fakes/telegram/index.js";
import { testChatModule } from "../../test/support/chat-module.js";
import { openTestStore } from "../../test/support/store.js";
import { ScriptedProvider } from "../llm/index.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";

const TOKEN = "700100:AAH-telegram-lease-test-bot_0123456";
const CHAT = 4_242;

let store: Store;
let tg: FakeTelegram;
const _logger = createLogger({ level: "silent", redactor: new SecretRedactor() });

beforeAll(async () => {
  store = await openTestStore();
  tg = await startFakeTelegram({ token: TOKEN, username: "lease_test_bot" });
});
afterAll(async () => {
  await tg?.close();
  await store?.close();
});

function chatModule(holder: string, answer: string) {
  return testChatModule({
    store,
    holder,
    telegram: { token: TOKEN, apiRoot: tg.url, admins: [String(CHAT)] },
    // Each process answers in its own words: the reply tells who handled the message.
    provider: new ScriptedProvider(() => ({ toolCalls: [{ name: "respond", input: { text: answer } }] })),
  });
}

describe("the chat.telegram lease", () => {
  it("lets one process talk to Telegram; the other takes over when it stops", {
    timeout: 60_000,
  }, async () => {
    const first = chatModule("api-1", "from the first process");
    const second = chatModule("api-2", "from the second process");
    await first.start();
    await second.start();
    try {
      tg.pushMessage(CHAT, "hello", { token: TOKEN, firstName: "Ann", languageCode: "en" });
      const [one] = await tg.waitForMessages(CHAT, 1, 20_000);
      expect(one?.text).toBe("[scripted PO] from the first process");

      await first.stop();
      tg.pushMessage(CHAT, "still there?", { token: TOKEN, firstName: "Ann", languageCode: "en" });
      const answered = await tg.waitForMessages(CHAT, 2, 30_000);
      expect(answered[1]?.text).toBe("[scripted PO] from the second process");

      // Each message was answered once, by one process.
      await second.drained();
      expect(tg.sentMessages(CHAT).map((m) => m.text)).toEqual([
        "[scripted PO] from the first process",
        "[scripted PO] from the second process",
      ]);
    } finally {
      await first.stop();
      await second.stop();
    }
  });
});
