import { Buffer } from "node:buffer";

/** What stands where a secret was. */
export const REDACTED = "[REDACTED]";

/** Values shorter than this are never masked: scrubbing them would mangle ordinary text. */
export const MIN_SECRET_LENGTH = 6;

/**
 * The shape of every API token (admin and worker), as `auth` issues them: `orc_` and 32 random bytes
 * in base64url. Only their hashes are stored, so a process cannot know the tokens another one
 * issued; it masks anything of this shape instead.
 */
const TOKEN_PREFIX = "orc_";
const TOKEN_BODY_CHARS = 43;
const BASE64_CHAR = "[A-Za-z0-9+/_-]";

/** Options of one redaction call. */
export interface RedactOptions {
  /**
   * Values left as they are: what a caller shows on purpose, such as a new API token in the one
   * answer that issues it. Compared with each whole match.
   */
  keep?: ReadonlySet<string>;
}

/**
 * The one redaction path: knows every live secret value and masks it, with its JSON-escaped,
 * URL-encoded, base64 and base64url forms, plus anything shaped like an API token (and its base64),
 * in text (`redact`), in JSON text (`redactJson`) and in structured values (`redactValue`). The
 * logger, the store's writes and the API's answers all go through the one instance a process
 * makes. Values are only ever added: a removed or replaced secret may still run in a deployed
 * release or sit in a log, so it stays masked for the life of the process.
 *
 * Matching costs about the length of the text whatever the number of values: every form is
 * indexed by a hash of its first `MIN_SECRET_LENGTH` characters, and one pass of a rolling hash
 * over the text finds them (leftmost, longest first). The index is built once and grows with each
 * new value. (One regular expression of all forms was slower to compile, past a few hundred values,
 * than to scan megabytes with this index.)
 */
export class SecretRedactor {
  static readonly MASK = REDACTED;
  private readonly values = new Set<string>();
  /** Each form of each value, and the name of the secret it belongs to (first one learnt wins). */
  private readonly forms = new Map<string, string>();
  private index: FormIndex | null = null;

  /**
   * Learns a secret value, with a name that says which secret it is (`ANTHROPIC_API_KEY`,
   * `project <id> KEY`), never the value; true when it was new. Values under `MIN_SECRET_LENGTH`
   * are ignored, and so are values inside the mask itself (masking text twice would make it grow).
   */
  add(value: string, label = "a secret"): boolean {
    if (value.length < MIN_SECRET_LENGTH || REDACTED.includes(value) || this.values.has(value)) return false;
    this.values.add(value);
    for (const form of formsOf(value)) {
      if (this.forms.has(form)) continue;
      this.forms.set(form, label);
      this.index?.add(form);
    }
    return true;
  }

  /**
   * The names of the known secrets `text` holds (in any form), each once. Token-shaped strings
   * are not named here: they are masked wherever they go, but they are no one's secret value.
   */
  find(text: string): string[] {
    const index = this.compiled();
    const found = new Set<string>();
    for (let match = index.find(text, 0); match !== null; match = index.find(text, match.end)) {
      const label = this.forms.get(text.slice(match.start, match.end));
      if (label) found.add(label);
    }
    return [...found];
  }

  /** Learns several values; returns how many were new. */
  addAll(values: Iterable<string>): number {
    let added = 0;
    for (const value of values) if (this.add(value)) added++;
    return added;
  }

  /** How many secret values are known. */
  get size(): number {
    return this.values.size;
  }

  /** Whether `text` holds anything this redactor would mask. */
  test(text: string): boolean {
    if (this.compiled().find(text, 0) !== null) return true;
    TOKEN_PATTERN.lastIndex = 0;
    const found = TOKEN_PATTERN.test(text);
    TOKEN_PATTERN.lastIndex = 0;
    return found;
  }

  /** `text` with every known secret (in any of its forms) and every token-shaped string masked. */
  redact(text: string, options: RedactOptions = {}): string {
    const { keep } = options;
    const index = this.compiled();
    let out = "";
    let copied = 0;
    for (let match = index.find(text, 0); match !== null; match = index.find(text, match.end)) {
      if (keep?.has(text.slice(match.start, match.end))) continue;
      out += text.slice(copied, match.start) + REDACTED;
      copied = match.end;
    }
    const masked = copied === 0 ? text : out + text.slice(copied);
    if (keep && keep.size > 0) {
      return masked.replace(TOKEN_PATTERN, (token) => (keep.has(token) ? token : REDACTED));
    }
    return masked.replace(TOKEN_PATTERN, REDACTED);
  }

  /**
   * A copy of a JSON-like value with every string (object keys included) redacted; parts without a
   * secret, and the whole value when nothing matched, are returned as they are (not copied).
   * Numbers, booleans and non-plain objects (dates, byte arrays) pass unchanged.
   */
  redactValue<T>(value: T, options: RedactOptions = {}): T {
    return this.walk(value, options) as T;
  }

