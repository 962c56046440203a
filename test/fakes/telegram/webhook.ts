/**
 * Webhook delivery as Telegram does it: while a webhook is set, each update is POSTed to it as JSON,
 * with the `X-Telegram-Bot-Api-Secret-Token` header when a secret was given, and sent again until
 * the bot answers 2xx. A 2xx body naming a `method` is run as that bot's API call (grammY's webhook
 * reply). Updates go one at a time, in order, so a test sees them as the bot does.
 */
import { type Params, unixNow } from "./protocol.js";
import type { UpdateQueue } from "./updates.js";

/** Time one POST may take before it counts as failed. */
const POST_TIMEOUT_MS = 10_000;
/** Wait after a failed POST; it doubles up to the cap, as Telegram backs off (but faster). */
const RETRY_FIRST_DELAY_MS = 100;
const RETRY_MAX_DELAY_MS = 2_000;

/** The header carrying `secret_token`, lower-cased as Node reads it. */
export const SECRET_TOKEN_HEADER = "x-telegram-bot-api-secret-token";

/** Runs a method the bot answered a webhook POST with. */
export type WebhookReplyRunner = (method: string, params: Params) => Promise<void>;

interface Hook {
  url: string;
  secretToken: string | undefined;
}

/** One bot's webhook setting and the loop that delivers its queue to it. */
export class WebhookDelivery {
  #hook: Hook | undefined;
  #loop: Promise<void> | undefined;
  #inFlight: AbortController | undefined;
  #lastError: { date: number; message: string } | undefined;
  #cancelRetryWait: (() => void) | undefined;
  #isClosed = false;

  constructor(
    private readonly queue: UpdateQueue,
    private readonly runReply: WebhookReplyRunner,
  ) {}

  get isActive(): boolean {
    return this.#hook !== undefined;
  }

  /** Starts delivering to `url`; a new URL or secret applies from the next POST. */
  set(url: string, secretToken: string | undefined): void {
    this.#hook = { url, secretToken };
    this.#lastError = undefined;
    this.kick();
  }

  remove(): void {
    this.#hook = undefined;
    this.#inFlight?.abort();
    this.#cancelRetryWait?.();
  }

  /** The `getWebhookInfo` result. */
  info(): Record<string, unknown> {
    return {
      url: this.#hook?.url ?? "",
      has_custom_certificate: false,
      pending_update_count: this.queue.pendingCount,
      ...(this.queue.allowedTypes.length > 0 ? { allowed_updates: [...this.queue.allowedTypes] } : {}),
      ...(this.#lastError
        ? { last_error_date: this.#lastError.date, last_error_message: this.#lastError.message }
        : {}),
    };
  }

  /** Delivers what is queued, unless a delivery is already under way. */
  kick(): void {
    if (this.#loop || !this.#hook || this.#isClosed) return;
    this.#loop = this.#deliverAll()
      .catch((error: unknown) => {
        // A fault of the fake itself: show it where a test looks for webhook trouble.
        this.#lastError = { date: unixNow(), message: `fake Telegram: ${describeFailure(error)}` };
      })
      .finally(() => {
        this.#loop = undefined;
      });
  }

  /** Stops delivering and waits for the POST under way to end. */
  async close(): Promise<void> {
    this.#isClosed = true;
    this.#inFlight?.abort();
    this.#cancelRetryWait?.();
    await this.#loop;
  }

  async #deliverAll(): Promise<void> {
    let retryDelayMs = RETRY_FIRST_DELAY_MS;
    for (;;) {
      const hook = this.#hook;
      const update = this.queue.peek(1)[0];
      if (this.#isClosed || !hook || !update) return;
      const reply = await this.#post(hook, update);
      if (reply === undefined) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, retryDelayMs);
          this.#cancelRetryWait = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#cancelRetryWait = undefined;
        retryDelayMs = Math.min(retryDelayMs * 2, RETRY_MAX_DELAY_MS);
        continue;
      }
      retryDelayMs = RETRY_FIRST_DELAY_MS;
      this.queue.confirm(update.update_id + 1);
      if (typeof reply.method === "string") {
        const { method, ...params } = reply;
        await this.runReply(method, params);
      }
    }
  }

  /** The parsed 2xx body (empty object when not JSON), or undefined when the POST failed. */
  async #post(hook: Hook, update: { update_id: number }): Promise<Params | undefined> {
    const controller = new AbortController();
    this.#inFlight = controller;
    let isTimedOut = false;
    const timer = setTimeout(() => {
      isTimedOut = true;
      controller.abort();
    }, POST_TIMEOUT_MS);
    try {
      const res = await fetch(hook.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(hook.secretToken ? { [SECRET_TOKEN_HEADER]: hook.secretToken } : {}),
        },
        body: JSON.stringify(update),
        signal: controller.signal,
      });
      const body = await res.text();
      if (!res.ok) {
        this.#lastError = {
          date: unixNow(),
          message: `Wrong response from the webhook: ${res.status} ${res.statusText}`,
        };
        return undefined;
      }
      try {
        const parsed: unknown = JSON.parse(body);
        return typeof parsed === "object" && parsed !== null ? (parsed as Params) : {};
      } catch {
        return {};
      }
    } catch (error) {
      // An abort by deleteWebhook or close is no fault of the webhook; a timeout is.
      const isStopped = this.#isClosed || this.#hook !== hook;
      if (!isStopped) {
        const message = isTimedOut ? "Read timeout expired" : describeFailure(error);
        this.#lastError = { date: unixNow(), message };
      }
      return undefined;
    } finally {
      clearTimeout(timer);
      this.#inFlight = undefined;
    }
  }
}

/** Telegram's wording for a webhook it could not reach, else the error's own message. */
function describeFailure(error: unknown): string {
  const code = (error as { cause?: { code?: unknown } }).cause?.code;
  if (code === "ECONNREFUSED") return "Connection refused";
  return error instanceof Error ? error.message : String(error);
}
