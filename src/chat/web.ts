import { randomUUID } from "node:crypto";
import {
  AppError,
  type ChatLanguage,
  type ChatMessage,
  type ChatMessageView,
  type Conversation,
  type ConversationView,
  DeployRunResult,
  type ModelProviderKind,
  type Principal,
  type User,
} from "../contracts/index.js";
import type { Store } from "../store/index.js";
import { webUser } from "./access.js";
import type { ChatChannel, ChatInbox, OutboundMessage } from "./channel.js";
import type { ChatFeed } from "./feed.js";
import type { ChatService } from "./service.js";

/**
 * The web chat as a channel: messages live in the store, which the browser reads over the API
 * and its event stream, so "sending" is already done when the outbox gets there.
 */
export class WebChannel implements ChatChannel {
  readonly kind = "web" as const;
  async start(_inbox: ChatInbox): Promise<void> {}
  async send(_chatId: string, _message: OutboundMessage): Promise<string> {
    return "web";
  }
  async edit(_chatId: string, _externalId: string, _message: OutboundMessage): Promise<void> {}
  async typing(_chatId: string): Promise<void> {}
  /** The web chat keeps only what the service stored (secrets already taken out): nothing to take back. */
  async forget(_chatId: string, _externalId: string | null): Promise<boolean> {
    return true;
  }
  async stop(): Promise<void> {}
}

export function messageView(m: ChatMessage): ChatMessageView {
  return {
    id: m.id,
    seq: m.seq,
    role: m.role,
    kind: m.kind,
    text: m.text,
    runId: m.runId,
    links: m.links,
    createdAt: m.createdAt,
    editedAt: m.editedAt,
  };
}

export function conversationView(c: Conversation): ConversationView {
  return {
    id: c.id,
    title: c.title,
    state: c.state,
    language: c.language,
    awaitingSecrets: c.awaitingSecrets,
    updatedAt: c.updatedAt,
  };
}

/** What the web chat's routes do, for the person a token stands for. */
export class WebChat {
  constructor(
    private readonly deps: {
      store: Store;
      inbox: ChatInbox;
      /** Where a masked field's value goes: the conversation service, never the message queue. */
      secrets: Pick<ChatService, "fillSecret">;
      feed: ChatFeed;
      /** The PO's model now (its AgentConfig can change it). */
      model: () => Promise<ModelProviderKind>;
      demo: boolean;
    },
  ) {}

  user(principal: Principal): Promise<User> {
    if (principal.kind === "worker") {
      throw new AppError("forbidden", "forbidden", "worker tokens cannot use the chat");
    }
    return webUser(this.deps.store, principal);
  }

  async me(principal: Principal) {
    const user = await this.user(principal);
    const latest = (await this.deps.store.conversations.listForUser(user.id, 1))[0];
    const model = await this.deps.model();
    return {
      user: { id: user.id, name: user.name },
      language: latest?.language ?? ("en" as const),
      model: { provider: model, scripted: model === "scripted" },
      demo: this.deps.demo,
    };
  }

  async conversations(principal: Principal): Promise<ConversationView[]> {
    const user = await this.user(principal);
    return (await this.deps.store.conversations.listForUser(user.id, 100))
      .filter((c) => c.channel === "web")
      .map(conversationView);
  }

  async create(principal: Principal, language: ChatLanguage | undefined): Promise<ConversationView> {
    const user = await this.user(principal);
    const conversation = await this.deps.store.conversations.open({
      channel: "web",
      chatId: randomUUID(),
      userId: user.id,
      language: language ?? "en",
    });
    return conversationView(conversation);
  }

  /** The person's own web conversation; another's is `not_found`, as if it did not exist. */
  async conversation(principal: Principal, id: string): Promise<Conversation> {
    const user = await this.user(principal);
    const conversation = await this.deps.store.conversations.get(id);
    if (conversation.userId !== user.id || conversation.channel !== "web") {
      throw new AppError("not_found", "not_found", `conversation ${id} not found`, {
        details: [{ path: "id", message: "no such conversation of yours" }],
      });
    }
    return conversation;
  }

  async update(principal: Principal, id: string, patch: { language?: ChatLanguage; title?: string }) {
    await this.conversation(principal, id);
    const updated = await this.deps.store.conversations.update(id, patch);
    this.deps.feed.emit(id, "other");
    return conversationView(updated);
  }

  async messages(principal: Principal, id: string, afterSeq: number): Promise<ChatMessageView[]> {
    await this.conversation(principal, id);
    return (await this.deps.store.conversations.listMessages(id, { afterSeq, limit: 500 })).map(messageView);
  }

  /** A person's message: queued for the PO like a Telegram one; the answer comes on the stream. */
  async post(
    principal: Principal,
    id: string,
    text: string,
    clientId: string | null,
  ): Promise<ChatMessageView> {
    const conversation = await this.conversation(principal, id);
    const user = await this.user(principal);
    const inboundKey = clientId ? `${id}:${clientId}` : null;
    const stored = await this.deps.inbox.receive({
      channel: "web",
      chatId: conversation.chatId,
      sender: { externalId: user.id, name: user.name, username: null, languageCode: null },
      text,
      inboundKey,
      externalId: null,
    });
    if (!stored) {
      throw new AppError("invalid", "invalid_input", "the message is empty", {
        details: [{ path: "text", message: "write something" }],
      });
    }
    // Named after what was stored: a secret in the first message is already taken out.
    if (!conversation.title) {
      await this.deps.store.conversations.update(id, { title: stored.text.slice(0, 60) });
    }
    return messageView(stored);
  }

  /**
   * A value from the masked field for a secret the PO asked for: stored for the project, never a
   * message. Answers what the person is told (also posted to the conversation).
   */
  async fillSecret(
    principal: Principal,
    id: string,
    key: string,
    value: string,
  ): Promise<{ notices: string[] }> {
    await this.conversation(principal, id);
    const user = await this.user(principal);
    const notices = await this.deps.secrets.fillSecret(id, user, key, value);
    this.deps.feed.emit(id, "other");
    return { notices };
  }

  async projects(principal: Principal) {
    const user = await this.user(principal);
    const { store } = this.deps;
    const projects = await store.projects.list({ ownerId: user.id, limit: 100, offset: 0 });
    const items = [];
    for (const p of projects.items) {
      const live = await store.deployments.list({ projectId: p.id, status: "healthy", limit: 1, offset: 0 });
      // A bot's name is known from the health gate of the deploy that put it live.
      const deployed = await store.runs.list({
        projectId: p.id,
        kind: "deploy",
        status: "succeeded",
        limit: 1,
        offset: 0,
      });
      const result = DeployRunResult.safeParse(deployed.items[0]?.result).data;
      items.push({
        id: p.id,
        slug: p.slug,
        name: p.name,
        status: p.status,
        url: live.items[0]?.url ?? null,
        botUsername: p.status === "live" ? (result?.botUsername ?? null) : null,
      });
    }
    return items;
  }

  watch(conversationId: string, listener: () => void): () => void {
    return this.deps.feed.on(conversationId, listener);
  }
}
