/**
 * A fake Telegram Bot API over real HTTP, enough for grammY, @grammyjs/runner and
 * @grammyjs/auto-retry: `POST|GET <url>/bot<token>/<method>` with query, JSON, form-urlencoded or
 * multipart parameters, answered `{ok, result}` or `{ok:false, error_code, description,
 * parameters?}` as Telegram does. Methods are in `methods.ts` and `messages.ts`, long polling in
 * `updates.ts`, webhook delivery in `webhook.ts`.
 *
 * A test plays the users (`pushMessage`, `pushCallback`), reads what bots did (`sentMessages`,
 * `chatActions`, `callbackQueries`, the `calls` log), waits for it (`waitForMessages`) and injects
 * failures (`failNext`). Several bots may share one fake (`addBot`), so a test of a pool or of a
 * health gate can use one server. An unknown token gets 401 "Unauthorized".
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { commandsKey, type FakeBotCommand, type FakeBotIdentity, FakeBotState } from "./bot.js";
import {
  ChatLog,
  type FakeCallbackQuery,
  type FakeChatAction,
  type FakeSentMessage,
  sentMessageJson,
} from "./chats.js";
import { runMethod } from "./methods.js";
import { type ApiAnswer, fail, ok, type Params, readParams, writeAnswer } from "./protocol.js";
import { type FakeUserOptions, userJson, userMessageJson } from "./users.js";

/** One API call as received (also calls with a wrong token or to unknown methods). */
export interface FakeTelegramCall {
  method: string;
  token: string;
  params: Params;
  /** HTTP status of the answer; undefined while a long poll waits. */
  status: number | undefined;
  /** Made by answering a webhook POST with the call, not by a request of its own. */
  isWebhookReply: boolean;
}

/** A failure the next call of a method gets; a 429 carries `retry_after` (default 1 s). */
export interface FakeFailureSpec {
  status: number;
  description?: string;
  retryAfter?: number;
  /** Only this bot's call fails; any bot's by default. */
  token?: string;
}

/** Who pushes, and to which bot (default: the first). */
export interface FakePushOptions extends FakeUserOptions {
  token?: string;
}

const WAIT_DEFAULT_MS = 10_000;

/** The fake as a test holds it: the API root for the bot, the users' side, and what happened. */
export interface FakeTelegram {
  /** Bot API root without a trailing slash: give it to grammY as `client.apiRoot`. */
  readonly url: string;
  /** Every call in arrival order. */
  readonly calls: FakeTelegramCall[];
  /** The calls of one method (any letter case), in order. */
  callsOf(method: string): FakeTelegramCall[];
  addBot(bot: FakeBotIdentity): void;
  /** Queues a private-chat text message from the user `chatId`; returns its update_id. */
  pushMessage(chatId: number, text: string, options?: FakePushOptions): number;
  /**
   * Presses the button with this `callback_data` under the bot's latest message in the chat that
   * has one (or under `messageId`); returns the update_id. Throws when there is no such button.
   */
  pushCallback(chatId: number, data: string, options?: FakePushOptions & { messageId?: number }): number;
  /** Queues a text message that the user `fromId` wrote in the group `groupId` (negative); its update_id. */
  pushGroupMessage(groupId: number, fromId: number, text: string, options?: FakePushOptions): number;
  /** Makes the next call of `method` fail as given; several queue up. */
  failNext(method: string, failure: FakeFailureSpec): void;
  /** Messages bots sent (deleted ones too), optionally only in one chat, in order. */
  sentMessages(chatId?: number): FakeSentMessage[];
  /** What users wrote in a chat (or all chats), in order; a message a bot deleted is marked. */
  userMessages(chatId?: number): { token: string; messageId: number; text: string; isDeleted: boolean }[];
  /** Sent messages edited at least once. */
  editedMessages(chatId?: number): FakeSentMessage[];
  /** `sendChatAction` calls, in order. */
  chatActions(chatId?: number): FakeChatAction[];
  /** Button presses pushed and how bots answered them. */
  callbackQueries(chatId?: number): FakeCallbackQuery[];
  /** Commands set for the default scope and no language (default: the first bot). */
  commands(token?: string): FakeBotCommand[];
  /** Resolves with the first sent message matching `predicate` (past or future); rejects after `timeoutMs`. */
  waitForMessage(predicate: (m: FakeSentMessage) => boolean, timeoutMs?: number): Promise<FakeSentMessage>;
  /** Resolves with the first `count` messages sent to the chat once there are that many. */
  waitForMessages(chatId: number, count: number, timeoutMs?: number): Promise<FakeSentMessage[]>;
  /** Number of getUpdates requests currently held open (how a test knows a bot is polling). */
  pendingPolls(token?: string): number;
  /** Updates queued and not yet confirmed. */
  pendingUpdates(token?: string): number;
  /** Ends held polls, stops webhook delivery, rejects pending waits and closes the server. */
  close(): Promise<void>;
}

