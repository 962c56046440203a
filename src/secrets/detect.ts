/**
 * Finding secrets a person pasted into a chat message, before anything else (a model, the history,
 * a log) sees the text. Shapes only: a value that looks like a credential is treated as one.
 *
 * Hand-written rather than a secret-scanning library's: those lint files asynchronously and know
 * neither Telegram bot tokens nor what to name a found value; this runs on every message, in order,
 * and names each value for the vault.
 */

import { BOT_TOKEN_SHAPE } from "./telegram.js";

/** One value taken for a secret: where it stands in the text and the name it is stored under. */
export interface FoundSecret {
  /** The variable it would be read from (`TELEGRAM_BOT_TOKEN`, `OPENAI_API_KEY`, the `NAME` of `NAME=value`). */
  name: string;
  /** What kind of credential its shape says it is. */
  kind: SecretKind;
  value: string;
  start: number;
  end: number;
}

export type SecretKind =
  | "telegram_bot_token"
  | "anthropic_api_key"
  | "openai_api_key"
  | "github_token"
  | "aws_access_key_id"
  | "slack_token"
  | "private_key"
  | "assignment";

interface Shape {
  kind: SecretKind;
  name: string;
  /** Global; the whole match is the secret. */
  pattern: RegExp;
}

// Word boundaries are spelled out: `\b` counts `-` as a boundary, and these values contain dashes.
const NOT_BEFORE = "(?<![A-Za-z0-9_-])";
const NOT_AFTER = "(?![A-Za-z0-9_-])";

const SHAPES: readonly Shape[] = [
  {
    kind: "private_key",
    name: "PRIVATE_KEY",
    pattern: /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]+?-----END \1PRIVATE KEY-----/g,
  },
  {
    kind: "telegram_bot_token",
    name: "TELEGRAM_BOT_TOKEN",
    pattern: new RegExp(`${NOT_BEFORE}${BOT_TOKEN_SHAPE}${NOT_AFTER}`, "g"),
  },
  {
    kind: "anthropic_api_key",
    name: "ANTHROPIC_API_KEY",
    pattern: new RegExp(`${NOT_BEFORE}sk-ant-[A-Za-z0-9_-]{20,}${NOT_AFTER}`, "g"),
  },
  {
    kind: "openai_api_key",
    name: "OPENAI_API_KEY",
    pattern: new RegExp(
      `${NOT_BEFORE}sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}${NOT_AFTER}`,
      "g",
    ),
  },
  {
    kind: "github_token",
    name: "GITHUB_TOKEN",
    pattern: new RegExp(
      `${NOT_BEFORE}(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})${NOT_AFTER}`,
      "g",
    ),
  },
  {
    kind: "aws_access_key_id",
    name: "AWS_ACCESS_KEY_ID",
    pattern: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/g,
  },
  {
    kind: "slack_token",
    name: "SLACK_TOKEN",
    pattern: new RegExp(`${NOT_BEFORE}xox[abposr]-[A-Za-z0-9-]{10,}${NOT_AFTER}`, "g"),
  },
];

/**
 * `NAME=value` (or `NAME: value`) at the start of a line, the name in capitals as environment
 * variables are written; the value is a secret when it is long and random, not a word or a URL.
 */
