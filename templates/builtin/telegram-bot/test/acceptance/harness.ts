import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Bot } from "grammy";
import { createBot, type Polling, startPolling } from "../../src/bot.js";
import { readConfig } from "../../src/config.js";
import type { BotContext } from "../../src/context.js";
import { type Deps, openDeps } from "../../src/deps.js";
import type { Feature } from "../../src/features/index.js";
import { type ApiCall, type FakeBotApi, type SentMessage, startFakeBotApi } from "./fake-bot-api.js";

const TOKEN = "123456:acceptance-token";
/** How long `ask` and `press` wait for an answer: a feature that never answers fails here, by name. */
export const ANSWER_DEADLINE_MS = 5_000;

/** What a test may change about the bot it starts. */
export interface BotOptions {
  /** Replaces parts of the outside world (e.g. `fetch`, `callTimeoutMs`); the stores stay real. */
  deps?: Partial<Omit<Deps, "stores">>;
  /** The features to run instead of the bot's own list. */
  features?: Feature[];
}

/** The real bot, running against a fake Bot API, for one test file. */
export interface RunningBot {
  /** Sends `text` as a person in chat `chatId`; resolves with the bot's next answer in that chat. */
  ask(chatId: number, text: string): Promise<string>;
  /** Presses the inline button with `data` under the last message in `chatId`; resolves with the next text sent or edited there. */
  press(chatId: number, data: string): Promise<string>;
  /** Every message the bot sent or edited, in order (with its buttons). */
  sent: SentMessage[];
  /** Every Bot API call the bot made, in order. */
  calls: ApiCall[];
  /** What the bot logged (errors included), in order. */
  logs: string[];
  /** The bot's DATA_DIR: a fresh temporary folder unless `env.DATA_DIR` names one. */
  dataDir: string;
  /** The fake Bot API itself (e.g. `failNext`). */
  api: FakeBotApi;
  bot: Bot<BotContext>;
  stop(): Promise<void>;
}

/**
 * Starts the real bot (grammY runner, long polling) against a fake Bot API, with `env` added to its
 * settings; `DATA_DIR` defaults to a temporary folder removed by `stop`.
 */
export async function startBot(
  env: Record<string, string> = {},
  options: BotOptions = {},
): Promise<RunningBot> {
  const ownDataDir = env.DATA_DIR === undefined ? await mkdtemp(join(tmpdir(), "bot-data-")) : undefined;
  const api = await startFakeBotApi(TOKEN);
  const logs: string[] = [];
  const config = readConfig({
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: api.url,
    DATA_DIR: ownDataDir,
    ...env,
  });
  const deps = openDeps(config, {
    log: { info: (m) => logs.push(m), error: (m) => logs.push(`ERROR ${m}`) },
    ...options.deps,
  });
  const bot = createBot(config, deps, options.features);
  await bot.init();
  const polling: Polling = startPolling(bot, deps.log, { drainMs: 1_000 });

  const answer = async (chatId: number, what: string, push: () => void): Promise<string> => {
    const next = api.nextSent(chatId);
    push();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const tail = logs.slice(-5).join("\n  ");
        reject(
          new Error(
            `the bot did not answer ${what} in chat ${chatId} within ${ANSWER_DEADLINE_MS} ms${tail ? `; its last log lines:\n  ${tail}` : ""}`,
          ),
        );
      }, ANSWER_DEADLINE_MS);
    });
    try {
      return (await Promise.race([next, late])).text;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    sent: api.sent,
    calls: api.calls,
    logs,
    dataDir: config.dataDir,
    api,
    bot,
    ask: (chatId, text) => answer(chatId, JSON.stringify(text), () => api.pushMessage(chatId, text)),
    press: (chatId, data) =>
      answer(chatId, `the button ${JSON.stringify(data)}`, () => api.pushCallback(chatId, data)),
    async stop() {
      await polling.stop();
      await Promise.all(Object.values(deps.stores).map((store) => store.flushed()));
      await api.close();
      if (ownDataDir) await rm(ownDataDir, { recursive: true, force: true });
    },
  };
}