/** Starts the fake on 127.0.0.1 at a free port with one bot. */
export async function startFakeTelegram(firstBot: FakeBotIdentity): Promise<FakeTelegram> {
  const bots = new Map<string, FakeBotState>();
  const chats = new ChatLog();
  const calls: FakeTelegramCall[] = [];
  const failures: (FakeFailureSpec & { method: string })[] = [];

  /** Answers one call as Telegram would, logging it; shared by HTTP calls and webhook replies. */
  const answerCall = async (
    token: string,
    method: string,
    params: Params,
    signal: AbortSignal,
    isWebhookReply = false,
  ): Promise<ApiAnswer> => {
    const call: FakeTelegramCall = { method, token, params, status: undefined, isWebhookReply };
    calls.push(call);
    const pending = answerKnown(token, method, params, signal);
    // Set synchronously when it can be, so a test woken by the handler's change already sees it.
    const answer = pending instanceof Promise ? await pending : pending;
    call.status = answer.status;
    return answer;
  };
  const answerKnown = (token: string, method: string, params: Params, signal: AbortSignal) => {
    const bot = bots.get(token);
    if (!bot) return fail(401, "Unauthorized");
    const index = failures.findIndex(
      (f) => f.method === method.toLowerCase() && (f.token === undefined || f.token === token),
    );
    if (index >= 0) {
      const [failure] = failures.splice(index, 1);
      if (failure) return injected(failure);
    }
    return runMethod({ bot, chats, signal }, method, params);
  };

  const addBot = (identity: FakeBotIdentity) => {
    const runWebhookReply = async (method: string, params: Params) => {
      await answerCall(identity.token, method, params, new AbortController().signal, true);
    };
    bots.set(identity.token, new FakeBotState(identity, runWebhookReply));
  };
  addBot(firstBot);

  const botFor = (token: string | undefined, caller: string): FakeBotState => {
    const bot = bots.get(token ?? firstBot.token);
    if (!bot) throw new Error(`${caller}: unknown bot token`);
    return bot;
  };
  const enqueue = (bot: FakeBotState, build: (updateId: number) => { update_id: number }) => {
    const updateId = bot.queue.push(build);
    bot.webhook.kick();
    return updateId;
  };
  const byChat = <T extends { chatId: number }>(items: T[], chatId: number | undefined) =>
    items.filter((item) => chatId === undefined || item.chatId === chatId);
  const ofBots = (token: string | undefined) =>
    [...bots.values()].filter((bot) => token === undefined || bot.identity.token === token);

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url ?? "/", "http://fake").pathname);
    let params: Params;
    try {
      params = await readParams(req);
    } catch {
      return writeAnswer(res, fail(400, "Bad Request: can't parse request body"));
    }
    if (!match) return writeAnswer(res, fail(404, "Not Found"));
    // A client that goes away (an aborted long poll) must not hold the poll slot.
    const gone = new AbortController();
    res.on("close", () => gone.abort());
    const answer = await answerCall(decodeURIComponent(match[1] ?? ""), match[2] ?? "", params, gone.signal);
    writeAnswer(res, answer);
  };
  const server = createServer((req, res) => {
    serve(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    callsOf: (method) => calls.filter((c) => c.method.toLowerCase() === method.toLowerCase()),
    addBot,
    pushMessage(chatId, text, options = {}) {
      const bot = botFor(options.token, "pushMessage");
      const message = userMessageJson(chatId, chats.nextMessageId(), text, options);
      chats.recordUserMessage(bot.identity.token, message);
      return enqueue(bot, (updateId) => ({ update_id: updateId, message }));
    },
    pushGroupMessage(groupId, fromId, text, options = {}) {
      const bot = botFor(options.token, "pushGroupMessage");
      const message = {
        ...userMessageJson(fromId, chats.nextMessageId(), text, options),
        chat: { id: groupId, type: "group", title: `Group ${-groupId}` },
      };
      chats.recordUserMessage(bot.identity.token, message);
      return enqueue(bot, (updateId) => ({ update_id: updateId, message }));
    },
    pushCallback(chatId, data, options = {}) {
      const bot = botFor(options.token, "pushCallback");
      const token = bot.identity.token;
      const under = chats.sent
        .filter(
          (m) =>
            m.token === token &&
            m.chatId === chatId &&
            !m.isDeleted &&
            (options.messageId === undefined || m.messageId === options.messageId) &&
            m.replyMarkup?.inline_keyboard.flat().some((button) => button.callback_data === data),
        )
        .at(-1);
      if (!under) {
        throw new Error(
          `pushCallback: no message in chat ${chatId} has a button with data ${JSON.stringify(data)}`,
        );
      }
      const id = chats.nextCallbackQueryId();
      chats.callbackQueries.push({ token, id, chatId, messageId: under.messageId, data, answer: undefined });
      return enqueue(bot, (updateId) => ({
        update_id: updateId,
        callback_query: {
          id,
          from: userJson(chatId, options),
          message: sentMessageJson(bot.user, under),
          chat_instance: `${chatId}-${token.split(":")[0]}`,
          data,
        },
      }));
    },
    failNext(method, failure) {
      failures.push({ ...failure, method: method.toLowerCase() });
    },
    sentMessages: (chatId) => byChat(chats.sent, chatId),
    userMessages: (chatId) => byChat(chats.userMessages(), chatId),
    editedMessages: (chatId) => byChat(chats.sent, chatId).filter((m) => m.edits.length > 0),
    chatActions: (chatId) => byChat(chats.actions, chatId),
    callbackQueries: (chatId) => byChat(chats.callbackQueries, chatId),
    commands: (token) => botFor(token, "commands").commands.get(commandsKey(undefined, undefined)) ?? [],
    waitForMessage(predicate, timeoutMs = WAIT_DEFAULT_MS) {
      return chats.waitFor(
        () => chats.sent.find(predicate),
        timeoutMs,
        () => `no matching message among ${chats.sent.length} sent`,
      );
    },
    waitForMessages(chatId, count, timeoutMs = WAIT_DEFAULT_MS) {
      const inChat = () => byChat(chats.sent, chatId);
      return chats.waitFor(
        () => (inChat().length >= count ? inChat().slice(0, count) : undefined),
        timeoutMs,
        () =>
          `chat ${chatId} got ${inChat().length} of ${count} messages: ${JSON.stringify(inChat().map((m) => m.text))}`,
      );
    },
    pendingPolls: (token) => ofBots(token).filter((bot) => bot.queue.isPolled).length,
    pendingUpdates: (token) => ofBots(token).reduce((sum, bot) => sum + bot.queue.pendingCount, 0),
    async close() {
      for (const bot of bots.values()) bot.queue.endPoll(ok([]));
      await Promise.all([...bots.values()].map((bot) => bot.webhook.close()));
      chats.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** The answer a `failNext` spec stands for. */
function injected(failure: FakeFailureSpec): ApiAnswer {
  if (failure.status !== 429)
    return fail(failure.status, failure.description ?? defaultDescription(failure.status));
  const retryAfterS = failure.retryAfter ?? 1;
  return fail(429, failure.description ?? `Too Many Requests: retry after ${retryAfterS}`, retryAfterS);
}

function defaultDescription(status: number): string {
  if (status === 400) return "Bad Request";
  if (status === 403) return "Forbidden: bot was blocked by the user";
  if (status === 409) return "Conflict";
  if (status >= 500) return "Internal Server Error";
  return `Error ${status}`;
}
