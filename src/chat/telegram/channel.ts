import { timingSafeEqual } from "node:crypto";
import { autoRetry } from "@grammyjs/auto-retry";
import {
  createBatchSink,
  createRunner,
  createSource,
  createUpdateFetcher,
  type RunnerHandle,
  sequentialize,
} from "@grammyjs/runner";
import { Bot, BotError, type Context, GrammyError, HttpError, webhookCallback } from "grammy";
import type { InlineKeyboardMarkup, User as TelegramUser, Update } from "grammy/types";
import { AppError } from "../../contracts/index.js";
import type { Logger } from "../../observability/index.js";
import {
  type ChatChannel,
  type ChatInbox,
  type ChatSender,
  DeliveryError,
  type OutboundMessage,
} from "../channel.js";
import { splitForTelegram, toTelegramHtml } from "./format.js";
import { checkUpdate } from "./update.js";

export interface TelegramChannelOptions {
  token: string;
  /** The Bot API root (`TELEGRAM_API_ROOT`); Telegram's own when null. */
  apiRoot: string | null;
  /** Webhook mode when set (`TELEGRAM_WEBHOOK_URL`): Telegram POSTs updates to the API. */
  webhookUrl: string | null;
  /** Telegram sends it back with every webhook update; anything else is refused. */
  webhookSecret: string;
  /** The bot's command menu per language (`default` for everyone else). */
  commands: Record<string, { command: string; description: string }[]>;
  logger: Logger;
  /** Seconds a rate limit may ask to wait before the outbox retries instead (default 30). */
  maxRetryDelaySeconds?: number;
}

/** Path of the webhook route on the API. */
export const TELEGRAM_WEBHOOK_PATH = "/telegram/webhook";

/**
 * Telegram through grammY: long polling with the runner (updates of one chat in order, chats in
 * parallel), or a webhook; calls retried on 429 (`retry_after`) and network errors by auto-retry.
 */
export class TelegramChannel implements ChatChannel {
  readonly kind = "telegram" as const;
  readonly bot: Bot;
  private runner: RunnerHandle | null = null;
  private webhook: ((request: unknown, reply: unknown) => Promise<unknown>) | null = null;
  private wired = false;

