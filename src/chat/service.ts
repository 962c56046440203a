import { randomUUID } from "node:crypto";
import {
  type ChatButton,
  type ChatChannelKind,
  type ChatMessage,
  type Conversation,
  nullIfNotFound,
  type User,
} from "../contracts/index.js";
import { TELEGRAM_BOT_TOKEN_KEY } from "../secrets/index.js";
import { accessButtonData, parseAccessButton, type TelegramAccess, telegramUser } from "./access.js";
import type { ChatChannel, ChatInbox, InboundMessage, InboundPress } from "./channel.js";
import { type Command, commandOf, isCommand, projectLines, userProjects } from "./commands.js";
import type { ChatChange } from "./feed.js";
import { languageOf } from "./i18n/index.js";
import { fillAwaited, parseWebhookButton, type SecretIntake, takeSecrets } from "./secret-intake.js";
import { handleMessage, type TurnDeps } from "./turn.js";

export interface ChatServiceDeps extends TurnDeps {
  /** This process, as the holder of the conversations it works on. */
  holder: string;
  telegram: TelegramAccess;
  /** How long a conversation stays this process's without a renewal (renewed while it works). */
  leaseMs: number;
  /** `/status`: the person's projects' health, runs and failures, in their language. */
  status(conversation: Conversation, user: User): Promise<string>;
  /**
   * Set in a process that takes messages in without working on them (the `api` role without
   * `chat`): a conversation with queued messages is handed to the chat processes, not drained here.
   */
  handOver?: (conversationId: string) => void;
}

/** A conversation this process works on: more arrived meanwhile, the current turn, a stop. */
interface Draining {
  again: boolean;
  turn: AbortController | null;
  stopped: boolean;
}

/**
 * "typing" is shown once a turn takes longer than this (a quicker answer needs no sign, and saves a
 * Bot API call), then repeated while the PO works (Telegram shows it about 5 s).
 */
const TYPING_AFTER_MS = 300;
const TYPING_EVERY_MS = 4_000;

/**
 * The conversation service: the one inbox of every channel. It decides access, answers commands,
 * queues a person's messages in the store and works through each conversation's queue in order
 * (one message at a time, conversations in parallel), across restarts and processes.
 */
export class ChatService implements ChatInbox {
  private readonly channels = new Map<ChatChannelKind, ChatChannel>();
  /** Conversations this process is draining, and whether more arrived meanwhile. */
  private readonly draining = new Map<string, Draining>();
  private readonly idle = new Set<() => void>();

  constructor(private readonly deps: ChatServiceDeps) {}

  attach(channel: ChatChannel): void {
    this.channels.set(channel.kind, channel);
  }

  async receive(inbound: InboundMessage): Promise<ChatMessage | null> {
    const { store } = this.deps;
    const user =
      inbound.channel === "telegram"
        ? await telegramUser(store, this.deps.telegram, inbound.sender)
        : await store.users.get(inbound.sender.externalId);
    let conversation = await store.conversations.open({
      channel: inbound.channel,
      chatId: inbound.chatId,
      userId: user.id,
      language: languageOf(inbound.sender.languageCode),
    });
    if (inbound.sender.languageCode && languageOf(inbound.sender.languageCode) !== conversation.language) {
      conversation = await store.conversations.update(conversation.id, {
        language: languageOf(inbound.sender.languageCode),
      });
    }
    // Secrets are out of the text before anything keeps it: kept sealed, named in their place.
    const intake = await takeSecrets(this.deps, conversation, user, inbound.text);
    const text = intake.text.trim();
    if (text.length === 0) return null;
    const command = commandOf(text);
    const handled = !user.isAllowed || command !== null;
    const { message, duplicate } = await store.conversations.addInbound({
      conversationId: conversation.id,
      text,
      inboundKey: inbound.inboundKey,
      status: handled ? "handled" : "queued",
    });
    this.deps.feed.emit(conversation.id, "other");
    if (duplicate) {
      if (!handled) this.kick(conversation.id);
      return message;
    }
    if (intake.taken.length > 0) await this.secretsTaken(conversation, inbound, message, intake);
    if (!user.isAllowed) await this.accessPending(conversation, user, message);
    else if (command) await this.command(conversation, user, command.command, message);
    else this.kick(conversation.id);
    return message;
  }