  /**
   * Serialized JSON with its secrets masked, still valid JSON: parsed, redacted as a value and
   * serialized again when something matched (text that is not JSON is redacted as text).
   */
  redactJson(text: string, options: RedactOptions = {}): string {
    if (!this.test(text)) return text;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.redact(text, options);
    }
    return JSON.stringify(this.redactValue(parsed, options));
  }

  private walk(value: unknown, options: RedactOptions): unknown {
    if (typeof value === "string") return this.redact(value, options);
    if (Array.isArray(value)) {
      let isChanged = false;
      const items = value.map((item) => {
        const next = this.walk(item, options);
        if (next !== item) isChanged = true;
        return next;
      });
      return isChanged ? items : value;
    }
    if (!isPlainObject(value)) return value;
    let isChanged = false;
    const entries = Object.entries(value).map(([key, item]) => {
      const nextKey = this.redact(key, options);
      const next = this.walk(item, options);
      if (nextKey !== key || next !== item) isChanged = true;
      return [nextKey, next] as const;
    });
    return isChanged ? Object.fromEntries(entries) : value;
  }

  private compiled(): FormIndex {
    this.index ??= new FormIndex(this.forms.keys());
    return this.index;
  }
}

/** Multiplier of the rolling hash (any odd number spreading code units well will do). */
const HASH_BASE = 0x01000193;
/** `HASH_BASE` to the power of the key length minus one, modulo 2^32: what leaves the window. */
const HASH_OUT = Array.from({ length: MIN_SECRET_LENGTH - 1 }).reduce<number>(
  (power) => Math.imul(power, HASH_BASE),
  1,
);

/**
 * Strings indexed by a hash of their first `MIN_SECRET_LENGTH` code units; `find` rolls that hash
 * along a text and checks only the strings whose key hash matches, longest first.
 */
class FormIndex {
  private readonly buckets = new Map<number, string[]>();

  constructor(forms: Iterable<string>) {
    for (const form of forms) this.add(form);
  }

  /** Indexes one more string (at least `MIN_SECRET_LENGTH` long). */
  add(form: string): void {
    const key = hashAt(form, 0);
    const bucket = this.buckets.get(key);
    if (!bucket) {
      this.buckets.set(key, [form]);
      return;
    }
    bucket.push(form);
    bucket.sort((a, b) => b.length - a.length);
  }

  /** The leftmost (then longest) indexed string in `text` at or after `from`, or null. */
  find(text: string, from: number): { start: number; end: number } | null {
    const last = text.length - MIN_SECRET_LENGTH;
    if (this.buckets.size === 0 || from > last) return null;
    let hash = hashAt(text, from);
    for (let i = from; ; i++) {
      const bucket = this.buckets.get(hash);
      if (bucket) {
        for (const form of bucket) if (text.startsWith(form, i)) return { start: i, end: i + form.length };
      }
      if (i >= last) return null;
      hash =
        (Math.imul(hash - Math.imul(text.charCodeAt(i), HASH_OUT), HASH_BASE) +
          text.charCodeAt(i + MIN_SECRET_LENGTH)) |
        0;
    }
  }
}

/** The hash of the `MIN_SECRET_LENGTH` code units of `text` from `at`. */
function hashAt(text: string, at: number): number {
  let hash = 0;
  for (let i = at; i < at + MIN_SECRET_LENGTH; i++)
    hash = (Math.imul(hash, HASH_BASE) + text.charCodeAt(i)) | 0;
  return hash;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The characters of `base64(<offset filler bytes> + bytes)` that depend on `bytes` alone: what any
 * base64 text that encodes `bytes` at that byte offset (mod 3) contains, whatever surrounds it.
 */
function base64Window(bytes: Uint8Array, offset: 0 | 1 | 2): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes])
    .toString("base64")
    .replace(/=+$/, "");
  return encoded.slice(Math.ceil((offset * 8) / 6), Math.floor(((offset + bytes.length) * 8) / 6));
}

const toBase64Url = (text: string): string => text.replace(/\+/g, "-").replace(/\//g, "_");

/** Every form of a secret value worth masking. */
function formsOf(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const forms = [value, json, JSON.stringify(json).slice(1, -1), encodeURIComponent(value)];
  const bytes = Buffer.from(value, "utf8");
  for (const offset of [0, 1, 2] as const) {
    const window = base64Window(bytes, offset);
    forms.push(window, toBase64Url(window));
  }
  return forms.filter((form) => form.length >= MIN_SECRET_LENGTH && !REDACTED.includes(form));
}

/**
 * API tokens and their base64 at each byte offset: the characters fixed by the `orc_` prefix, then
 * as many base64 characters as the token's body fills.
 */
const TOKEN_SHAPES = [
  `${escapeRegExp(TOKEN_PREFIX)}[A-Za-z0-9_-]{${TOKEN_BODY_CHARS}}`,
  ...([0, 1, 2] as const).map((offset) => {
    const prefix = base64Window(Buffer.from(TOKEN_PREFIX), offset);
    const prefixEnd = Math.floor(((offset + TOKEN_PREFIX.length) * 8) / 6);
    const bodyEnd = Math.floor(((offset + TOKEN_PREFIX.length + TOKEN_BODY_CHARS) * 8) / 6);
    return `${escapeRegExp(prefix)}${BASE64_CHAR}{${bodyEnd - prefixEnd}}`;
  }),
].join("|");
const TOKEN_PATTERN = new RegExp(TOKEN_SHAPES, "g");

/**
 * `text` with every API token (and its base64) masked, and nothing else: for text that must keep
 * known secret values visible to its reader, such as a model request the gateway screens for them.
 */
export function maskTokens(text: string): string {
  return text.replace(TOKEN_PATTERN, REDACTED);
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}