  constructor(private readonly options: TelegramChannelOptions) {
    this.bot = new Bot(options.token, options.apiRoot ? { client: { apiRoot: options.apiRoot } } : {});
    this.bot.api.config.use(
      autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: options.maxRetryDelaySeconds ?? 30 }),
    );
  }

  /** The bot's @username, once started. */
  get username(): string | null {
    return this.bot.isInited() ? this.bot.botInfo.username : null;
  }

  /** Starts receiving; after a `stop` (another process took over) it can start again. */
  async start(inbox: ChatInbox): Promise<void> {
    if (!this.wired) this.wire(inbox);
    await this.receive();
  }

  private wire(inbox: ChatInbox): void {
    const { logger } = this.options;
    this.wired = true;
    this.bot.use(sequentialize((ctx: Context) => ctx.chat?.id.toString()));
    this.bot.on("message:text", async (ctx) => {
      // A conversation acts for one person: in a group, anyone would act as whoever wrote first.
      if (ctx.chat.type !== "private") {
        logger.debug({ chat: ctx.chat.id, type: ctx.chat.type }, "ignored a message outside a private chat");
        return;
      }
      await inbox.receive({
        channel: "telegram",
        chatId: String(ctx.chat.id),
        sender: senderOf(ctx.from),
        text: ctx.message.text,
        inboundKey: String(ctx.update.update_id),
        externalId: String(ctx.message.message_id),
      });
    });
    this.bot.on("callback_query:data", async (ctx) => {
      const chatId = ctx.chat?.id ?? ctx.from.id;
      const { notice } = await inbox.press({
        channel: "telegram",
        chatId: String(chatId),
        sender: senderOf(ctx.from),
        data: ctx.callbackQuery.data,
      });
      // The press took effect: an answer Telegram refuses (a query too old) only leaves the button
      // spinning, and failing the update would make Telegram redeliver it and press again.
      await ctx.answerCallbackQuery(notice ? { text: notice } : {}).catch((error: unknown) => {
        logger.warn({ err: error, chat: chatId }, "could not answer a button press");
      });
    });
    this.bot.catch((error) =>
      logger.error({ err: error.error, update: error.ctx.update.update_id }, "update failed"),
    );
  }

  private async receive(): Promise<void> {
    const { logger } = this.options;
    try {
      await this.bot.init();
    } catch (error) {
      throw new AppError("invalid", "invalid_config", `Telegram refused the bot token: ${describe(error)}`, {
        cause: error,
        details: [{ path: "TELEGRAM_BOT_TOKEN", message: "check the token BotFather gave you" }],
      });
    }
    for (const [language, commands] of Object.entries(this.options.commands)) {
      if (language === "default") await this.bot.api.setMyCommands(commands);
      else await this.bot.api.setMyCommands(commands, { language_code: language as "ru" });
    }
    if (this.options.webhookUrl) {
      this.webhook ??= this.webhookCallback();
      await this.bot.api.setWebhook(this.options.webhookUrl, {
        secret_token: this.options.webhookSecret,
        allowed_updates: ["message", "callback_query"],
      });
      logger.info(
        { bot: this.username, webhook: this.options.webhookUrl },
        "Telegram bot receiving by webhook",
      );
      return;
    }
    // Polling and a webhook exclude each other: a webhook left by an earlier setting would make
    // getUpdates fail. Pending updates are kept; they are stored once by update_id.
    await this.bot.api.deleteWebhook();
    this.runner = pollingRunner(this.bot, logger);
    this.runner.start();
    logger.info({ bot: this.username }, "Telegram bot polling");
  }

  /**
   * Webhook mode in a process that only takes updates in (every `api` process): its route hands
   * them to `inbox`; the webhook is registered with Telegram by the process that `start`s.
   */
  acceptWebhook(inbox: ChatInbox): void {
    if (!this.options.webhookUrl) return;
    if (!this.wired) this.wire(inbox);
    this.webhook ??= this.webhookCallback();
  }

  /**
   * grammY's Fastify handler behind a check of the update's shape. A malformed update that carries
   * the secret is acknowledged (200) and dropped with a log line: Telegram redelivers any other
   * answer, holding the chat's later updates behind one that can never become well-formed. So is
   * one the chat refuses as invalid. One without the secret goes on to grammY, which refuses it (401).
   */
  private webhookCallback(): (request: unknown, reply: unknown) => Promise<unknown> {
    const { webhookSecret, logger } = this.options;
    const handle = webhookCallback(this.bot, "fastify", { secretToken: webhookSecret }) as (
      request: unknown,
      reply: unknown,
    ) => Promise<unknown>;
    return async (request, reply) => {
      const req = request as WebhookRequest;
      if (!sameSecret(req.headers[SECRET_HEADER], webhookSecret)) return handle(request, reply);
      const checked = checkUpdate(req.body);
      if ("reason" in checked) {
        logger.warn({ reason: checked.reason }, "dropped a malformed Telegram update");
        return (reply as { code(status: number): { send(body: string): unknown } }).code(200).send("");
      }
      req.body = checked.update;
      try {
        return await handle(request, reply);
      } catch (error) {
        // Refused as invalid (a text the store cannot hold) it never will be accepted: acknowledged
        // like a malformed one. Any other failure answers 500, and Telegram's redelivery retries it.
        const cause = error instanceof BotError ? error.error : error;
        if (!(cause instanceof AppError && cause.kind === "invalid")) throw error;
        logger.warn(
          { err: cause, update: checked.update.update_id },
          "dropped a Telegram update the chat refused",
        );
        return (reply as { code(status: number): { send(body: string): unknown } }).code(200).send("");
      }
    };
  }

  /** Whether updates come by webhook (`TELEGRAM_WEBHOOK_URL`) rather than by polling. */
  get isWebhook(): boolean {
    return this.options.webhookUrl !== null;
  }

  /** The Fastify handler of webhook updates, in webhook mode. */
  webhookHandler(): ((request: unknown, reply: unknown) => Promise<unknown>) | null {
    return this.webhook;
  }

  async send(chatId: string, message: OutboundMessage): Promise<string> {
    const pieces = splitForTelegram(message.text);
    let first: string | null = null;
    for (const [i, piece] of pieces.entries()) {
      const markup = i === pieces.length - 1 ? keyboard(message) : undefined;
      const sent = await this.deliver(
        (html) =>
          this.bot.api.sendMessage(chatId, html ?? piece, {
            ...(html ? { parse_mode: "HTML" as const } : {}),
            ...(markup ? { reply_markup: markup } : {}),
            link_preview_options: { is_disabled: message.kind !== "live" },
          }),
        piece,
      );
      first ??= String(sent.message_id);
    }
    return first ?? "";
  }

  async edit(chatId: string, externalId: string, message: OutboundMessage): Promise<void> {
    const text = splitForTelegram(message.text)[0] ?? message.text;
    const markup = keyboard(message);
    try {
      await this.deliver(
        (html) =>
          this.bot.api.editMessageText(chatId, Number(externalId), html ?? text, {
            ...(html ? { parse_mode: "HTML" as const } : {}),
            ...(markup ? { reply_markup: markup } : {}),
          }),
        text,
      );
    } catch (error) {
      // The same text again (a replayed edit) is already what the person sees.
      if (error instanceof DeliveryError && /message is not modified/i.test(error.message)) return;
      throw error;
    }
  }

  async typing(chatId: string): Promise<void> {
    try {
      await this.bot.api.sendChatAction(chatId, "typing");
    } catch (error) {
      this.options.logger.debug({ err: error, chatId }, "typing action failed");
    }
  }

  async forget(chatId: string, externalId: string | null): Promise<boolean> {
    if (externalId === null) return false;
    try {
      // A bot may delete what the person wrote in its private chat (within 48 hours).
      await this.bot.api.deleteMessage(chatId, Number(externalId));
      return true;
    } catch (error) {
      this.options.logger.warn({ err: error, chatId }, "could not delete a message that held a secret");
      return false;
    }
  }

  async stop(): Promise<void> {
    if (this.runner?.isRunning()) await this.runner.stop();
    this.runner = null;
  }

  /**
   * Sends as HTML, and once more as plain text when Telegram rejects the markup; turns Telegram's
   * refusals into delivery errors the outbox understands.
   */
  private async deliver<T>(call: (html: string | null) => Promise<T>, plain: string): Promise<T> {
    try {
      try {
        return await call(toTelegramHtml(plain));
      } catch (error) {
        if (
          error instanceof GrammyError &&
          error.error_code === 400 &&
          /can't parse entities/i.test(error.description)
        ) {
          this.options.logger.warn(
            { description: error.description },
            "Telegram rejected the markup; sending plain text",
          );
          return await call(null);
        }
        throw error;
      }
    } catch (error) {
      throw deliveryError(error);
    }
  }
}

