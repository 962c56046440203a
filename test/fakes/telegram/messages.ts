/**
 * The Bot API methods that act in a chat: sendMessage, editMessageText, editMessageReplyMarkup,
 * deleteMessage, sendChatAction and answerCallbackQuery, each checked and answered as Telegram does.
 */
import type { MethodContext, MethodHandler } from "./bot.js";
import { type FakeSentMessage, sentMessageJson } from "./chats.js";
import { checkReplyMarkup, checkText, type FakeInlineKeyboard } from "./markup.js";
import {
  type ApiAnswer,
  boolParam,
  fail,
  intParam,
  jsonParam,
  ok,
  type Params,
  stringParam,
} from "./protocol.js";

const NOT_MODIFIED =
  "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";

/** The actions `sendChatAction` takes. */
const CHAT_ACTIONS = new Set([
  "typing",
  "upload_photo",
  "record_video",
  "upload_video",
  "record_voice",
  "upload_voice",
  "upload_document",
  "choose_sticker",
  "find_location",
  "record_video_note",
  "upload_video_note",
]);

/** The chat a call targets, or Telegram's 400 when `chat_id` is missing or no private chat id. */
function targetChat(params: Params): number | ApiAnswer {
  if (params.chat_id === undefined || params.chat_id === "")
    return fail(400, "Bad Request: chat_id is empty");
  return intParam(params.chat_id) ?? fail(400, "Bad Request: chat not found");
}

const sendMessage: MethodHandler = ({ bot, chats }, params) => {
  const chatId = targetChat(params);
  if (typeof chatId !== "number") return chatId;
  const text = stringParam(params.text) ?? "";
  const parseMode = stringParam(params.parse_mode);
  const checked = checkText(text, parseMode);
  if ("error" in checked) return fail(400, checked.error);
  const markup = checkReplyMarkup(jsonParam(params.reply_markup));
  if ("error" in markup) return fail(400, markup.error);
  const reply = replyParameters(params);
  const token = bot.identity.token;
  const quoted = reply && chats.findMessageJson(token, bot.user, reply.chatId ?? chatId, reply.messageId);
  if (reply && !quoted && !reply.isOptional) return fail(400, "Bad Request: message to be replied not found");
  const message: FakeSentMessage = {
    token,
    chatId,
    messageId: chats.nextMessageId(),
    text,
    parseMode,
    params,
    replyMarkup: markup.keyboard,
    replyToMessageId: quoted ? reply?.messageId : undefined,
    edits: [],
    isDeleted: false,
  };
  chats.sent.push(message);
  chats.changed();
  return ok(sentMessageJson(bot.user, message, quoted));
};

/** `reply_parameters` (or the older `reply_to_message_id`) of a send. */
function replyParameters(
  params: Params,
): { messageId: number; chatId: number | undefined; isOptional: boolean } | undefined {
  const reply = jsonParam(params.reply_parameters) as Record<string, unknown> | undefined;
  const messageId = intParam(reply?.message_id ?? params.reply_to_message_id);
  if (messageId === undefined) return undefined;
  return {
    messageId,
    chatId: intParam(reply?.chat_id),
    isOptional: boolParam(reply?.allow_sending_without_reply ?? params.allow_sending_without_reply),
  };
}

/** The bot's own message a call edits, or Telegram's 400. */
function messageToEdit({ bot, chats }: MethodContext, params: Params): FakeSentMessage | ApiAnswer {
  if (params.inline_message_id !== undefined) return fail(400, "Bad Request: MESSAGE_ID_INVALID");
  const chatId = targetChat(params);
  if (typeof chatId !== "number") return chatId;
  return (
    chats.findSent(bot.identity.token, chatId, intParam(params.message_id)) ??
    fail(400, "Bad Request: message to edit not found")
  );
}

function isSameKeyboard(a: FakeInlineKeyboard | undefined, b: FakeInlineKeyboard | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const editMessageText: MethodHandler = (context, params) => {
  const message = messageToEdit(context, params);
  if ("status" in message) return message;
  const text = stringParam(params.text) ?? "";
  const parseMode = stringParam(params.parse_mode);
  const checked = checkText(text, parseMode);
  if ("error" in checked) return fail(400, checked.error);
  // Telegram drops the keyboard when an edit carries none: the new one is whatever the call says.
  const markup = checkReplyMarkup(jsonParam(params.reply_markup));
  if ("error" in markup) return fail(400, markup.error);
  const isSameText = text === message.text && parseMode === message.parseMode;
  if (isSameText && isSameKeyboard(markup.keyboard, message.replyMarkup)) return fail(400, NOT_MODIFIED);
  message.text = text;
  message.parseMode = parseMode;
  message.replyMarkup = markup.keyboard;
  message.edits.push(text);
  context.chats.changed();
  return ok(sentMessageJson(context.bot.user, message));
};

const editMessageReplyMarkup: MethodHandler = (context, params) => {
  const message = messageToEdit(context, params);
  if ("status" in message) return message;
  const markup = checkReplyMarkup(jsonParam(params.reply_markup));
  if ("error" in markup) return fail(400, markup.error);
  if (isSameKeyboard(markup.keyboard, message.replyMarkup)) return fail(400, NOT_MODIFIED);
  message.replyMarkup = markup.keyboard;
  context.chats.changed();
  return ok(sentMessageJson(context.bot.user, message));
};

const deleteMessage: MethodHandler = ({ bot, chats }, params) => {
  const chatId = targetChat(params);
  if (typeof chatId !== "number") return chatId;
  const messageId = intParam(params.message_id);
  const own = chats.findSent(bot.identity.token, chatId, messageId);
  // A bot may also delete what the user wrote in its private chat.
  const isDeleted = own ? true : chats.deleteUserMessage(bot.identity.token, chatId, messageId);
  if (!isDeleted) return fail(400, "Bad Request: message to delete not found");
  if (own) own.isDeleted = true;
  chats.changed();
  return ok(true);
};

const sendChatAction: MethodHandler = ({ bot, chats }, params) => {
  const chatId = targetChat(params);
  if (typeof chatId !== "number") return chatId;
  const action = stringParam(params.action) ?? "";
  if (!CHAT_ACTIONS.has(action)) return fail(400, "Bad Request: wrong parameter action in request");
  chats.actions.push({ token: bot.identity.token, chatId, action });
  chats.changed();
  return ok(true);
};

const answerCallbackQuery: MethodHandler = ({ bot, chats }, params) => {
  const id = stringParam(params.callback_query_id);
  const query = chats.callbackQueries.find((q) => q.token === bot.identity.token && q.id === id);
  // Telegram takes one answer per press; a second is refused like an unknown id.
  if (!query || query.answer) {
    return fail(400, "Bad Request: query is too old and response timeout expired or query ID is invalid");
  }
  query.answer = { text: stringParam(params.text), showAlert: boolParam(params.show_alert) };
  chats.changed();
  return ok(true);
};

/** These methods by their lower-case names (Telegram matches method names case-insensitively). */
export const MESSAGE_METHODS: [string, MethodHandler][] = [
  ["sendmessage", sendMessage],
  ["editmessagetext", editMessageText],
  ["editmessagereplymarkup", editMessageReplyMarkup],
  ["deletemessage", deleteMessage],
  ["sendchataction", sendChatAction],
  ["answercallbackquery", answerCallbackQuery],
];
