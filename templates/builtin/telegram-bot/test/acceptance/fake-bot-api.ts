import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A message the bot sent through the fake. */
export interface SentMessage {
  chatId: number;
  text: string;
}

/** A tiny Bot API over real HTTP: getMe, getUpdates (long polling), sendMessage, setMyCommands. */
export interface FakeBotApi {
  /** Give this to grammY as `client.apiRoot`. */
  url: string;
  sent: SentMessage[];
  pushMessage(chatId: number, text: string): void;
  /** Resolves with the next message sent to `chatId`. */
  nextSent(chatId: number): Promise<SentMessage>;
  close(): Promise<void>;
}

export async function startFakeBotApi(token: string): Promise<FakeBotApi> {
  const updates: unknown[] = [];
  const sent: SentMessage[] = [];
  const pollers: (() => void)[] = [];
  const sentWaiters: { chatId: number; resolve: (m: SentMessage) => void }[] = [];
  let nextUpdateId = 1;
  let nextMessageId = 1;
  const me = { id: 1000, is_bot: true, first_name: "Test bot", username: "test_bot" };

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  };

  const server = createServer((req, res) => {
    void (async () => {
      const match = /^\/bot([^/]+)\/(\w+)$/.exec(new URL(req.url ?? "/", "http://x").pathname);
      if (!match) return reply(res, 404, { ok: false, error_code: 404, description: "Not Found" });
      if (match[1] !== token)
        return reply(res, 401, { ok: false, error_code: 401, description: "Unauthorized" });
      const params = await readBody(req);
      switch (match[2]) {
        case "getMe":
          return reply(res, 200, { ok: true, result: me });
        case "deleteWebhook":
        case "setMyCommands":
          return reply(res, 200, { ok: true, result: true });
        case "sendMessage": {
          const message = { chatId: Number(params.chat_id), text: String(params.text) };
          sent.push(message);
          for (const waiter of sentWaiters.splice(0)) {
            if (waiter.chatId === message.chatId) waiter.resolve(message);
            else sentWaiters.push(waiter);
          }
          const result = {
            message_id: nextMessageId++,
            date: Math.floor(Date.now() / 1000),
            chat: { id: message.chatId, type: "private" },
            from: me,
            text: message.text,
          };
          return reply(res, 200, { ok: true, result });
        }
        case "getUpdates": {
          const offset = Number(params.offset ?? 0);
          const timeoutMs = Number(params.timeout ?? 0) * 1000;
          const answer = () => {
            const fresh = updates.filter((u) => (u as { update_id: number }).update_id >= offset);
            reply(res, 200, { ok: true, result: fresh });
          };
          const hasFresh = updates.some((u) => (u as { update_id: number }).update_id >= offset);
          if (hasFresh || timeoutMs === 0) return answer();
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
    pushMessage(chatId, text) {
      const isCommand = text.startsWith("/");
      const commandLength = isCommand ? text.split(" ")[0]?.length ?? 0 : 0;
      updates.push({
        update_id: nextUpdateId++,
        message: {
          message_id: nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat: { id: chatId, type: "private", first_name: "Tester" },
          from: { id: chatId, is_bot: false, first_name: "Tester" },
          text,
          ...(isCommand ? { entities: [{ type: "bot_command", offset: 0, length: commandLength }] } : {}),
        },
      });
      for (const wake of pollers.splice(0)) wake();
    },
    nextSent(chatId) {
      return new Promise((resolve) => sentWaiters.push({ chatId, resolve }));
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
