import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** An inline button the bot attached to a message. */
export interface SentButton {
  text: string;
  data?: string;
}

/** A message the bot sent (or a new text it gave one by editing it) through the fake. */
export interface SentMessage {
  chatId: number;
  messageId: number;
  text: string;
  /** Inline keyboard rows, when the message has one. */
  buttons?: SentButton[][];
  /** Set when this entry is an edit of message `messageId`. */
  edited?: boolean;
}

/** One Bot API call the bot made. */
export interface ApiCall {
  method: string;
  params: Record<string, unknown>;
}

/** How `failNext` makes a call fail. */
export interface Failure {
  status: number;
  description?: string;
  /** For 429: seconds to wait, as Telegram says in `parameters.retry_after`. */
  retryAfter?: number;
}

/**
 * A small Bot API over real HTTP: getMe, getUpdates (long polling, offsets confirm), sendMessage,
 * editMessageText, answerCallbackQuery, setMyCommands, deleteWebhook, sendChatAction.
 */
export interface FakeBotApi {
  /** Give this to grammY as `client.apiRoot`. */
  url: string;
  /** Every message sent or edited, in order. */
  sent: SentMessage[];
  /** Every call, in order. */
  calls: ApiCall[];
  /** Queues a text message from the person `chatId` (a private chat); returns its update_id. */
  pushMessage(chatId: number, text: string): number;
  /** Queues a press on an inline button with `data` under message `messageId`; returns its update_id. */
  pushCallback(chatId: number, data: string, messageId?: number): number;
  /** Resolves with the next message sent or edited in `chatId`. */
  nextSent(chatId: number): Promise<SentMessage>;
  /** Makes the next call of `method` fail as given; several queue up. */
  failNext(method: string, failure: Failure): void;
  close(): Promise<void>;
}

export async function startFakeBotApi(token: string): Promise<FakeBotApi> {
  const updates: { update_id: number }[] = [];
  const sent: SentMessage[] = [];
  const calls: ApiCall[] = [];
  const failures: (Failure & { method: string })[] = [];
  const pollers: (() => void)[] = [];
  const sentWaiters: { chatId: number; resolve: (m: SentMessage) => void }[] = [];
  let nextUpdateId = 1;
  let nextMessageId = 1;
  let nextCallbackId = 1;
  const me = { id: 1000, is_bot: true, first_name: "Test bot", username: "test_bot" };
  const person = (id: number) => ({ id, is_bot: false, first_name: "Tester" });
  const chat = (id: number) => ({ id, type: "private", first_name: "Tester" });

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    if (!res.destroyed)
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  };
  const record = (message: SentMessage) => {
    sent.push(message);
    for (const waiter of sentWaiters.splice(0)) {
      if (waiter.chatId === message.chatId) waiter.resolve(message);
      else sentWaiters.push(waiter);
    }
  };
  const buttonsOf = (markup: unknown): SentButton[][] | undefined => {
    const rows = (markup as { inline_keyboard?: { text: string; callback_data?: string }[][] } | undefined)
      ?.inline_keyboard;
    return rows?.map((row) =>
      row.map((b) => ({ text: b.text, ...(b.callback_data ? { data: b.callback_data } : {}) })),
    );
  };
  const queue = (update: Record<string, unknown>) => {
    const id = nextUpdateId++;
    updates.push({ update_id: id, ...update });
    for (const wake of pollers.splice(0)) wake();
    return id;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const match = /^\/bot([^/]+)\/(\w+)$/.exec(new URL(req.url ?? "/", "http://x").pathname);
      if (!match) return reply(res, 404, { ok: false, error_code: 404, description: "Not Found" });
      if (match[1] !== token)
        return reply(res, 401, { ok: false, error_code: 401, description: "Unauthorized" });
      const method = match[2] ?? "";
      const params = await readBody(req);
      calls.push({ method, params });
      const failure = failures.findIndex((f) => f.method === method);
      if (failure >= 0) {
        const [f] = failures.splice(failure, 1);
        return reply(res, f?.status ?? 500, {
          ok: false,
          error_code: f?.status,
          description: f?.description ?? `fake failure of ${method}`,
          ...(f?.retryAfter !== undefined ? { parameters: { retry_after: f.retryAfter } } : {}),
        });
      }
      const now = Math.floor(Date.now() / 1000);
      switch (method) {
        case "getMe":
          return reply(res, 200, { ok: true, result: me });
        case "deleteWebhook":
        case "setMyCommands":
        case "sendChatAction":
        case "answerCallbackQuery":
          return reply(res, 200, { ok: true, result: true });
        case "sendMessage": {
          const message = {
            chatId: Number(params.chat_id),
            messageId: nextMessageId++,
            text: String(params.text),
            ...(buttonsOf(params.reply_markup) ? { buttons: buttonsOf(params.reply_markup) } : {}),
          };
          record(message);
          const result = {
            message_id: message.messageId,
            date: now,
            chat: chat(message.chatId),
            from: me,
            text: message.text,
          };
          return reply(res, 200, { ok: true, result });
        }
        case "editMessageText": {
          const message = {
            chatId: Number(params.chat_id),
            messageId: Number(params.message_id),
            text: String(params.text),
            edited: true,
            ...(buttonsOf(params.reply_markup) ? { buttons: buttonsOf(params.reply_markup) } : {}),
          };
          record(message);
          const result = {
            message_id: message.messageId,
            date: now,
            edit_date: now,
            chat: chat(message.chatId),
            from: me,
            text: message.text,
          };
          return reply(res, 200, { ok: true, result });
        }
        case "getUpdates": {
          const offset = Number(params.offset ?? 0);
          // Telegram forgets the updates an offset confirms.
          while (updates.length > 0 && (updates[0]?.update_id ?? 0) < offset) updates.shift();
          const timeoutMs = Number(params.timeout ?? 0) * 1000;
          const limit = Number(params.limit ?? 100);
          const answer = () =>
            reply(res, 200, {
              ok: true,
              result: updates.filter((u) => u.update_id >= offset).slice(0, limit),
            });
          if (updates.length > 0 || timeoutMs === 0) return answer();
          const timer = setTimeout(() => {
            pollers.splice(pollers.indexOf(wake), 1);
            answer();
          }, timeoutMs);
          const wake = () => {
            clearTimeout(timer);
            answer();
          };
          pollers.push(wake);
          return;
        }
        default:
          return reply(res, 404, { ok: false, error_code: 404, description: "Not Found" });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    sent,
    calls,
    pushMessage(chatId, text) {
      const command = /^\/\w+/.exec(text)?.[0];
      return queue({
        message: {
          message_id: nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat: chat(chatId),
          from: person(chatId),
          text,
          ...(command ? { entities: [{ type: "bot_command", offset: 0, length: command.length }] } : {}),
        },
      });
    },
    pushCallback(chatId, data, messageId) {
      const under = messageId ?? [...sent].reverse().find((m) => m.chatId === chatId)?.messageId ?? 0;
      return queue({
        callback_query: {
          id: String(nextCallbackId++),
          from: person(chatId),
          chat_instance: String(chatId),
          data,
          message: {
            message_id: under,
            date: Math.floor(Date.now() / 1000),
            chat: chat(chatId),
            from: me,
            text: "",
          },
        },
      });
    },
    nextSent(chatId) {
      return new Promise((resolve) => sentWaiters.push({ chatId, resolve }));
    },
    failNext(method, failure) {
      failures.push({ method, ...failure });
    },
    close() {
      for (const wake of pollers.splice(0)) wake();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