/**
 * Long polling that confirms a batch of updates to Telegram (the next getUpdates' offset) only after
 * every update of it was handed to the inbox. grammY's `run` fetches the next batch while the last
 * is still handled, so a process killed in between lost updates Telegram had already forgotten.
 * Handing over is quick (the message is stored; the PO works on it later), so chats still go in
 * parallel within a batch, each chat in order.
 */
function pollingRunner(bot: Bot, logger: Logger): RunnerHandle {
  const fetchUpdates = createUpdateFetcher(bot, {
    fetch: { allowed_updates: ["message", "callback_query"] },
  });
  const source = createSource({ supply: (batchSize, signal) => fetchUpdates(batchSize, signal) });
  const sink = createBatchSink<Update>({ consume: (update) => bot.handleUpdate(update) }, async (error) =>
    logger.error({ err: error }, "update failed"),
  );
  return createRunner(source, sink);
}

/** The header Telegram sends the webhook's secret in. */
const SECRET_HEADER = "x-telegram-bot-api-secret-token";

/** What the webhook handler reads of Fastify's request. */
interface WebhookRequest {
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

function sameSecret(header: unknown, secret: string): boolean {
  if (typeof header !== "string") return false;
  const given = Buffer.from(header);
  const expected = Buffer.from(secret);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function senderOf(user: TelegramUser): ChatSender {
  return {
    externalId: String(user.id),
    name: [user.first_name, user.last_name].filter(Boolean).join(" ") || user.username || String(user.id),
    username: user.username ?? null,
    languageCode: user.language_code ?? null,
  };
}

function keyboard(message: OutboundMessage): InlineKeyboardMarkup | undefined {
  if (message.buttons.length === 0) return undefined;
  return { inline_keyboard: [message.buttons.map((b) => ({ text: b.text, callback_data: b.data }))] };
}

function describe(error: unknown): string {
  if (error instanceof GrammyError) return `${error.error_code} ${error.description}`;
  return error instanceof Error ? error.message : String(error);
}

/** 429 past auto-retry's patience and network failures are retried later; other refusals are final. */
function deliveryError(error: unknown): DeliveryError {
  if (error instanceof GrammyError) {
    if (error.error_code === 429) {
      const seconds = error.parameters.retry_after ?? 5;
      return new DeliveryError(describe(error), seconds * 1000, { cause: error });
    }
    if (error.error_code >= 500) return new DeliveryError(describe(error), 5_000, { cause: error });
    return new DeliveryError(describe(error), null, { cause: error });
  }
  if (error instanceof HttpError) return new DeliveryError(describe(error), 5_000, { cause: error });
  return new DeliveryError(describe(error), 5_000, { cause: error });
}
