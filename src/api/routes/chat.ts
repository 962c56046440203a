import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { TELEGRAM_WEBHOOK_PATH } from "../../chat/index.js";
import {
  AppError,
  ChatLanguage,
  ChatMessageView,
  ConversationView,
  Id,
  ModelProviderKind,
  ProjectStatus,
} from "../../contracts/index.js";
import { SecretKey, SecretValue } from "../../secrets/index.js";
import type { Api, ApiDeps } from "../context.js";
import { principalOf } from "../context.js";
import { openEventStream } from "../sse.js";

/** How often an open chat stream looks in the store (changes made by another process) and pings. */
const STREAM_POLL_MS = 2_000;
const PING_MS = 15_000;

const ByConversation = z.object({ id: Id });
const After = z.object({ after: z.coerce.number().int().min(0).default(0) });

/**
 * The web chat's routes (any valid token: a person's user token, or an admin token as the admin
 * web user) and Telegram's webhook (public; grammY checks Telegram's secret header).
 */
export function registerChatRoutes(app: Api, deps: ApiDeps): void {
  const chat = deps.chat;
  if (!chat) return;
  const token = { access: "token" as const };
  app.get(
    "/api/chat/me",
    {
      config: token,
      schema: {
        tags: ["chat"],
        response: {
          200: z.object({
            user: z.object({ id: Id, name: z.string() }),
            language: ChatLanguage,
            model: z.object({ provider: ModelProviderKind, scripted: z.boolean() }),
            demo: z.boolean(),
          }),
        },
      },
    },
    (req) => chat.web.me(principalOf(req)),
  );
  app.get(
    "/api/chat/conversations",
    {
      config: token,
      schema: { tags: ["chat"], response: { 200: z.object({ items: z.array(ConversationView) }) } },
    },
    async (req) => ({ items: await chat.web.conversations(principalOf(req)) }),
  );
  app.post(
    "/api/chat/conversations",
    {
      config: token,
      schema: {
        tags: ["chat"],
        body: z.object({ language: ChatLanguage.optional() }).default({}),
        response: { 201: ConversationView },
      },
    },
    async (req, reply) => reply.code(201).send(await chat.web.create(principalOf(req), req.body.language)),
  );
  app.patch(
    "/api/chat/conversations/:id",
    {
      config: token,
      schema: {
        tags: ["chat"],
        params: ByConversation,
        body: z.object({ language: ChatLanguage.optional(), title: z.string().trim().max(200).optional() }),
        response: { 200: ConversationView },
      },
    },
    (req) => chat.web.update(principalOf(req), req.params.id, req.body),
  );
  app.get(
    "/api/chat/conversations/:id/messages",
    {
      config: token,
      schema: {
        tags: ["chat"],
        params: ByConversation,
        querystring: After,
        response: { 200: z.object({ items: z.array(ChatMessageView) }) },
      },
    },
    async (req) => ({ items: await chat.web.messages(principalOf(req), req.params.id, req.query.after) }),
  );
  app.post(
    "/api/chat/conversations/:id/messages",
    {
      config: token,
      schema: {
        tags: ["chat"],
        params: ByConversation,
        body: z.object({
          text: z.string().trim().min(1, "write something").max(8_000),
          /** The browser's id of the message: a retried POST is stored once. */
          clientId: z.string().min(1).max(100).optional(),
        }),
        response: { 202: z.object({ message: ChatMessageView }) },
      },
    },
    async (req, reply) =>
      reply.code(202).send({
        message: await chat.web.post(
          principalOf(req),
          req.params.id,
          req.body.text,
          req.body.clientId ?? null,
        ),
      }),
  );
  app.post(
    "/api/chat/conversations/:id/secret",
    {
      config: token,
      schema: {
        tags: ["chat"],
        params: ByConversation,
        body: z.object({
          key: SecretKey,
          /** Never stored as a message, logged or answered. */
          value: SecretValue,
        }),
        response: { 200: z.object({ notices: z.array(z.string()) }) },
      },
    },
    async (req) => chat.web.fillSecret(principalOf(req), req.params.id, req.body.key, req.body.value),
  );
  app.get(
    "/api/chat/projects",
    {
      config: token,
      schema: {
        tags: ["chat"],
        response: {
          200: z.object({
            items: z.array(
              z.object({
                id: Id,
                slug: z.string(),
                name: z.string(),
                status: ProjectStatus,
                url: z.string().nullable(),
                botUsername: z.string().nullable(),
              }),
            ),
          }),
        },
      },
    },
    async (req) => ({ items: await chat.web.projects(principalOf(req)) }),
  );
  app.get(
    "/api/chat/conversations/:id/stream",
    { config: token, schema: { tags: ["chat"], params: ByConversation, querystring: After } },
    async (req, reply) => {
      await chat.web.conversation(principalOf(req), req.params.id);
      streamConversation(req, reply, deps, req.params.id, req.query.after);
    },
  );
  app.post(TELEGRAM_WEBHOOK_PATH, { config: { access: "public" } }, async (req, reply) => {
    const handler = chat.telegram?.webhookHandler();
    if (!handler) throw new AppError("not_found", "route_not_found", "the Telegram webhook is not in use");
    return handler(req, reply);
  });
}

