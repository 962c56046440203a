/**
 * A leak scan for end-to-end suites: register the secrets a suite knows (`secret`), feed it what
 * the system wrote or said (`add`, or a collector per source: model requests, logs, run events, API
 * answers, folders with their git history, database columns), then `assertClean()` fails naming,
 * for each hit, the secret's name, the encoding it was found in, the source and a masked context.
 * Values never appear in its messages.
 *
 * Each secret is looked for as is and in every form a careless writer produces: JSON-escaped,
 * URL-encoded, hex, base64 and base64url (at each of the three alignments a value can have inside
 * a longer encoded text).
 */
import type { Page } from "playwright-core";
import {
  type FolderOptions,
  folderTexts,
  pgliteDirTexts,
  postgresTexts,
  type ResponseFilter,
  type RunEventSource,
  recordFetchResponses,
  recordPageResponses,
  runEventTexts,
  type SourceText,
  type SqlRows,
  tableTexts,
  watchFolder as watchFolderTexts,
} from "./leak-scan-sources.js";

export { pgliteRows, postgresRows, recordPgliteInstances, vaultKeyOf } from "./leak-scan-sources.js";
export type { FolderOptions, ResponseFilter, RunEventSource, SqlRows };

/** Shorter values match by chance and prove nothing; an empty one matches everywhere. */
export const MIN_SECRET_LENGTH = 8;
/** Characters of context shown on each side of a hit. */
const CONTEXT_CHARS = 32;
/** Context read beyond what is shown, so a secret found by its shape is matched whole. */
const SHAPE_MARGIN = 128;
/**
 * How often a watched folder is read again: often enough to see a worker's folder before it goes,
 * rarely enough that several suites watching at once do not slow the machine they share.
 */
const WATCH_INTERVAL_MS = 2_000;
/** How long `assertClean` waits for answers still being read (an open event stream never ends). */
const SETTLE_MS = 2_000;

/** One way a secret can be written, and the text that gives it away. */
export interface SecretForm {
  form: string;
  needle: string;
}

/** A secret found somewhere: never its value, only where and how. */
export interface LeakHit {
  secret: string;
  form: string;
  where: string;
  count: number;
  /** The text around the first hit, with every secret in it masked. */
  context: string;
}

/** What an allowance sees of a hit: the whole line it sits in, to decide, never to print. */
export interface HitCandidate {
  secret: string;
  form: string;
  where: string;
  line: string;
}

/** A place where a suite puts a secret on purpose (say, a file it plants for an agent to read). */
interface Allowance {
  reason: string;
  test: (hit: HitCandidate) => boolean;
}

/**
 * The forms of a value the scan looks for. Base64 needles keep only the characters that depend on
 * the value alone, so they match inside any longer encoded text, whatever precedes the value.
 */
export function secretForms(value: string): SecretForm[] {
  const bytes = Buffer.from(value, "utf8");
  const forms = new Map<string, string>();
  const add = (form: string, needle: string) => {
    if (needle.length > 0 && !forms.has(needle)) forms.set(needle, form);
  };
  add("as is", value);
  add("JSON-escaped", JSON.stringify(value).slice(1, -1));
  add("URL-encoded", encodeURIComponent(value));
  add("hex", bytes.toString("hex"));
  add("hex", bytes.toString("hex").toUpperCase());
  // Binary sources (database files, git objects) are read as latin1: a UTF-8 value shows this way.
  add("as is", bytes.toString("latin1"));
  for (const encoding of ["base64", "base64url"] as const) {
    for (let offset = 0; offset < 3; offset++) {
      const text = Buffer.concat([Buffer.alloc(offset), bytes]).toString(encoding);
      const start = Math.ceil((offset * 8) / 6);
      const end = Math.floor(((offset + bytes.length) * 8) / 6);
      add(encoding, text.slice(start, end));
    }
  }
  return [...forms].map(([needle, form]) => ({ form, needle }));
}

export class LeakScan {
  private readonly secrets = new Map<string, string>();
  /** Secrets known only by their shape (tokens a suite never sees), by name. */
  private readonly shapes = new Map<string, RegExp>();
  private readonly problems: string[] = [];
  private readonly sources: SourceText[] = [];
  private readonly allowances: Allowance[] = [];
  /** Recorders still reading (answers, pages): each ends when asked, keeping what it read. */
  private readonly recorders: (() => Promise<SourceText[]>)[] = [];

  /** Registers a secret under a name; an empty or short value makes `assertClean` fail. */
  secret(name: string, value: string): this {
    const known = this.secrets.get(name);
    if (known !== undefined && known !== value) this.problems.push(`two values were registered as "${name}"`);
    if (value.length < MIN_SECRET_LENGTH) {
      this.problems.push(
        `secret "${name}" is ${value.length === 0 ? "empty" : `only ${value.length} characters`}: a scan for it proves nothing`,
      );
    }
    this.secrets.set(name, value);
    return this;
  }

