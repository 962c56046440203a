/** A Telegram bot token as @BotFather issues it: the bot's numeric id, a colon, 35 URL-safe characters. */
export const BOT_TOKEN_SHAPE = "[0-9]{1,20}:[A-Za-z0-9_-]{35}";
const BOT_TOKEN = new RegExp(`^${BOT_TOKEN_SHAPE}$`);

/** The variable a Telegram bot reads its token from (and the key it is stored under). */
export const TELEGRAM_BOT_TOKEN_KEY = "TELEGRAM_BOT_TOKEN";

/**
 * True when `value` has the shape of a Telegram bot token. Only the shape: whether Telegram knows
 * the token is for `getMe` to say (the deploy's health gate asks it).
 */
export function isTelegramBotToken(value: string): boolean {
  return BOT_TOKEN.test(value);
}
