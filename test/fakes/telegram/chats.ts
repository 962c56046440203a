/**
 * What happened in the chats: messages bots sent (and later edited or deleted), messages users
 * pushed, chat actions, button presses and their answers. Tests read it and wait on it; the method
 * handlers write to it.
 */
import { checkText, type FakeInlineKeyboard } from "./markup.js";
import { type Params, unixNow } from "./protocol.js";

/** A message a bot sent through `sendMessage`, as it stands now. */
export interface FakeSentMessage {
  /** Token of the bot that sent it. */
  token: string;
  chatId: number;
  messageId: number;
  /** The text as the bot last sent it (HTML tags included when `parseMode` is HTML). */
  text: string;
  parseMode: string | undefined;
  /** The `sendMessage` parameters as received. */
  params: Params;
  /** The inline keyboard under it now: an edit without one removes it, as on Telegram. */
  replyMarkup: FakeInlineKeyboard | undefined;
  /** The message it answers (`reply_parameters.message_id`). */
  replyToMessageId: number | undefined;
  /** Texts it was edited to, in order. */
  edits: string[];
  isDeleted: boolean;
}

/** A `sendChatAction` call (`typing`, `upload_document`, ...). */
export interface FakeChatAction {
  token: string;
  chatId: number;
  action: string;
}

/** A button press pushed by a test and how the bot answered it (`answerCallbackQuery`). */
export interface FakeCallbackQuery {
  token: string;
  id: string;
  chatId: number;
  messageId: number;
  data: string;
  /** Undefined until the bot answers. */
  answer: { text: string | undefined; showAlert: boolean } | undefined;
}

/** A message a user pushed, kept so a bot's reply to it can be checked and quoted. */
interface UserMessage {
  token: string;
  chatId: number;
  messageId: number;
  json: Record<string, unknown>;
  isDeleted: boolean;
}

interface Waiter {
  check(): boolean;
}

/** Everything that happened in the chats of all bots on one fake, with waits on it. */
export class ChatLog {
  readonly sent: FakeSentMessage[] = [];
  readonly actions: FakeChatAction[] = [];
  readonly callbackQueries: FakeCallbackQuery[] = [];
  #userMessages: UserMessage[] = [];
  #nextMessageId = 1;
  #nextCallbackId = 1;
  #waiters = new Set<Waiter>();
  #closers = new Set<() => void>();

  /** Message ids are unique across chats here (Telegram counts per chat; no client can tell). */
  nextMessageId(): number {
    return this.#nextMessageId++;
  }

  nextCallbackQueryId(): string {
    return String(4_000_000_000 + this.#nextCallbackId++);
  }

  recordUserMessage(token: string, json: Record<string, unknown>): void {
    const chatId = Number((json.chat as { id: number }).id);
    this.#userMessages.push({ token, chatId, messageId: Number(json.message_id), json, isDeleted: false });
  }

  /** What users wrote to bots, in order, deleted ones marked. */
  userMessages(): { token: string; chatId: number; messageId: number; text: string; isDeleted: boolean }[] {
    return this.#userMessages.map((m) => ({
      token: m.token,
      chatId: m.chatId,
      messageId: m.messageId,
      text: String(m.json.text ?? ""),
      isDeleted: m.isDeleted,
    }));
  }

  /** Deletes a user's message in the bot's chat; false when there is none. */
  deleteUserMessage(token: string, chatId: number, messageId: number | undefined): boolean {
    const message = this.#findUserMessage(token, chatId, messageId);
    if (message) message.isDeleted = true;
    return message !== undefined;
  }

  #findUserMessage(token: string, chatId: number, messageId: number | undefined): UserMessage | undefined {
    return this.#userMessages.find(
      (m) => m.token === token && m.chatId === chatId && m.messageId === messageId && !m.isDeleted,
    );
  }

  /** Records a change a test may be waiting for (a message sent, edited or deleted, a press answered). */
  changed(): void {
    for (const waiter of this.#waiters) waiter.check();
  }

  /** A message of this bot in this chat that is still there. */
  findSent(
    token: string,
    chatId: number | undefined,
    messageId: number | undefined,
  ): FakeSentMessage | undefined {
    return this.sent.find(
      (m) => m.token === token && m.chatId === chatId && m.messageId === messageId && !m.isDeleted,
    );
  }

  /** The message JSON of any message this bot can see in the chat (its own or the user's). */
  findMessageJson(
    token: string,
    botUser: Record<string, unknown>,
    chatId: number,
    messageId: number,
  ): Record<string, unknown> | undefined {
    const own = this.findSent(token, chatId, messageId);
    if (own) return sentMessageJson(botUser, own);
    return this.#findUserMessage(token, chatId, messageId)?.json;
  }

  /**
   * Resolves with `check()`'s first defined value, now or after a later change; rejects after
   * `timeoutMs` with `describe()` saying what was there, or when the fake closes.
   */
  waitFor<T>(check: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        this.#closers.delete(onClose);
      };
      const waiter: Waiter = {
        check: () => {
          const value = check();
          if (value === undefined) return false;
          settle();
          resolve(value);
          return true;
        },
      };
      const onClose = () => {
        settle();
        reject(new Error(`fake Telegram closed while waiting: ${describe()}`));
      };
      const timer = setTimeout(() => {
        settle();
        reject(new Error(`fake Telegram: not within ${timeoutMs} ms: ${describe()}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
      this.#closers.add(onClose);
    });
  }

  /** Rejects every pending wait, so no test hangs on a closed fake. */
  close(): void {
    for (const onClose of [...this.#closers]) onClose();
  }
}

/** A sent message as the Bot API returns it: the visible text, the keyboard, the quoted reply. */
export function sentMessageJson(
  botUser: Record<string, unknown>,
  message: FakeSentMessage,
  replyTo?: Record<string, unknown>,
): Record<string, unknown> {
  const checked = checkText(message.text, message.parseMode);
  return {
    message_id: message.messageId,
    date: unixNow(),
    chat: { id: message.chatId, type: "private" },
    from: botUser,
    text: "visible" in checked ? checked.visible : message.text,
    ...(message.edits.length > 0 ? { edit_date: unixNow() } : {}),
    ...(message.replyMarkup ? { reply_markup: message.replyMarkup } : {}),
    ...(replyTo ? { reply_to_message: replyTo } : {}),
  };
}