  /**
   * Registers a kind of secret by its shape, for values a suite never learns (say, every API
   * token: `orc_` and 43 characters). The pattern must not match the empty string.
   */
  pattern(name: string, shape: RegExp): this {
    if (shape.test("")) this.problems.push(`the pattern of "${name}" matches the empty string`);
    this.shapes.set(
      name,
      new RegExp(shape.source, shape.flags.includes("g") ? shape.flags : `${shape.flags}g`),
    );
    return this;
  }

  /** Declares where a suite put a secret on purpose; matching hits are not leaks. */
  allow(reason: string, test: (hit: HitCandidate) => boolean): this {
    this.allowances.push({ reason, test });
    return this;
  }

  /** Adds one text (bytes are read as latin1, so any ASCII secret in them is found). */
  add(where: string, text: string | Uint8Array): this {
    this.sources.push({
      where,
      text: typeof text === "string" ? text : Buffer.from(text).toString("latin1"),
    });
    return this;
  }

  /** The bodies a fake model server received, as sent (`raw`) or re-encoded when not kept. */
  modelRequests(where: string, requests: Iterable<{ raw?: string; body?: unknown }>): this {
    let i = 0;
    for (const request of requests) {
      this.add(`${where} request ${i++}`, request.raw ?? JSON.stringify(request.body ?? null));
    }
    return this;
  }

  /** Captured log output: lines (pino's JSON lines, a process's output) or one text. */
  logs(where: string, lines: string | Iterable<string>): this {
    return this.add(where, typeof lines === "string" ? lines : [...lines].join("\n"));
  }

  /** Every run event of every run, from the store's event log. */
  async runEvents(where: string, events: RunEventSource): Promise<this> {
    return this.addAll(await runEventTexts(where, events));
  }

  /**
   * Every file under `dir` (skipping package folders, see `FolderOptions`), and of each git
   * repository in it the whole history and every object, reachable or not.
   */
  async folder(where: string, dir: string, options: FolderOptions = {}): Promise<this> {
    return this.addAll(await folderTexts(where, dir, options));
  }

  /**
   * Watches a folder the system removes once done (worker sandboxes with their transcripts): its
   * files are read every second until `assertClean`, each version kept.
   */
  watchFolder(where: string, dir: string, options: FolderOptions = {}): this {
    const watcher = watchFolderTexts(where, dir, options, WATCH_INTERVAL_MS);
    this.recorders.push(() => watcher.finish());
    return this;
  }

  /** Every text, JSON and bytes column of every table, except ciphertexts, through `rows`. */
  async database(where: string, rows: SqlRows): Promise<this> {
    return this.addAll(await tableTexts(where, rows));
  }

  /** `database` on an embedded database's folder (opened, read and closed again). */
  async pgliteDir(where: string, dir: string): Promise<this> {
    return this.addAll(await pgliteDirTexts(where, dir));
  }

  /** `database` on a PostgreSQL server's database. */
  async postgres(where: string, url: string): Promise<this> {
    return this.addAll(await postgresTexts(where, url));
  }

  /**
   * Records every answer the global `fetch` gets from now on (those `filter` keeps) until
   * `assertClean`; the returned function stops recording earlier.
   */
  recordResponses(filter: ResponseFilter = () => true): () => void {
    const recorder = recordFetchResponses(filter);
    this.recorders.push(() => recorder.finish(SETTLE_MS));
    return recorder.stop;
  }

  /** Records every answer a browser page gets from `origin` until `assertClean`. */
  recordPage(page: Page, origin: string): void {
    const recorder = recordPageResponses(page, origin);
    this.recorders.push(() => recorder.finish(SETTLE_MS));
  }

