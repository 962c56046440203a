import type { Update } from "grammy/types";
import { z } from "zod";

/**
 * The parts of a Telegram update the channel's handlers (and grammY's context getters before them)
 * read, as Telegram's Bot API documents them. Other fields pass through untouched.
 */
const TelegramId = z.number().int().safe();

const TelegramUser = z.looseObject({
  id: TelegramId,
  is_bot: z.boolean(),
  first_name: z.string(),
  last_name: z.string().optional(),
  username: z.string().optional(),
  language_code: z.string().optional(),
});

const TelegramChat = z.looseObject({ id: TelegramId, type: z.string() });

/** A message as it comes in `message`: in a private chat it always has a sender. */
const TelegramMessage = z.looseObject({
  message_id: TelegramId,
  date: TelegramId,
  chat: TelegramChat,
  from: TelegramUser,
  text: z.string().optional(),
});

const TelegramCallbackQuery = z.looseObject({
  id: z.string(),
  from: TelegramUser,
  chat_instance: z.string().optional(),
  data: z.string().optional(),
  // An inaccessible message still names its chat; its other fields are not read.
  message: z.looseObject({ message_id: TelegramId, chat: TelegramChat }).optional(),
});

/**
 * An update of the kinds the webhook is registered for (`allowed_updates`: message, callback_query):
 * its id and exactly one of them. Unknown top-level fields are dropped, so nothing unchecked reaches
 * grammY's context (it reads `edited_message`, `channel_post`, ... to find a chat).
 */
export const HandledUpdate = z
  .object({
    update_id: z.number().int().nonnegative().safe(),
    message: TelegramMessage.optional(),
    callback_query: TelegramCallbackQuery.optional(),
  })
  .refine((u) => (u.message === undefined) !== (u.callback_query === undefined), {
    message: "an update carries exactly one of message, callback_query",
  });

/** The update to hand to grammY, or the reason it is malformed (the first problem, with its path). */
export function checkUpdate(body: unknown): { update: Update } | { reason: string } {
  const parsed = HandledUpdate.safeParse(body);
  if (parsed.success) return { update: parsed.data as Update };
  const [issue] = parsed.error.issues;
  return { reason: `${issue?.path.join(".") || "update"}: ${issue?.message ?? "invalid"}` };
}