/**
 * Server-sent events of one conversation: `message` for each message after `afterSeq` and again
 * when it is edited (same id, new `editedAt`), also an edited one the reader already had (its copy
 * may predate the edit); `state` when the conversation's state moves. Woken by this process's
 * feed; a poll of the store brings what other processes wrote.
 */
function streamConversation(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: ApiDeps,
  conversationId: string,
  afterSeq: number,
): void {
  const chat = deps.chat;
  if (!chat) return;
  const { redactor } = request.server;
  const raw = openEventStream(reply, "conversation stream");
  const seen = new Map<string, string | null>();
  let floor = afterSeq;
  let state: string | null = null;
  let awaited: string | null = null;
  let closed = false;
  let busy: Promise<void> | null = null;
  let again = false;
  const write = (event: string, data: unknown) => {
    raw.write(`event: ${event}\ndata: ${redactor.redact(JSON.stringify(data))}\n\n`);
  };
  const sync = async () => {
    const conversation = await deps.store.conversations.get(conversationId);
    if (conversation.state !== state) {
      state = conversation.state;
      write("state", { state });
    }
    // The secrets the PO waits for, by name: the web chat shows a masked field for the first.
    const keys = JSON.stringify(conversation.awaitingSecrets?.keys ?? []);
    if (keys !== awaited) {
      awaited = keys;
      write("secrets", { keys: conversation.awaitingSecrets?.keys ?? [] });
    }
    const fresh = await deps.store.conversations.listMessages(conversationId, {
      afterSeq: floor,
      limit: 500,
    });
    // Edits land on messages already sent: the last hundred are looked at again.
    const recent = await deps.store.conversations.recentMessages(conversationId, 100);
    const byId = new Map([...recent, ...fresh].map((m) => [m.id, m]));
    for (const m of [...byId.values()].sort((a, b) => a.seq - b.seq)) {
      // One the reader had on connecting (up to `afterSeq`) may be an older copy: sent once edited.
      const known = seen.has(m.id) ? seen.get(m.id) : m.seq <= afterSeq ? null : undefined;
      if (known === m.editedAt) continue;
      seen.set(m.id, m.editedAt);
      write("message", ChatMessageView.parse(m));
    }
    floor = Math.max(floor, ...fresh.map((m) => m.seq));
  };
  const wake = () => {
    if (closed) return;
    if (busy) {
      again = true;
      return;
    }
    busy = sync()
      .catch((error) => deps.logger.warn({ err: error, conversationId }, "chat stream could not read"))
      .finally(() => {
        busy = null;
        if (again) {
          again = false;
          wake();
        }
      });
  };
  const unsubscribe = chat.web.watch(conversationId, wake);
  const poll = setInterval(wake, STREAM_POLL_MS);
  const ping = setInterval(() => raw.write(": ping\n\n"), PING_MS);
  const close = () => {
    closed = true;
    unsubscribe();
    clearInterval(poll);
    clearInterval(ping);
  };
  request.raw.on("close", close);
  wake();
}