  /** Every hit in what was added so far, except allowed ones. */
  hits(): LeakHit[] {
    const needles = [...this.secrets].flatMap(([secret, value]) =>
      value.length < MIN_SECRET_LENGTH ? [] : secretForms(value).map((f) => ({ secret, ...f })),
    );
    const found = new Map<string, LeakHit>();
    const shapes = [...this.shapes].map(([secret, shape]) => ({ secret, shape }));
    const note = (secret: string, form: string, where: string, text: string, at: number, length: number) => {
      if (this.allowances.some((a) => a.test({ secret, form, where, line: lineAround(text, at) }))) return;
      const key = `${secret}\u0000${form}\u0000${where}`;
      const hit = found.get(key);
      if (hit) hit.count++;
      else {
        const context = maskedContext(text, at, length, needles, shapes);
        found.set(key, { secret, form, where: masked(where, needles, shapes), count: 1, context });
      }
    };
    for (const { where, text } of this.sources) {
      for (const { secret, form, needle } of needles) {
        for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
          note(secret, form, where, text, at, needle.length);
        }
      }
      for (const { secret, shape } of shapes) {
        for (const match of text.matchAll(shape))
          note(secret, "by its shape", where, text, match.index, match[0].length);
      }
    }
    return [...found.values()];
  }

  /**
   * Ends the recorders, then fails unless every secret is valid, something was scanned and no
   * secret was found; the message names secrets, forms and sources, never a value.
   */
  async assertClean(): Promise<void> {
    for (const finish of this.recorders.splice(0)) this.addAll(await finish());
    const problems = [...this.problems];
    if (this.secrets.size + this.shapes.size === 0) problems.push("no secret was registered");
    if (this.sources.length === 0) problems.push("nothing was scanned");
    const hits = this.hits();
    for (const hit of hits) {
      problems.push(
        `secret "${hit.secret}" (${hit.form}) in ${hit.where}, ${hit.count} time(s), e.g. ${JSON.stringify(hit.context)}`,
      );
    }
    if (problems.length > 0) {
      const bytes = this.sources.reduce((n, s) => n + s.text.length, 0);
      throw new Error(
        `leak scan of ${this.sources.length} sources (${bytes} characters) for ${this.secrets.size + this.shapes.size} secrets:\n- ${problems.join("\n- ")}`,
      );
    }
  }

  /** How many sources were added, and under which names (for a suite's own checks). */
  scanned(): string[] {
    return this.sources.map((s) => s.where);
  }

  private addAll(texts: SourceText[]): this {
    this.sources.push(...texts);
    return this;
  }
}

/**
 * `up` prints its admin token once on its output, for its operator (and, in the demo, inside the
 * web chat's sign-in link): there it is handed over, not leaked.
 */
export function isAnnouncedAdminToken(hit: HitCandidate): boolean {
  return (
    hit.secret === "admin token" &&
    /^(Admin token \(shown once, keep it\)|Open the web chat): /.test(hit.line)
  );
}

/** A new, empty scan. */
export function leakScan(): LeakScan {
  return new LeakScan();
}

function lineAround(text: string, at: number): string {
  const start = text.lastIndexOf("\n", at) + 1;
  const end = text.indexOf("\n", at);
  return text.slice(start, end < 0 ? text.length : end);
}

type Needle = SecretForm & { secret: string };

type Shape = { secret: string; shape: RegExp };

/** Where each secret occurs in a stretch of text: [start, end, name], encoded tails included. */
function secretSpans(text: string, needles: Needle[], shapes: Shape[]): [number, number, string][] {
  const spans: [number, number, string][] = [];
  for (const { secret, shape } of shapes) {
    for (const match of text.matchAll(shape))
      spans.push([match.index, match.index + match[0].length, secret]);
  }
  for (const { needle, secret, form } of needles) {
    // An encoding's last characters also carry a few bits of the value: mask them too.
    const tail = form.startsWith("base64") || form === "hex" ? 3 : 0;
    for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
      spans.push([Math.max(0, at - tail), at + needle.length + tail, secret]);
    }
  }
  return spans;
}

/** The text around a hit with every secret in it replaced by its name; control characters dotted. */
function maskedContext(text: string, at: number, length: number, needles: Needle[], shapes: Shape[]): string {
  // Read wider than shown, so a secret cut by the shown part's edge is still seen whole and masked.
  const margin = Math.max(SHAPE_MARGIN, ...needles.map((n) => n.needle.length)) + 3;
  const from = Math.max(0, at - CONTEXT_CHARS - margin);
  const to = Math.min(text.length, at + length + CONTEXT_CHARS + margin);
  const show = at - from - CONTEXT_CHARS;
  return masked(text.slice(from, to), needles, shapes, show, at - from + length + CONTEXT_CHARS);
}

/** `text` (or its [show, showEnd) part) with every secret replaced by `[name]`. */
function masked(text: string, needles: Needle[], shapes: Shape[], show = 0, showEnd = text.length): string {
  const spans = secretSpans(text, needles, shapes).sort((a, b) => a[0] - b[0]);
  let out = "";
  let pos = Math.max(0, show);
  const end = Math.min(text.length, showEnd);
  for (const [start, stop, secret] of spans) {
    if (stop <= pos) continue;
    if (start >= end) break;
    out += printable(text.slice(pos, Math.max(pos, start)));
    out += `[${secret}]`;
    pos = Math.max(pos, stop);
  }
  if (pos < end) out += printable(text.slice(pos, end));
  return out;
}

function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, ".");
}
