import type { Bot } from "grammy";
import { createBot } from "../../src/bot.js";
import { readConfig } from "../../src/config.js";
import { type FakeBotApi, type SentMessage, startFakeBotApi } from "./fake-bot-api.js";

const TOKEN = "123456:acceptance-token";
const ANSWER_DEADLINE_MS = 10_000;

/** The bot running against a fake Bot API for one acceptance test file. */
export interface RunningBot {
  /** Sends `text` as a person in chat `chatId`; resolves with the bot's next answer in that chat. */
  ask(chatId: number, text: string): Promise<string>;
  /** Every message the bot sent, in order. */
  sent: SentMessage[];
  stop(): Promise<void>;
}

/** Starts the real bot (long polling) against a fake Bot API, with `env` added to its settings. */
export async function startBot(env: Record<string, string> = {}): Promise<RunningBot> {
  const api: FakeBotApi = await startFakeBotApi(TOKEN);
  const bot: Bot = createBot(readConfig({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.url, ...env }));
  let running: Promise<void> = Promise.resolve();
  await new Promise<void>((resolve) => {
    running = bot.start({ timeout: 1, onStart: () => resolve() });
  });
  return {
    sent: api.sent,
    async ask(chatId, text) {
      const answer = api.nextSent(chatId);
      api.pushMessage(chatId, text);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the bot did not answer ${JSON.stringify(text)}`)),
          ANSWER_DEADLINE_MS,
        );
      });
      try {
        return (await Promise.race([answer, late])).text;
      } finally {
        clearTimeout(timer);
      }
    },
    async stop() {
      await bot.stop();
      await running;
      await api.close();
    },
  };
}
