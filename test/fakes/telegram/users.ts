/**
 * The users' side of the fake: what a person typing or pressing a button looks like to a bot. Each
 * person talks in a private chat whose id is their user id, as on Telegram.
 */
import { unixNow } from "./protocol.js";

/** Who sends a pushed message or presses a button; every field has a default. */
export interface FakeUserOptions {
  firstName?: string;
  lastName?: string;
  username?: string;
  /** IETF tag as Telegram sends it (`de`, `pt-br`); absent unless given, as for many real users. */
  languageCode?: string;
}

/** A Telegram `User` object for the person whose private chat is `chatId`. */
export function userJson(chatId: number, options: FakeUserOptions): Record<string, unknown> {
  return {
    id: chatId,
    is_bot: false,
    first_name: options.firstName ?? "Tester",
    ...(options.lastName ? { last_name: options.lastName } : {}),
    ...(options.username ? { username: options.username } : {}),
    ...(options.languageCode ? { language_code: options.languageCode } : {}),
  };
}

/** A Telegram private `Chat` object with that person. */
export function privateChatJson(chatId: number, options: FakeUserOptions): Record<string, unknown> {
  return {
    id: chatId,
    type: "private",
    first_name: options.firstName ?? "Tester",
    ...(options.lastName ? { last_name: options.lastName } : {}),
    ...(options.username ? { username: options.username } : {}),
  };
}

/** A text message from the person, with the `bot_command` entity Telegram adds for `/command`. */
export function userMessageJson(
  chatId: number,
  messageId: number,
  text: string,
  options: FakeUserOptions,
): Record<string, unknown> {
  const command = /^\/\S+/.exec(text)?.[0];
  return {
    message_id: messageId,
    date: unixNow(),
    chat: privateChatJson(chatId, options),
    from: userJson(chatId, options),
    text,
    ...(command ? { entities: [{ type: "bot_command", offset: 0, length: command.length }] } : {}),
  };
}
