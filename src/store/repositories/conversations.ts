import { and, asc, desc, eq, gt, inArray, isNull, lt, lte, ne, or, sql } from "drizzle-orm";
import {
  type ChatChannelKind,
  ChatMessage,
  ChatMessageCreate,
  Conversation,
  type ConversationState,
  ConversationUpdate,
  parseOrThrow,
} from "../../contracts/index.js";
import type { SecretRedactor } from "../../observability/index.js";
import type { ConversationRepository } from "../chat-repository.js";
import { chatMessages, conversationRuns, conversations } from "../schema.js";
import {
  type Db,
  firstOrNotFound,
  guard,
  iso,
  isoOrNull,
  isUniqueViolation,
  requireId,
  toContract,
} from "./common.js";

type ConversationRow = typeof conversations.$inferSelect;
type MessageRow = typeof chatMessages.$inferSelect;

function toConversation(row: ConversationRow): Conversation {
  return toContract(
    Conversation,
    {
      id: row.id,
      channel: row.channel,
      chatId: row.chatId,
      userId: row.userId,
      title: row.title,
      state: row.state,
      language: row.language,
      summary: row.summary,
      summarizedThrough: row.summarizedThrough,
      questionsAsked: row.questionsAsked,
      awaitingRunId: row.awaitingRunId,
      awaitingSecrets: row.awaitingSecrets ?? null,
      createdAt: iso(row.createdAt),
      updatedAt: iso(row.updatedAt),
    },
    "conversation",
  );
}

function toMessage(row: MessageRow): ChatMessage {
  return toContract(
    ChatMessage,
    {
      id: row.id,
      conversationId: row.conversationId,
      seq: row.seq,
      role: row.role,
      kind: row.kind,
      text: row.text,
      runId: row.runId,
      links: row.links,
      buttons: row.buttons,
      status: row.status,
      version: row.version,
      delivered: row.delivered,
      externalId: row.externalId,
      attempts: row.attempts,
      createdAt: iso(row.createdAt),
      editedAt: isoOrNull(row.editedAt),
    },
    "chat message",
  );
}

const touched = { updatedAt: sql`clock_timestamp()` };

/**
 * Conversations and their messages on any Postgres driver. Texts are masked with what the
 * redactor knows before they are written: a secret a person pastes is not kept in the history.
 */