  async press(press: InboundPress): Promise<{ notice: string | null }> {
    const { store, t } = this.deps;
    const webhook = parseWebhookButton(press.data);
    if (webhook) return this.removeWebhook(press, webhook.projectId);
    const decision = parseAccessButton(press.data);
    if (!decision || press.channel !== "telegram") return { notice: null };
    const admin = await telegramUser(store, this.deps.telegram, press.sender);
    const adminConversation = await store.conversations.find("telegram", press.chatId);
    const language = adminConversation?.language ?? languageOf(press.sender.languageCode);
    if (admin.role !== "admin" || !admin.isAllowed) return { notice: t(language, "access.adminOnly") };
    const person = await store.users.update(decision.userId, { isAllowed: decision.decision === "approve" });
    const decided = t(
      language,
      decision.decision === "approve" ? "access.decidedApproved" : "access.decidedDenied",
      {
        name: person.name,
      },
    );
    // Every admin's copy of the request shows the decision, without its buttons.
    for (const id of this.deps.telegram.admins) {
      const conversation = await store.conversations.find("telegram", id);
      const request = conversation
        ? await store.conversations.findByKey(conversation.id, `access-request:${person.id}`)
        : null;
      if (conversation && request) {
        await store.conversations.edit(request.id, {
          text: t(
            conversation.language,
            decision.decision === "approve" ? "access.decidedApproved" : "access.decidedDenied",
            {
              name: person.name,
            },
          ),
          buttons: [],
        });
        this.changed(conversation.id);
      }
    }
    if (person.telegramId) {
      const theirs = await store.conversations.find("telegram", person.telegramId);
      if (theirs) {
        await this.say(
          theirs,
          `access-decision:${decision.decision}`,
          decision.decision === "approve" ? "access.granted" : "access.denied",
        );
      }
    }
    return { notice: decided };
  }

  /**
   * Picks up queued messages nobody works on (after a restart, or another process's crash), and
   * those this holder leased before it was killed: its id is the same after the restart.
   */
  /** The person pressed "remove the webhook" under a token's verdict: their project's bot, or the held one. */
  private async removeWebhook(
    press: InboundPress,
    projectId: string | null,
  ): Promise<{ notice: string | null }> {
    const { store, t } = this.deps;
    const conversation = await store.conversations.find(press.channel, press.chatId);
    if (!conversation?.userId) return { notice: null };
    const language = conversation.language;
    if (projectId) {
      const project = await store.projects.get(projectId).catch(nullIfNotFound);
      if (project?.ownerId !== conversation.userId)
        return { notice: t(language, "secrets.webhookFailed", { reason: "not your project" }) };
    }
    const removed = await this.deps.bots.removeWebhook(
      projectId ? { projectId } : { conversationId: conversation.id },
    );
    const text = removed.ok
      ? t(language, "secrets.webhookRemoved", { username: await this.botName(conversation.id, projectId) })
      : t(language, "secrets.webhookFailed", { reason: removed.description ?? "" });
    await this.reply(conversation, `webhook:${randomUUID()}`, text);
    return { notice: text };
  }

  /** The username of the bot a project (or the conversation) keeps a token of. */
  private async botName(conversationId: string, projectId: string | null): Promise<string> {
    if (projectId) {
      const meta = (await this.deps.secrets.listMeta(projectId)).find(
        (m) => m.key === TELEGRAM_BOT_TOKEN_KEY,
      );
      if (meta?.bot) return meta.bot.username;
    } else {
      const token = await this.deps.secrets.heldValue(conversationId, TELEGRAM_BOT_TOKEN_KEY);
      const checked = token ? await this.deps.bots.check(token, null) : null;
      if (checked?.ok) return checked.bot.username;
    }
    return "the bot";
  }

  async resume(): Promise<void> {
    const { store, holder } = this.deps;
    for (const id of await store.conversations.withQueuedMessages(500, holder)) this.kick(id);
  }

