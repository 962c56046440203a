/**
 * A bot as the fake knows it: its identity, its update queue, its webhook and its commands, and the
 * context every Bot API method of that bot runs in.
 */
import type { ChatLog } from "./chats.js";
import type { ApiAnswer, Params } from "./protocol.js";
import { UpdateQueue } from "./updates.js";
import { WebhookDelivery, type WebhookReplyRunner } from "./webhook.js";

/** A bot the fake knows: its token and public identity. */
export interface FakeBotIdentity {
  token: string;
  username: string;
  /** Defaults to the username. */
  firstName?: string;
  /** Defaults to the number before the colon in the token. */
  id?: number;
}

/** A command list as `setMyCommands` takes it. */
export interface FakeBotCommand {
  command: string;
  description: string;
}

/** Telegram keeps one command list per scope and language; this names one. */
export function commandsKey(scope: unknown, languageCode: string | undefined): string {
  return `${JSON.stringify(scope ?? { type: "default" })}|${languageCode ?? ""}`;
}

/** One bot's state on the fake; a webhook reply runs through `runWebhookReply`. */
export class FakeBotState {
  readonly identity: Required<FakeBotIdentity>;
  readonly queue = new UpdateQueue();
  readonly webhook: WebhookDelivery;
  /** Command lists by scope and language, as `setMyCommands` keeps them apart. */
  readonly commands = new Map<string, FakeBotCommand[]>();

  constructor(identity: FakeBotIdentity, runWebhookReply: WebhookReplyRunner) {
    const id = identity.id ?? Number(identity.token.split(":")[0]);
    this.identity = {
      token: identity.token,
      username: identity.username,
      firstName: identity.firstName ?? identity.username,
      id: Number.isSafeInteger(id) ? id : 1,
    };
    this.webhook = new WebhookDelivery(this.queue, runWebhookReply);
  }

  /** The bot as a Telegram `User` (the `from` of its messages). */
  get user(): Record<string, unknown> {
    return {
      id: this.identity.id,
      is_bot: true,
      first_name: this.identity.firstName,
      username: this.identity.username,
    };
  }
}

/** What a method handler works with: its bot, the shared chat log, and the caller's liveness. */
export interface MethodContext {
  bot: FakeBotState;
  chats: ChatLog;
  /** Aborts when the client disconnects (a long poll stops waiting). */
  signal: AbortSignal;
}

/** One Bot API method: its parameters in, Telegram's answer out. */
export type MethodHandler = (context: MethodContext, params: Params) => ApiAnswer | Promise<ApiAnswer>;
