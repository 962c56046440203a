/**
 * The chat: where people talk to the Product Owner (Telegram, the web chat). One conversation
 * service behind every channel; an outbox per channel; run events turned into progress and
 * outcome messages by a subscriber.
 */
export type { ChatChannel, ChatInbox, InboundMessage, InboundPress, OutboundMessage } from "./channel.js";
export { DeliveryError } from "./channel.js";
export { composeDeployOutcome, composeProgress } from "./compose.js";
export { ChatFeed } from "./feed.js";
export { CHAT_QUEUED_STREAM } from "./handover.js";
export { CATALOGUES, createTranslator, languageOf, type MessageKey, type Translator } from "./i18n/index.js";
export { type KnownLinks, knownLinksFor, unverifiedClaims } from "./link-guard.js";
export { ChatModule, type ChatModuleDeps, poProvider } from "./module.js";
export { CHAT_NOTIFIER, chatNotifierSubscriber, notifyChat } from "./notifier.js";
export { Outbox } from "./outbox.js";
export { ChatService } from "./service.js";
export { TELEGRAM_WEBHOOK_PATH, TelegramChannel } from "./telegram/channel.js";
export { splitForTelegram, toTelegramHtml } from "./telegram/format.js";
export { conversationView, messageView, WebChannel, WebChat } from "./web.js";
