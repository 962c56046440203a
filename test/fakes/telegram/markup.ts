/**
 * Telegram's checks of what a message carries: its text's length (4096 characters after entities
 * are parsed), with `parse_mode: HTML` the markup, and an inline keyboard's buttons. The errors read
 * as Telegram's do, so a client's plain-text fallback and splitting are tested against the real
 * wording.
 */

export const MAX_TEXT_LENGTH = 4096;

/** The tags Telegram's HTML parse mode accepts. */
const TAGS = new Set([
  "b",
  "strong",
  "i",
  "em",
  "u",
  "ins",
  "s",
  "strike",
  "del",
  "a",
  "code",
  "pre",
  "tg-spoiler",
  "span",
  "blockquote",
  "tg-emoji",
]);

/** The text a user sees (tags gone, entities decoded), or the description of Telegram's 400. */
export function checkText(text: string, parseMode: unknown): { visible: string } | { error: string } {
  if (text.trim() === "") return { error: "Bad Request: message text is empty" };
  let visible = text;
  if (parseMode === "HTML") {
    const parsed = parseHtml(text);
    if ("error" in parsed) return { error: `Bad Request: can't parse entities: ${parsed.error}` };
    visible = parsed.text;
  }
  if ([...visible].length > MAX_TEXT_LENGTH) return { error: "Bad Request: message is too long" };
  return { visible };
}

/** One button of an inline keyboard as the bot sent it. */
export interface FakeInlineButton {
  text: string;
  callback_data?: string;
  url?: string;
  [field: string]: unknown;
}

/** The inline keyboard under a message. */
export interface FakeInlineKeyboard {
  inline_keyboard: FakeInlineButton[][];
}

/** Telegram's limit on `callback_data`, in bytes. */
const MAX_CALLBACK_DATA_BYTES = 64;

/** What pressing a button can do besides sending `callback_data`; a button needs exactly one. */
const BUTTON_ACTIONS = [
  "callback_data",
  "url",
  "web_app",
  "login_url",
  "switch_inline_query",
  "switch_inline_query_current_chat",
  "switch_inline_query_chosen_chat",
  "copy_text",
  "callback_game",
  "pay",
];

/**
 * The inline keyboard a `reply_markup` carries (undefined for none or another kind of keyboard),
 * or the description of Telegram's 400.
 */
export function checkReplyMarkup(
  markup: unknown,
): { keyboard: FakeInlineKeyboard | undefined } | { error: string } {
  if (markup === undefined || markup === null) return { keyboard: undefined };
  if (typeof markup !== "object" || Array.isArray(markup)) {
    return { error: "Bad Request: can't parse reply keyboard markup JSON object" };
  }
  const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  if (rows === undefined) return { keyboard: undefined };
  if (!Array.isArray(rows) || !rows.every((row) => Array.isArray(row))) {
    return {
      error: 'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays',
    };
  }
  for (const button of (rows as unknown[][]).flat()) {
    const problem = checkButton(button);
    if (problem) return { error: problem };
  }
  return { keyboard: markup as FakeInlineKeyboard };
}

function checkButton(button: unknown): string | null {
  if (typeof button !== "object" || button === null) {
    return "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object";
  }
  const fields = button as Record<string, unknown>;
  if (typeof fields.text !== "string") {
    return 'Bad Request: can\'t parse inline keyboard button: Field "text" must be of type String';
  }
  if (!BUTTON_ACTIONS.some((action) => fields[action] !== undefined)) {
    return "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard";
  }
  const data = fields.callback_data;
  if (data !== undefined) {
    const bytes = typeof data === "string" ? Buffer.byteLength(data) : 0;
    if (bytes === 0 || bytes > MAX_CALLBACK_DATA_BYTES) return "Bad Request: BUTTON_DATA_INVALID";
  }
  return null;
}

/** The visible text of Telegram HTML, or why it cannot be parsed. */
function parseHtml(html: string): { text: string } | { error: string } {
  const open: string[] = [];
  let text = "";
  let i = 0;
  while (i < html.length) {
    const ch = html[i] as string;
    if (ch === "<") {
      const end = html.indexOf(">", i);
      if (end < 0) return { error: `unclosed start tag at byte offset ${i}` };
      const raw = html.slice(i + 1, end).trim();
      const closing = raw.startsWith("/");
      const name = (closing ? raw.slice(1) : raw).split(/\s/)[0]?.toLowerCase() ?? "";
      if (!TAGS.has(name)) return { error: `unsupported start tag "${name}" at byte offset ${i}` };
      if (closing) {
        if (open.pop() !== name) return { error: `can't find end tag corresponding to start tag "${name}"` };
      } else open.push(name);
      i = end + 1;
    } else if (ch === "&") {
      const entity = /^&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);/.exec(html.slice(i));
      if (!entity) return { error: `unsupported HTML entity at byte offset ${i}` };
      text += entity[1] === "lt" ? "<" : entity[1] === "gt" ? ">" : entity[1] === "amp" ? "&" : "?";
      i += entity[0].length;
    } else {
      text += ch;
      i++;
    }
  }
  if (open.length > 0) return { error: `can't find end tag corresponding to start tag "${open.at(-1)}"` };
  return { text };
}
