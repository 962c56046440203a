import type {
  ChatButton,
  ChatChannelKind,
  ChatLink,
  ChatMessage,
  ChatMessageKind,
} from "../contracts/index.js";

/** Who wrote, as the channel knows them. */
export interface ChatSender {
  /** The channel's user id (Telegram's user id; for the web chat, our user id). */
  externalId: string;
  name: string;
  username: string | null;
  /** Telegram's `language_code`, when the channel has one. */
  languageCode: string | null;
}

/** A person's message as a channel hands it over. */
export interface InboundMessage {
  channel: ChatChannelKind;
  chatId: string;
  sender: ChatSender;
  text: string;
  /** What makes it once only across redeliveries and restarts (Telegram's update_id). */
  inboundKey: string | null;
  /** The channel's id of the message in the chat (Telegram's message_id), to take it out again. */
  externalId: string | null;
}

/** A press of a button the system sent. */
export interface InboundPress {
  channel: ChatChannelKind;
  chatId: string;
  sender: ChatSender;
  data: string;
}

/** What a channel hands what it receives to: the conversation service. */
export interface ChatInbox {
  /** Stores (or refuses) a person's message; answers the stored message, null when none was stored. */
  receive(message: InboundMessage): Promise<ChatMessage | null>;
  press(press: InboundPress): Promise<{ notice: string | null }>;
}

/** One message as the channel shows it. */
export interface OutboundMessage {
  kind: ChatMessageKind;
  /** Plain text; the channel escapes and formats it for its own markup. */
  text: string;
  links: ChatLink[];
  buttons: ChatButton[];
}

/** Why a channel could not deliver: retry later (rate limit, outage), or never (chat gone). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DeliveryError";
  }
}

/**
 * A place people talk to the Product Owner. It hands what arrives to the inbox and shows what the
 * outbox gives it; every decision (access, commands, the PO, progress) is the service's.
 */
export interface ChatChannel {
  readonly kind: ChatChannelKind;
  start(inbox: ChatInbox): Promise<void>;
  /** Shows a new message; answers the channel's id for it (to edit it later). */
  send(chatId: string, message: OutboundMessage): Promise<string>;
  /** Replaces the text of a message it showed. */
  edit(chatId: string, externalId: string, message: OutboundMessage): Promise<void>;
  /** Says the PO is working (Telegram's typing action lasts about five seconds). */
  typing(chatId: string): Promise<void>;
  /**
   * Takes a message the person wrote out of the chat (it held a secret); true when nothing of it is
   * left to see, false when the channel could not (the person is asked to).
   */
  forget(chatId: string, externalId: string | null): Promise<boolean>;
  stop(): Promise<void>;
}