  /** Resolves when no conversation is being worked on here (tests, shutdown). */
  async settled(): Promise<void> {
    if (this.draining.size === 0) return;
    await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  /** Stops working: the current PO turns are aborted; their messages stay queued for the next start. */
  async stop(): Promise<void> {
    for (const state of this.draining.values()) {
      state.stopped = true;
      state.turn?.abort();
    }
    await this.settled();
  }

  /**
   * Works through a conversation's queue here, unless it already is (then once more after), or
   * hands it over when this process does not work on conversations.
   */
  kick(conversationId: string): void {
    if (this.deps.handOver) {
      this.deps.handOver(conversationId);
      return;
    }
    const current = this.draining.get(conversationId);
    if (current) {
      current.again = true;
      return;
    }
    const state: Draining = { again: false, turn: null, stopped: false };
    this.draining.set(conversationId, state);
    void this.drain(conversationId, state)
      .catch((error) => this.deps.logger.error({ err: error, conversationId }, "conversation queue failed"))
      .finally(() => {
        this.draining.delete(conversationId);
        if (state.again && !state.stopped) this.kick(conversationId);
        if (this.draining.size === 0) {
          for (const resolve of this.idle) resolve();
          this.idle.clear();
        }
      });
  }

  private async drain(conversationId: string, state: Draining): Promise<void> {
    const { store, holder, leaseMs, logger } = this.deps;
    // The lease is taken before each message (the claim answers the conversation as it is now) and
    // renewed while the PO works; another process holding it drains the conversation itself.
    const claim = () => store.conversations.claim(conversationId, holder, leaseMs);
    // What arrives from here on is seen by this read, or kicks this queue again.
    const next = (handled: ChatMessage | null) => {
      state.again = false;
      return handled
        ? store.conversations.markHandled(handled.id)
        : store.conversations.nextQueued(conversationId);
    };
    let conversation = await claim();
    if (!conversation) return;
    this.changed(conversationId, "other");
    let message = await next(null);
    while (!state.stopped) {
      if (!message) {
        await store.conversations.release(conversationId, holder);
        this.changed(conversationId, "other");
        if (!state.again) return;
        conversation = await claim();
        if (!conversation) return;
        this.changed(conversationId, "other");
        message = await next(null);
        continue;
      }
      const stopTyping = this.typing(conversation);
      // A turn may outlast the lease: it is renewed while the PO works, so a process that dies
      // mid-turn gives the conversation up within one lease, not after the longest turn.
      const renew = setInterval(() => {
        claim().catch((error) =>
          logger.warn({ err: error, conversationId }, "could not renew a conversation's lease"),
        );
      }, leaseMs / 3);
      state.turn = new AbortController();
      try {
        await handleMessage(this.deps, conversation, message, state.turn.signal);
      } catch (error) {
        logger.error({ err: error, conversationId, messageId: message.id }, "could not handle a message");
        await store.conversations.addOutgoing({
          conversationId,
          role: "system",
          kind: "error",
          text: this.deps.t(conversation.language, "error.internal"),
          key: `reply:${message.id}:0`,
        });
        this.changed(conversationId);
      } finally {
        clearInterval(renew);
        stopTyping();
        state.turn = null;
      }
      // A stop mid-turn leaves the message queued: it is handled after the restart. A `/cancel`
      // aborted the turn and dropped the message.
      if (state.stopped) return;
      message = await next(message);
      // Replies woke the outbox as they were stored; this is the message's own state.
      this.changed(conversationId, "other");
      if (message) {
        conversation = await claim();
        if (!conversation) return;
      }
    }
  }

  private typing(conversation: Conversation): () => void {
    const channel = this.channels.get(conversation.channel);
    if (!channel) return () => {};
    const send = () =>
      void channel
        .typing(conversation.chatId)
        .catch((error) => this.deps.logger.debug({ err: error }, "typing failed"));
    let every: NodeJS.Timeout | undefined;
    const first = setTimeout(() => {
      send();
      every = setInterval(send, TYPING_EVERY_MS);
    }, TYPING_AFTER_MS);
    return () => {
      clearTimeout(first);
      clearInterval(every);
    };
  }

  private async command(
    conversation: Conversation,
    user: User,
    name: string,
    message: ChatMessage,
  ): Promise<void> {
    const { store, t } = this.deps;
    const language = conversation.language;
    const key = `reply:${message.id}:0`;
    const commands = t(language, "commands");
    if (!isCommand(name)) {
      await this.reply(conversation, key, t(language, "unknownCommand", { command: `/${name}`, commands }));
      return;
    }
    const handlers: Record<Command, () => Promise<string>> = {
      start: async () => t(language, "start", { name: user.name, commands }),
      help: async () => t(language, "help", { commands }),
      projects: async () => {
        const projects = await userProjects(store, user);
        if (projects.length === 0) return t(language, "projects.none");
        return [t(language, "projects.header"), ...(await projectLines(store, t, language, projects))].join(
          "\n",
        );
      },
      status: () => this.deps.status(conversation, user),
      new: async () => {
        const last = (await store.conversations.recentMessages(conversation.id, 1))[0];
        await store.conversations.update(conversation.id, {
          summary: null,
          summarizedThrough: last?.seq ?? 0,
          questionsAsked: 0,
          awaitingRunId: null,
          awaitingSecrets: null,
        });
        return t(language, "new");
      },
      cancel: async () => {
        const dropped = await store.conversations.dropQueued(conversation.id);
        const working = this.draining.get(conversation.id);
        working?.turn?.abort();
        await store.conversations.update(conversation.id, { awaitingRunId: null, awaitingSecrets: null });
        return dropped > 0 || working?.turn
          ? t(language, "cancel.done", { count: dropped })
          : t(language, "cancel.nothing");
      },
    };
    await this.reply(conversation, key, await handlers[name]());
  }

  private async accessPending(conversation: Conversation, user: User, message: ChatMessage): Promise<void> {
    const { store, t } = this.deps;
    await this.reply(conversation, `reply:${message.id}:0`, t(conversation.language, "access.pending"));
    for (const id of this.deps.telegram.admins) {
      const admin = await store.conversations.open({
        channel: "telegram",
        chatId: id,
        userId: null,
        language: "en",
      });
      await store.conversations.addOutgoing({
        conversationId: admin.id,
        role: "system",
        kind: "notice",
        text: t(admin.language, "access.request", {
          name: user.name,
          handle:
            conversation.chatId === user.telegramId ? `tg://user?id=${user.telegramId}` : conversation.chatId,
          id: user.telegramId ?? user.id,
        }),
        buttons: [
          { text: t(admin.language, "access.approve"), data: accessButtonData("approve", user.id) },
          { text: t(admin.language, "access.deny"), data: accessButtonData("deny", user.id) },
        ],
        key: `access-request:${user.id}`,
      });
      this.changed(admin.id);
    }
  }

  /**
   * The person's message is taken out of the chat where the channel can; they are told what was
   * kept, and what each check found (the bot a token runs, or why it was refused).
   */
  private async secretsTaken(
    conversation: Conversation,
    inbound: InboundMessage,
    message: ChatMessage,
    intake: SecretIntake,
  ): Promise<void> {
    const channel = this.channels.get(inbound.channel);
    const forgotten = channel ? await channel.forget(inbound.chatId, inbound.externalId) : false;
    await this.reply(
      conversation,
      `secrets-taken:${message.id}`,
      this.deps.t(conversation.language, forgotten ? "secrets.taken" : "secrets.takenKeep", {
        names: intake.taken.join(", "),
      }),
    );
    for (const [i, notice] of intake.notices.entries()) {
      await this.reply(conversation, `secrets-taken:${message.id}:${i}`, notice.text, notice.buttons);
    }
  }

  /**
   * A value the web chat's masked field sends for a secret the PO asked for: it never becomes a
   * message; the person is told what was stored (or why not).
   */
  async fillSecret(conversationId: string, user: User, key: string, value: string): Promise<string[]> {
    const conversation = await this.deps.store.conversations.get(conversationId);
    const notices = conversation.awaitingSecrets?.keys.includes(key)
      ? await fillAwaited(this.deps, conversation, user, key, value)
      : [{ text: this.deps.t(conversation.language, "secrets.notAsked", { key }) }];
    const stamp = randomUUID();
    for (const [i, notice] of notices.entries()) {
      await this.reply(conversation, `secret-field:${stamp}:${i}`, notice.text, notice.buttons);
    }
    return notices.map((n) => n.text);
  }

  private async say(conversation: Conversation, key: string, text: Parameters<ChatServiceDeps["t"]>[1]) {
    await this.reply(conversation, key, this.deps.t(conversation.language, text));
  }

  private async reply(
    conversation: Conversation,
    key: string,
    text: string,
    buttons: ChatButton[] = [],
  ): Promise<void> {
    await this.deps.store.conversations.addOutgoing({
      conversationId: conversation.id,
      role: "system",
      kind: "notice",
      text,
      buttons,
      key,
    });
    this.changed(conversation.id);
  }

  private changed(conversationId: string, change: ChatChange = "outgoing"): void {
    this.deps.feed.emit(conversationId, change);
  }
}
