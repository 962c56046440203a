/**
 * A fake Telegram Bot API over real HTTP, enough for grammY (and any client of the Bot API):
 * `POST|GET <url>/bot<token>/<method>` with JSON, form-urlencoded or query parameters, answered
 * `{ok, result}` or `{ok:false, error_code, description}` as Telegram does.
 *
 * Implemented: getMe, getUpdates (long polling with `offset`/`timeout`/`limit`; a second poll for
 * the same bot ends the first with Telegram's 409 Conflict), sendMessage, deleteWebhook,
 * getWebhookInfo, setMyCommands, getMyCommands, sendChatAction, answerCallbackQuery. Unknown
 * methods get 404 "Not Found"; an unknown token gets 401 "Unauthorized". Several bots may share one
 * fake (`addBot`), so a test of a pool or of a health gate can use one server.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A bot the fake knows: its token and public identity. */
export interface FakeBotIdentity {
  token: string;
  username: string;
  /** Defaults to the username. */
  firstName?: string;
  /** Defaults to the number before the colon in the token. */
  id?: number;
}

/** One API call as received (also calls with a wrong token or to unknown methods). */
export interface FakeTelegramCall {
  method: string;
  token: string;
  params: Record<string, unknown>;
}

/** A message a bot sent through `sendMessage`. */
export interface FakeSentMessage {
  token: string;
  chatId: number;
  text: string;
  messageId: number;
  params: Record<string, unknown>;
}

export interface FakeTelegram {
  /** Bot API root without a trailing slash: give it to grammY as `client.apiRoot`. */
  readonly url: string;
  /** Every call in arrival order. */
  readonly calls: FakeTelegramCall[];
  addBot(bot: FakeBotIdentity): void;
  /** Queues a private-chat text message to a bot (default: the first bot) and wakes its poller. */
  pushMessage(chatId: number, text: string, options?: { token?: string; firstName?: string }): number;
  /** Messages sent by bots, optionally only to one chat. */
  sentMessages(chatId?: number): FakeSentMessage[];
  /** Resolves with the first sent message matching `predicate` (past or future); rejects after `timeoutMs`. */
  waitForMessage(predicate: (m: FakeSentMessage) => boolean, timeoutMs?: number): Promise<FakeSentMessage>;
  /** Number of getUpdates requests currently held open (how a test knows a bot is polling). */
  pendingPolls(token?: string): number;
  close(): Promise<void>;
}

interface BotState {
  identity: Required<FakeBotIdentity>;
  updates: { update_id: number }[];
  nextUpdateId: number;
  poll: { wake: () => void; conflict: () => void } | undefined;
}

const WAIT_DEFAULT_MS = 10_000;

