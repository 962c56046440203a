import { Api, GrammyError } from "grammy";
import type { BotIdentity } from "../contracts/index.js";

/** How long one Bot API call may take before the check says Telegram could not be reached. */
const CALL_TIMEOUT_SECONDS = 10;

/** What asking Telegram about a token can answer: an answer, a refusal, or no answer at all. */
export type BotApiAnswer<T> =
  | { ok: true; value: T }
  | { ok: false; reason: "rejected"; status: number; description: string }
  | { ok: false; reason: "unreachable"; description: string };

/**
 * The Bot API calls the vault makes about a token it is given: who the bot is, whether a webhook
 * takes its updates, and removing that webhook. The token goes only into the request path.
 */
export interface TelegramBotApi {
  getMe(token: string): Promise<BotApiAnswer<BotIdentity>>;
  webhookOf(token: string): Promise<BotApiAnswer<string | null>>;
  deleteWebhook(token: string): Promise<BotApiAnswer<true>>;
}

/** The Bot API at `apiRoot` (Telegram's, or a local Bot API server / a test's fake) through grammY. */
export function telegramBotApi(apiRoot: string | null): TelegramBotApi {
  const api = (token: string) =>
    new Api(token, {
      ...(apiRoot ? { apiRoot: apiRoot.replace(/\/+$/, "") } : {}),
      timeoutSeconds: CALL_TIMEOUT_SECONDS,
    });
  return {
    getMe: (token) =>
      answer(async () => {
        const me = await api(token).getMe();
        return { id: String(me.id), username: me.username };
      }),
    webhookOf: (token) =>
      answer(async () => {
        const info = await api(token).getWebhookInfo();
        return info.url ? info.url : null;
      }),
    deleteWebhook: (token) => answer(() => api(token).deleteWebhook({ drop_pending_updates: false })),
  };
}

/** Telegram's answers about a token itself: unknown or revoked. A 5xx or 429 is about Telegram. */
const REFUSALS = new Set([401, 403, 404]);

async function answer<T>(call: () => Promise<T>): Promise<BotApiAnswer<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    // Telegram answered and said no (401 for a revoked or unknown token); anything else is the
    // network or Telegram itself, and says nothing about the token. Never the error's text: grammY's
    // messages can carry the request URL, which holds the token.
    if (error instanceof GrammyError && REFUSALS.has(error.error_code)) {
      return { ok: false, reason: "rejected", status: error.error_code, description: error.description };
    }
    const description =
      error instanceof GrammyError
        ? `${error.error_code} ${error.description}`
        : error instanceof Error
          ? error.name
          : "error";
    return { ok: false, reason: "unreachable", description };
  }
}