const ASSIGNMENT =
  /^[ \t]*(?:export[ \t]+)?([A-Z][A-Z0-9_]{1,63})[ \t]*[=:][ \t]*(["']?)([^\s"'`]+)\2[ \t]*$/gm;
const MIN_ASSIGNED_LENGTH = 16;
/** Bits per character of a value from a random generator (hex is 4, base64 6; English text ~4.1 at most for short words). */
const MIN_ENTROPY_BITS = 3.5;
/**
 * The bar for a variable whose name says it holds a secret (`MAPS_API_KEY`): the characters of a
 * short random value spread less than its generator's ideal, so about one 32-character hex key in
 * five falls under 3.5 bits (one in ten thousand under 3; none of 200,000 under 2.7).
 */
const NAMED_SECRET_ENTROPY_BITS = 2.5;
const SECRET_NAME =
  /(?:^|_)(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|PWD|CREDENTIALS?|AUTH|APIKEY|PRIVATE)(?:_|$)/;

/** The secrets in `text`, in the order they appear; overlapping finds keep the earliest, longest. */
export function findSecrets(text: string): FoundSecret[] {
  const found: FoundSecret[] = [];
  for (const shape of SHAPES) {
    for (const match of text.matchAll(shape.pattern)) {
      found.push({
        kind: shape.kind,
        name: shape.name,
        value: match[0],
        start: match.index,
        end: match.index + match[0].length,
      });
    }
  }
  for (const match of text.matchAll(ASSIGNMENT)) {
    const [, name, , value] = match as unknown as [string, string, string, string];
    if (!looksRandom(value, SECRET_NAME.test(name) ? NAMED_SECRET_ENTROPY_BITS : MIN_ENTROPY_BITS)) continue;
    const start = match.index + match[0].lastIndexOf(value);
    found.push({ kind: "assignment", name, value, start, end: start + value.length });
  }
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: FoundSecret[] = [];
  for (const secret of found) {
    const last = kept.at(-1);
    if (last && secret.start < last.end) {
      // `OPENAI_API_KEY=sk-...` is found twice: the assignment's name is the better one.
      if (secret.kind === "assignment" && secret.start === last.start && secret.end === last.end) {
        last.name = secret.name;
      }
      continue;
    }
    kept.push({ ...secret });
  }
  return uniqueNames(kept);
}

/** What a message becomes once its secrets are taken out: each replaced by a reference to its name. */
export interface ScrubbedText {
  text: string;
  secrets: FoundSecret[];
}

/** `text` with each secret replaced by `[secret NAME]`; the secrets themselves beside it. */
export function scrubSecrets(text: string): ScrubbedText {
  const secrets = findSecrets(text);
  if (secrets.length === 0) return { text, secrets };
  let out = "";
  let at = 0;
  for (const secret of secrets) {
    out += `${text.slice(at, secret.start)}${secretReference(secret.name)}`;
    at = secret.end;
  }
  return { text: out + text.slice(at), secrets };
}

/** How a message refers to a secret that was taken out of it. */
export function secretReference(name: string): string {
  return `[secret ${name}]`;
}

/** Two different values of one kind get `NAME`, `NAME_2`, ...; the same value twice keeps its name. */
function uniqueNames(secrets: FoundSecret[]): FoundSecret[] {
  const byValue = new Map<string, string>();
  const used = new Set<string>();
  for (const secret of secrets) {
    const known = byValue.get(secret.value);
    if (known) {
      secret.name = known;
      continue;
    }
    let name = secret.name;
    for (let n = 2; used.has(name); n++) name = `${secret.name}_${n}`;
    used.add(name);
    byValue.set(secret.value, name);
    secret.name = name;
  }
  return secrets;
}

/** Long, of several character classes, and spread out like a generator's output (`minBits` per character). */
function looksRandom(value: string, minBits: number): boolean {
  if (value.length < MIN_ASSIGNED_LENGTH) return false;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return false; // a URL, said plainly
  if (/^(?:true|false|null|yes|no|on|off)$/i.test(value)) return false;
  // Generated values mix digits in, or both cases; words joined by `_` or `-` do neither.
  const digits = /[0-9]/.test(value);
  const mixedCase = /[a-z]/.test(value) && /[A-Z]/.test(value);
  if (!digits && !mixedCase) return false;
  const bits = entropyBits(value);
  // Without digits, CamelCaseWords are spread out too: a higher bar.
  return digits ? bits >= minBits : bits >= minBits + 0.5;
}

/** Shannon entropy of the characters of `value`, in bits per character. */
function entropyBits(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}
