import { autoRetry } from "@grammyjs/auto-retry";
import { type RunnerHandle, run, sequentialize } from "@grammyjs/runner";
import { Bot, type BotError, type Context, GrammyError, HttpError, session } from "grammy";
import type { Config } from "./config.js";
import type { BotContext } from "./context.js";
import type { Deps, Logger } from "./deps.js";
import { features as allFeatures, type Feature } from "./features/index.js";
import { storeAdapter } from "./store.js";

/** Deadline of one Bot API call, in seconds (long polls ask for at most `POLL_SECONDS`). */
const API_TIMEOUT_SECONDS = 60;
const POLL_SECONDS = 30;
/** How long a stop waits for the updates being handled, by default. */
const DRAIN_MS = 10_000;

/** The per-chat key of sessions and of the runner's ordering: updates of one chat run one at a time. */
function chatKey(ctx: Context): string | undefined {
  return ctx.chat?.id.toString();
}

/**
 * Builds the bot: auto-retry on rate limits, per-chat ordering, a session per chat on DATA_DIR,
 * then every feature, each behind its own error boundary. Does not start it (see `startPolling`).
 */
export function createBot(config: Config, deps: Deps, features: Feature[] = allFeatures): Bot<BotContext> {
  const bot = new Bot<BotContext>(config.token, {
    client: { timeoutSeconds: API_TIMEOUT_SECONDS, ...(config.apiRoot ? { apiRoot: config.apiRoot } : {}) },
  });
  // Waits out 429 "retry after" (up to a minute, three times); network errors are reported, not retried.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60, rethrowHttpErrors: true }));

  bot.use(sequentialize(chatKey));
  bot.use(
    session({ initial: () => ({}), storage: storeAdapter(deps.stores.sessions), getSessionKey: chatKey }),
  );
  for (const feature of features) {
    bot.errorBoundary(reportError(deps.log, feature.name)).use(feature.composer(deps));
  }
  bot.catch(reportError(deps.log, "bot"));
  return bot;
}

/** The commands shown in Telegram's menu, taken from the features. */
export function commandList(features: Feature[] = allFeatures): { command: string; description: string }[] {
  return features.flatMap((feature) => feature.commands);
}

/** One line telling a Telegram API error from a network error from a bug. */
export function describeError(error: unknown): string {
  if (error instanceof GrammyError)
    return `Telegram API error: ${error.method} answered ${error.error_code} ${error.description}`;
  if (error instanceof HttpError) return `network error calling Telegram: ${error.message}`;
  if (error instanceof Error)
    return `${error.name}: ${error.message}${error.stack ? `\n${error.stack}` : ""}`;
  return `thrown: ${String(error)}`;
}

/**
 * Logs an error of `where` (a feature, or the bot) with the update it broke; for a bug (not an
 * error of Telegram or the network) tells the person something went wrong.
 */
function reportError(log: Logger, where: string) {
  return async (err: BotError<BotContext>): Promise<void> => {
    log.error(`[${where}] update ${err.ctx.update.update_id}: ${describeError(err.error)}`);
    const telegram = err.error instanceof GrammyError || err.error instanceof HttpError;
    if (!telegram && err.ctx.chat) {
      await err.ctx.reply("Sorry, something went wrong. Please try again.").catch((error: unknown) => {
        log.error(`[${where}] could not say so: ${describeError(error)}`);
      });
    }
  };
}

/** A bot receiving updates (see `startPolling`). */
export interface Polling {
  handle: RunnerHandle;
  /** Stops fetching, waits for the updates in hand, confirms them to Telegram. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts long polling with grammY's runner: updates are handled concurrently, one chat at a time
 * (see `sequentialize` in `createBot`), so a slow chat does not hold up the others.
 */
export function startPolling(bot: Bot<BotContext>, log: Logger, { drainMs = DRAIN_MS } = {}): Polling {
  let lastSeen = -1;
  bot.api.config.use(async (prev, method, payload, signal) => {
    const result = await prev(method, payload, signal);
    if (method === "getUpdates" && result.ok)
      for (const update of result.result as { update_id: number }[])
        lastSeen = Math.max(lastSeen, update.update_id);
    return result;
  });
  const handle = run(bot, { runner: { fetch: { timeout: POLL_SECONDS }, silent: false } });
  let stopping: Promise<void> | undefined;
  const stop = async () => {
    await handle.stop();
    const deadline = Date.now() + drainMs;
    while (handle.size() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (handle.size() > 0) log.error(`stopping with ${handle.size()} update(s) still being handled`);
    // The runner confirms updates with the next poll; confirm the last ones now, or they come again.
    if (lastSeen >= 0)
      await bot.api.getUpdates({ offset: lastSeen + 1, limit: 1, timeout: 0 }).catch((error: unknown) => {
        log.error(`could not confirm the last updates: ${describeError(error)}`);
      });
  };
  return {
    handle,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}