export function createConversationRepository(db: Db, redactor: SecretRedactor): ConversationRepository {
  const getConversation = async (id: string) => {
    requireId("conversation", id);
    return toConversation(
      await firstOrNotFound(
        db.select().from(conversations).where(eq(conversations.id, id)),
        "conversation",
        id,
      ),
    );
  };
  // A message's channel is its conversation's, read in the statement itself (no extra round trip).
  // For an unknown conversation the placeholder lets the foreign key answer `not_found`.
  const channelOf = (conversationId: string) =>
    sql<ChatChannelKind>`coalesce((select ${conversations.channel} from ${conversations} where ${conversations.id} = ${conversationId}), 'web')`;

  return {
    async open(input) {
      // Nearly always the conversation exists: one read, and the insert only for a new chat.
      const [known] = await guard(() =>
        db
          .select()
          .from(conversations)
          .where(and(eq(conversations.channel, input.channel), eq(conversations.chatId, input.chatId))),
      );
      if (known) return toConversation(known);
      await guard(() =>
        db
          .insert(conversations)
          .values({
            channel: input.channel,
            chatId: input.chatId,
            userId: input.userId,
            language: input.language,
            title: input.title ?? "",
          })
          .onConflictDoNothing({ target: [conversations.channel, conversations.chatId] }),
      );
      const [row] = await guard(() =>
        db
          .select()
          .from(conversations)
          .where(and(eq(conversations.channel, input.channel), eq(conversations.chatId, input.chatId))),
      );
      if (!row) throw new Error(`conversation ${input.channel}/${input.chatId} vanished after its insert`);
      return toConversation(row);
    },
    get: getConversation,
    async find(channel, chatId) {
      const [row] = await guard(() =>
        db
          .select()
          .from(conversations)
          .where(and(eq(conversations.channel, channel), eq(conversations.chatId, chatId))),
      );
      return row ? toConversation(row) : null;
    },
    async listForUser(userId, limit) {
      requireId("user", userId);
      const rows = await guard(() =>
        db
          .select()
          .from(conversations)
          .where(eq(conversations.userId, userId))
          .orderBy(desc(conversations.updatedAt), desc(conversations.id))
          .limit(limit),
      );
      return rows.map(toConversation);
    },
    async update(id, patch) {
      requireId("conversation", id);
      const data = parseOrThrow(ConversationUpdate, patch, "conversation update");
      return toConversation(
        await firstOrNotFound(
          db
            .update(conversations)
            .set({ ...data, ...touched })
            .where(eq(conversations.id, id))
            .returning(),
          "conversation",
          id,
        ),
      );
    },
    async claim(id, holder, ttlMs) {
      requireId("conversation", id);
      const rows = await guard(() =>
        db
          .update(conversations)
          .set({
            state: "processing",
            leaseHolder: holder,
            leaseUntil: sql`clock_timestamp() + ${`${Math.ceil(ttlMs)} milliseconds`}::interval`,
            ...touched,
          })
          .where(
            and(
              eq(conversations.id, id),
              or(
                isNull(conversations.leaseHolder),
                eq(conversations.leaseHolder, holder),
                lt(conversations.leaseUntil, sql`clock_timestamp()`),
              ),
            ),
          )
          .returning(),
      );
      return rows[0] ? toConversation(rows[0]) : null;
    },
    async release(id, holder, state) {
      const next =
        state ??
        sql<ConversationState>`case when ${conversations.awaitingRunId} is null then 'idle' else 'awaiting' end`;
      requireId("conversation", id);
      await guard(() =>
        db
          .update(conversations)
          .set({ state: next, leaseHolder: null, leaseUntil: null, ...touched })
          .where(
            and(
              eq(conversations.id, id),
              holder === null ? isNull(conversations.leaseHolder) : eq(conversations.leaseHolder, holder),
            ),
          ),
      );
    },
    async withQueuedMessages(limit, holder) {
      const rows = await guard(() =>
        db
          .selectDistinct({ id: conversations.id })
          .from(chatMessages)
          .innerJoin(conversations, eq(conversations.id, chatMessages.conversationId))
          .where(
            and(
              eq(chatMessages.status, "queued"),
              or(
                isNull(conversations.leaseHolder),
                lt(conversations.leaseUntil, sql`clock_timestamp()`),
                holder === undefined ? undefined : eq(conversations.leaseHolder, holder),
              ),
            ),
          )
          .limit(limit),
      );
      return rows.map((r) => r.id);
    },

    async addInbound(input) {
      requireId("conversation", input.conversationId);
      const channel = channelOf(input.conversationId);
      const values = {
        conversationId: input.conversationId,
        channel,
        role: "person" as const,
        kind: "text" as const,
        text: redactor.redact(input.text),
        status: input.status ?? ("queued" as const),
        inboundKey: input.inboundKey,
        delivered: 1,
        ...(input.status === "handled" ? { handledAt: sql`clock_timestamp()` } : {}),
      };
      try {
        // The conversation's updated_at follows by trigger (migration 0010).
        const [row] = await guard(() => db.insert(chatMessages).values(values).returning());
        return { message: toMessage(row as MessageRow), duplicate: false };
      } catch (error) {
        if (input.inboundKey === null || !isUniqueViolation(error, "chat_messages_inbound_unique"))
          throw error;
        const [row] = await guard(() =>
          db
            .select()
            .from(chatMessages)
            .where(
              and(eq(chatMessages.channel, channel), eq(chatMessages.inboundKey, input.inboundKey as string)),
            ),
        );
        if (!row) throw error;
        return { message: toMessage(row), duplicate: true };
      }
    },
    async nextQueued(conversationId) {
      requireId("conversation", conversationId);
      const [row] = await guard(() =>
        db
          .select()
          .from(chatMessages)
          .where(and(eq(chatMessages.conversationId, conversationId), eq(chatMessages.status, "queued")))
          .orderBy(asc(chatMessages.seq))
          .limit(1),
      );
      return row ? toMessage(row) : null;
    },
    async markHandled(messageId) {
      requireId("chat message", messageId);
      // One statement: the update runs as a CTE, and the select (which sees the rows as they were
      // before it) leaves the handled message out by its id.
      const handled = db.$with("handled").as(
        db
          .update(chatMessages)
          .set({ status: "handled", handledAt: sql`clock_timestamp()` })
          .where(and(eq(chatMessages.id, messageId), eq(chatMessages.status, "queued")))
          .returning({ id: chatMessages.id }),
      );
      const [next] = await guard(() =>
        db
          .with(handled)
          .select()
          .from(chatMessages)
          .where(
            and(
              eq(
                chatMessages.conversationId,
                sql`(select ${chatMessages.conversationId} from ${chatMessages} where ${chatMessages.id} = ${messageId})`,
              ),
              eq(chatMessages.status, "queued"),
              ne(chatMessages.id, messageId),
            ),
          )
          .orderBy(asc(chatMessages.seq))
          .limit(1),
      );
      return next ? toMessage(next) : null;
    },
    async dropQueued(conversationId) {
      requireId("conversation", conversationId);
      const rows = await guard(() =>
        db
          .update(chatMessages)
          .set({ status: "handled", handledAt: sql`clock_timestamp()` })
          .where(and(eq(chatMessages.conversationId, conversationId), eq(chatMessages.status, "queued")))
          .returning({ id: chatMessages.id }),
      );
      return rows.length;
    },
    async addOutgoing(input) {
      const data = parseOrThrow(ChatMessageCreate, input, "chat message");
      requireId("conversation", data.conversationId);
      const channel = channelOf(data.conversationId);
      const values = {
        ...data,
        channel,
        text: redactor.redact(data.text),
        status: "pending" as const,
      };
      try {
        // The conversation's updated_at follows by trigger (migration 0010).
        const [row] = await guard(() => db.insert(chatMessages).values(values).returning());
        return toMessage(row as MessageRow);
      } catch (error) {
        if (data.key === null || !isUniqueViolation(error, "chat_messages_key_unique")) throw error;
        const [row] = await guard(() =>
          db
            .select()
            .from(chatMessages)
            .where(
              and(
                eq(chatMessages.conversationId, data.conversationId),
                eq(chatMessages.key, data.key as string),
              ),
            ),
        );
        if (!row) throw error;
        return toMessage(row);
      }
    },
    async edit(messageId, change) {
      requireId("chat message", messageId);
      return toMessage(
        await firstOrNotFound(
          db
            .update(chatMessages)
            .set({
              text: redactor.redact(change.text),
              ...(change.links ? { links: change.links } : {}),
              ...(change.buttons ? { buttons: change.buttons } : {}),
              version: sql`${chatMessages.version} + 1`,
              status: "pending",
              attempts: 0,
              nextAttemptAt: null,
              editedAt: sql`clock_timestamp()`,
            })
            .where(eq(chatMessages.id, messageId))
            .returning(),
          "chat message",
          messageId,
        ),
      );
    },
    async getMessage(id) {
      requireId("chat message", id);
      return toMessage(
        await firstOrNotFound(
          db.select().from(chatMessages).where(eq(chatMessages.id, id)),
          "chat message",
          id,
        ),
      );
    },
    async findByKey(conversationId, key) {
      requireId("conversation", conversationId);
      const [row] = await guard(() =>
        db
          .select()
          .from(chatMessages)
          .where(and(eq(chatMessages.conversationId, conversationId), eq(chatMessages.key, key))),
      );
      return row ? toMessage(row) : null;
    },
    async listMessages(conversationId, opts) {
      requireId("conversation", conversationId);
      const rows = await guard(() =>
        db
          .select()
          .from(chatMessages)
          .where(
            and(eq(chatMessages.conversationId, conversationId), gt(chatMessages.seq, opts.afterSeq ?? 0)),
          )
          .orderBy(asc(chatMessages.seq))
          .limit(opts.limit),
      );
      return rows.map(toMessage);
    },
    async recentMessages(conversationId, limit) {
      requireId("conversation", conversationId);
      const rows = await guard(() =>
        db
          .select()
          .from(chatMessages)
          .where(eq(chatMessages.conversationId, conversationId))
          .orderBy(desc(chatMessages.seq))
          .limit(limit),
      );
      return rows.reverse().map(toMessage);
    },
    async history(conversationId, opts) {
      requireId("conversation", conversationId);
      // Only the columns the PO reads: a turn's history is on the path of every reply.
      const rows = await guard(() =>
        db
          .select({ seq: chatMessages.seq, role: chatMessages.role, text: chatMessages.text })
          .from(chatMessages)
          .where(
            and(
              eq(chatMessages.conversationId, conversationId),
              gt(chatMessages.seq, opts.afterSeq),
              lt(chatMessages.seq, opts.beforeSeq),
              inArray(chatMessages.kind, [...opts.kinds]),
            ),
          )
          .orderBy(desc(chatMessages.seq))
          .limit(opts.limit),
      );
      return rows.reverse();
    },
    async undelivered(channel, limit) {
      const rows = await guard(() =>
        db
          .select()
          .from(chatMessages)
          .where(
            and(
              eq(chatMessages.channel, channel),
              eq(chatMessages.status, "pending"),
              or(isNull(chatMessages.nextAttemptAt), lte(chatMessages.nextAttemptAt, sql`clock_timestamp()`)),
            ),
          )
          .orderBy(asc(chatMessages.seq))
          .limit(limit),
      );
      return rows.map(toMessage);
    },
    async markDelivered(messageId, version, externalId) {
      requireId("chat message", messageId);
      // An edit made while this version was on its way keeps the message pending.
      await guard(() =>
        db
          .update(chatMessages)
          .set({
            delivered: sql`greatest(${chatMessages.delivered}, ${version})`,
            externalId,
            status: sql`case when ${chatMessages.version} <= ${version} then 'sent' else 'pending' end`,
            lastError: null,
          })
          .where(eq(chatMessages.id, messageId)),
      );
    },
    async markDeliveryFailed(messageId, error, retryAtMs) {
      requireId("chat message", messageId);
      await guard(() =>
        db
          .update(chatMessages)
          .set({
            attempts: sql`${chatMessages.attempts} + 1`,
            lastError: error.slice(0, 500),
            ...(retryAtMs === null ? { status: "failed" as const } : { nextAttemptAt: new Date(retryAtMs) }),
          })
          .where(eq(chatMessages.id, messageId)),
      );
    },

    async linkRun(runId, conversationId) {
      requireId("run", runId);
      requireId("conversation", conversationId);
      await guard(() => db.insert(conversationRuns).values({ runId, conversationId }).onConflictDoNothing());
    },
    async originOf(runId) {
      requireId("run", runId);
      const [row] = await guard(() =>
        db.select().from(conversationRuns).where(eq(conversationRuns.runId, runId)),
      );
      return row?.conversationId ?? null;
    },
  };
}
