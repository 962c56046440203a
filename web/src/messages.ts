import type { ChatMessage, Conversation } from "./contract";

/**
 * `list` with `incoming` merged in, ordered by seq: a message whose id is already there replaces
 * it (an edited progress message comes again with the same id), so it updates in place.
 */
export function upsertMessages(
  list: readonly ChatMessage[],
  incoming: readonly ChatMessage[],
): ChatMessage[] {
  if (incoming.length === 0) return [...list];
  const byId = new Map(list.map((message) => [message.id, message]));
  for (const message of incoming) {
    const known = byId.get(message.id);
    // A late copy of an older edit must not undo a newer one.
    if (known && editTime(known) > editTime(message)) continue;
    byId.set(message.id, message);
  }
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

function editTime(message: ChatMessage): number {
  return Date.parse(message.editedAt ?? message.createdAt) || 0;
}

/** The highest seq in `list` (0 when empty): where a stream resumes. */
export function lastSeq(list: readonly ChatMessage[]): number {
  return list.reduce((max, message) => Math.max(max, message.seq), 0);
}

/** Conversations newest first (by last update). */
export function newestFirst(list: readonly Conversation[]): Conversation[] {
  return [...list].sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt));
}

/** `href` if it is an http(s) URL, else null: a link never runs script or opens another scheme. */
export function safeHref(href: string): string | null {
  try {
    const url = new URL(href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** A piece of message text: plain text, or a web address to show as a link. */
export type TextPart = { text: string; href?: undefined } | { text: string; href: string };

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/g;
/** Punctuation that ends a sentence rather than the address it follows. */
const TRAILING = /[.,;:!?)\]}'"]+$/;

/** Splits text into plain parts and web addresses, so addresses become links and the rest stays text. */
export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let from = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const raw = match[0].replace(TRAILING, "");
    const href = safeHref(raw);
    if (!href) continue;
    const at = match.index;
    if (at > from) parts.push({ text: text.slice(from, at) });
    parts.push({ text: raw, href });
    from = at + raw.length;
  }
  if (from < text.length) parts.push({ text: text.slice(from) });
  return parts;
}
