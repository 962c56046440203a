/** Telegram's limit on one message's text, in characters after entity parsing. */
export const TELEGRAM_TEXT_LIMIT = 4096;

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Plain text as Telegram HTML: escaped, with the little Markdown a model writes (`**bold**`,
 * `` `code` ``, fenced blocks) turned into tags. Anything else stays as text.
 */
export function toTelegramHtml(text: string): string {
  const parts = text.split(/```(?:[a-z0-9]*\n)?([\s\S]*?)```/gi);
  return parts
    .map((part, i) => {
      if (i % 2 === 1) return `<pre>${escapeHtml(part.replace(/\n$/, ""))}</pre>`;
      return escapeHtml(part)
        .replace(/\*\*([^*\n]+)\*\*/g, "<b>$1</b>")
        .replace(/`([^`\n]+)`/g, "<code>$1</code>");
    })
    .join("");
}

/**
 * Cuts a text into pieces Telegram takes, at paragraph, line or word ends where it can. The
 * pieces leave room for the tags formatting adds.
 */
export function splitForTelegram(text: string, limit = TELEGRAM_TEXT_LIMIT - 300): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    // The first of paragraph end, line end, word end that keeps the piece over half full.
    const at =
      [window.lastIndexOf("\n\n"), window.lastIndexOf("\n"), window.lastIndexOf(" ")].find(
        (i) => i > limit / 2,
      ) ?? limit;
    pieces.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).trimStart();
  }
  if (rest.length > 0 || pieces.length === 0) pieces.push(rest);
  return pieces;
}