/** Starts the fake on 127.0.0.1 at a free port with one bot. */
export async function startFakeTelegram(bot: FakeBotIdentity): Promise<FakeTelegram> {
  const bots = new Map<string, BotState>();
  const calls: FakeTelegramCall[] = [];
  const sent: FakeSentMessage[] = [];
  const waiters = new Set<{
    predicate: (m: FakeSentMessage) => boolean;
    resolve: (m: FakeSentMessage) => void;
  }>();
  let nextMessageId = 1;
  const firstToken = bot.token;

  const addBot = (identity: FakeBotIdentity) => {
    const id = identity.id ?? Number(identity.token.split(":")[0]);
    bots.set(identity.token, {
      identity: {
        token: identity.token,
        username: identity.username,
        firstName: identity.firstName ?? identity.username,
        id: Number.isSafeInteger(id) ? id : 1,
      },
      updates: [],
      nextUpdateId: 1,
      poll: undefined,
    });
  };
  addBot(bot);

  const userOf = (state: BotState) => ({
    id: state.identity.id,
    is_bot: true,
    first_name: state.identity.firstName,
    username: state.identity.username,
  });

  const handle = (state: BotState, method: string, params: Record<string, unknown>, res: ServerResponse) => {
    switch (method.toLowerCase()) {
      case "getme":
        return ok(res, { ...userOf(state), can_join_groups: true, can_read_all_group_messages: false });
      case "deletewebhook":
      case "setmycommands":
      case "sendchataction":
      case "answercallbackquery":
        return ok(res, true);
      case "getmycommands":
        return ok(res, []);
      case "getwebhookinfo":
        return ok(res, {
          url: "",
          has_custom_certificate: false,
          pending_update_count: state.updates.length,
        });
      case "sendmessage": {
        const chatId = Number(params.chat_id);
        const text = params.text === undefined ? "" : String(params.text);
        if (!Number.isFinite(chatId)) return fail(res, 400, "Bad Request: chat not found");
        if (text.trim() === "") return fail(res, 400, "Bad Request: message text is empty");
        const message: FakeSentMessage = {
          token: state.identity.token,
          chatId,
          text,
          messageId: nextMessageId++,
          params,
        };
        sent.push(message);
        for (const waiter of waiters) {
          if (waiter.predicate(message)) {
            waiters.delete(waiter);
            waiter.resolve(message);
          }
        }
        return ok(res, {
          message_id: message.messageId,
          date: now(),
          chat: { id: chatId, type: "private" },
          from: userOf(state),
          text,
        });
      }
      case "getupdates":
        return getUpdates(state, params, res);
      default:
        return fail(res, 404, "Not Found");
    }
  };

  const getUpdates = (state: BotState, params: Record<string, unknown>, res: ServerResponse) => {
    const offset = Number(params.offset ?? 0);
    const limit = Math.min(Math.max(Number(params.limit ?? 100), 1), 100);
    const timeoutS = Math.max(Number(params.timeout ?? 0), 0);
    // An offset confirms every update before it: Telegram forgets them.
    if (offset > 0) state.updates = state.updates.filter((u) => u.update_id >= offset);
    const answer = () => ok(res, state.updates.slice(0, limit));
    state.poll?.conflict();
    if (state.updates.length > 0 || timeoutS === 0) return answer();
    const finish = (reply: () => void) => {
      clearTimeout(timer);
      if (state.poll === poll) state.poll = undefined;
      if (!res.writableEnded) reply();
    };
    const poll = {
      wake: () => finish(answer),
      conflict: () =>
        finish(() =>
          fail(
            res,
            409,
            "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
          ),
        ),
    };
    const timer = setTimeout(poll.wake, timeoutS * 1000);
    state.poll = poll;
    res.on("close", () => finish(() => undefined));
  };

  const server = createServer((req, res) => {
    readParams(req).then(
      (params) => {
        const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url ?? "/", "http://fake").pathname);
        if (!match) return fail(res, 404, "Not Found");
        const token = decodeURIComponent(match[1] ?? "");
        const method = match[2] ?? "";
        calls.push({ method, token, params });
        const state = bots.get(token);
        if (!state) return fail(res, 401, "Unauthorized");
        return handle(state, method, params, res);
      },
      () => fail(res, 400, "Bad Request: can't parse request body"),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    addBot,
    pushMessage(chatId, text, options = {}) {
      const state = bots.get(options.token ?? firstToken);
      if (!state) throw new Error("pushMessage: unknown bot token");
      const command = /^\/\S+/.exec(text)?.[0];
      const update = {
        update_id: state.nextUpdateId++,
        message: {
          message_id: nextMessageId++,
          date: now(),
          chat: { id: chatId, type: "private", first_name: options.firstName ?? "Tester" },
          from: { id: chatId, is_bot: false, first_name: options.firstName ?? "Tester" },
          text,
          ...(command ? { entities: [{ type: "bot_command", offset: 0, length: command.length }] } : {}),
        },
      };
      state.updates.push(update);
      state.poll?.wake();
      return update.update_id;
    },
    sentMessages: (chatId) => sent.filter((m) => chatId === undefined || m.chatId === chatId),
    waitForMessage(predicate, timeoutMs = WAIT_DEFAULT_MS) {
      const past = sent.find(predicate);
      if (past) return Promise.resolve(past);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (m: FakeSentMessage) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`fake Telegram: no matching sendMessage within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    pendingPolls: (token) =>
      [...bots.values()].filter((b) => b.poll && (token === undefined || b.identity.token === token)).length,
    close() {
      for (const state of bots.values()) state.poll?.wake();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function ok(res: ServerResponse, result: unknown): void {
  send(res, 200, { ok: true, result });
}

function fail(res: ServerResponse, status: number, description: string): void {
  send(res, status, { ok: false, error_code: status, description });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** Bot API parameters from the query string and a JSON or form-urlencoded body (JSON values decoded). */
async function readParams(req: IncomingMessage): Promise<Record<string, unknown>> {
  const params: Record<string, unknown> = {};
  const decode = (value: string): unknown => {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  };
  for (const [key, value] of new URL(req.url ?? "/", "http://fake").searchParams) params[key] = decode(value);
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString("utf8");
  if (body === "") return params;
  const type = req.headers["content-type"] ?? "";
  if (type.includes("application/json"))
    return { ...params, ...(JSON.parse(body) as Record<string, unknown>) };
  if (type.includes("application/x-www-form-urlencoded")) {
    for (const [key, value] of new URLSearchParams(body)) params[key] = decode(value);
    return params;
  }
  throw new Error(`unsupported content type ${type}`);
}
