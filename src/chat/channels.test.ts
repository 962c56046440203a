import { type FakeTelegram, startFakeTelegram } from "../../test/fakes/telegram/index.js";
import { checkText } from "../../test/fakes/telegram/markup.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { type ChannelPerson, chatChannelConformance, type SeenMessage } from "./channel.conformance.js";
import { TelegramChannel } from "./telegram/channel.js";
import { TELEGRAM_TEXT_LIMIT } from "./telegram/format.js";
import { WebChannel } from "./web.js";

const TOKEN = "700001:conformance-token-aaaaaaaaaaaa";
const SPARE_TOKEN = "700002:conformance-spare-bbbbbbbbbbbb";
const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });

function tags(html: string, tag: string): string[] {
  return [...html.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1] ?? "");
}

function telegramPerson(tg: FakeTelegram, token: string): ChannelPerson {
  return {
    write: (chatId, text) => void tg.pushMessage(Number(chatId), text, { token, firstName: "Ann" }),
    press: (chatId, data) => void tg.pushCallback(Number(chatId), data, { token }),
    pressAnswered: (chatId, notice) =>
      tg.callbackQueries(Number(chatId)).some((q) => q.token === token && q.answer?.text === notice),
    pending: () => tg.pendingUpdates(token),
    stillShows: (chatId, text) =>
      tg.userMessages(Number(chatId)).some((m) => m.token === token && m.text === text && !m.isDeleted),
  };
}

let nextChat = 91_000;

chatChannelConformance("telegram", async () => {
  const tg = await startFakeTelegram({ token: TOKEN, username: "conformance_bot" });
  tg.addBot({ token: SPARE_TOKEN, username: "conformance_spare_bot" });
  const channel = (token: string) =>
    new TelegramChannel({
      token,
      apiRoot: tg.url,
      webhookUrl: null,
      webhookSecret: "conformance-webhook-secret",
      commands: { default: [{ command: "help", description: "What I can do" }] },
      logger,
      // A rate limit longer than this comes back as a DeliveryError for the outbox to wait out.
      maxRetryDelaySeconds: 2,
    });
  return {
    channel: channel(TOKEN),
    newChat: () => String(nextChat++),
    async seen(chatId) {
      return tg
        .sentMessages(Number(chatId))
        .filter((m) => m.token === TOKEN && !m.isDeleted)
        .map((m): SeenMessage => {
          const checked = checkText(m.text, m.parseMode);
          if (!("visible" in checked))
            throw new Error(`the fake kept a message it refused: ${checked.error}`);
          const isHtml = m.parseMode === "HTML";
          return {
            id: String(m.messageId),
            text: checked.visible,
            isPlain: !isHtml,
            bold: isHtml ? tags(m.text, "b") : [],
            code: isHtml ? tags(m.text, "code") : [],
            buttons: (m.replyMarkup?.inline_keyboard.flat() ?? []).map((b) => String(b.callback_data)),
          };
        });
    },
    maxTextLength: TELEGRAM_TEXT_LIMIT,
    formats: true,
    buttons: true,
    faults: {
      rejectMarkupNext: () =>
        tg.failNext("sendMessage", {
          status: 400,
          description: 'Bad Request: can\'t parse entities: Unsupported start tag "b" at byte offset 4',
          token: TOKEN,
        }),
      rateLimitNext: (retryAfterS) =>
        tg.failNext("sendMessage", { status: 429, retryAfter: retryAfterS, token: TOKEN }),
      failTypingNext: () => tg.failNext("sendChatAction", { status: 500, token: TOKEN }),
      refusedSends: () =>
        tg.callsOf("sendMessage").filter((c) => c.token === TOKEN && c.status !== 200).length,
    },
    person: telegramPerson(tg, TOKEN),
    spare: async () => ({ channel: channel(SPARE_TOKEN), person: telegramPerson(tg, SPARE_TOKEN) }),
    close: () => tg.close(),
  };
});

chatChannelConformance("web", async (store: Store) => ({
  channel: new WebChannel(),
  newChat: () => `web-${nextChat++}`,
  // The browser shows what the store holds for the conversation, as the web chat's API gives it.
  async seen(chatId) {
    const conversation = await store.conversations.find("web", chatId);
    if (!conversation) return [];
    return (await store.conversations.listMessages(conversation.id, { limit: 500 }))
      .filter((m) => m.role !== "person" && m.status === "sent")
      .map((m) => ({ id: m.id, text: m.text, isPlain: true, bold: [], code: [], buttons: [] }));
  },
  maxTextLength: null,
  formats: false,
  buttons: { reason: "the web chat shows no buttons: access requests go to Telegram's admins" },
  faults: { reason: "the web chat's messages are rows in the store: no service in between refuses them" },
  person: { reason: "the web chat's messages reach the inbox through its API routes, not the channel" },
  spare: async () => ({ channel: new WebChannel(), person: null }),
  close: async () => {},
}));
