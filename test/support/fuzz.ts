/**
 * A small seeded generator of hostile values for the reliability suite: random and malformed JSON,
 * wrong types, huge strings, odd unicode, deep nesting, prototype-pollution keys and numbers at the
 * edges. The same seed gives the same values, so a failure printed with its seed reproduces
 * (`FUZZ_SEED=<seed> npm run test:reliability`).
 */

/** The seed of this run: `FUZZ_SEED` when set, else a fresh one (printed by the suite). */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = Number(env.FUZZ_SEED);
  return Number.isInteger(given) && given > 0 ? given : Math.floor(Math.random() * 2 ** 31) + 1;
}

/** Strings that have broken parsers, loggers, databases and terminals somewhere. */
const ODD_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfffy",
  "\u202eevil\u202c",
  "\u200f\u05e9\u05dc\u05d5\u05dd",
  "👩‍👩‍👧‍👦🏳️‍🌈",
  "e\u0301\u0301\u0301\u0301\u0301",
  "Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357\u0358",
  "\ufeff",
  "\uffff\ufffe",
  "\r\n\t\v\f",
  "../../../etc/passwd",
  "%00%2e%2e%2f",
  "' OR 1=1 --",
  "<script>alert(1)</script>",
  "$" + "{process.env}",
  "{{7*7}}",
  "null",
  "undefined",
  "NaN",
  "true",
  "-0",
  "1e309",
  "__proto__",
  "constructor",
  "prototype",
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "orc_not-a-real-token",
  "\\",
  '"',
  "🤖".repeat(40),
];

const EDGE_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  2 ** 53,
  Number.MAX_SAFE_INTEGER + 2,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  -Number.MAX_VALUE,
  1e21,
  1e-7,
];

const POLLUTION_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf"];

/** Malformed JSON texts: what a body parser must refuse with a 400, never a 500. */
const BROKEN_JSON = [
  "",
  "{",
  "}",
  "[",
  '{"a":}',
  '{"a" 1}',
  "{'a':1}",
  '{"a":1,}',
  "[1,2,,]",
  "nul",
  "tru",
  "01",
  "1e",
  "NaN",
  "Infinity",
  '"\\ud800"',
  '"\\u12"',
  '{"a":"\u0000"}',
  "\ufeff{}",
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  "[".repeat(5_000),
  `${"[".repeat(2_000)}${"]".repeat(2_000)}`,
  '{"a":1}{"b":2}',
  "/* comment */ {}",
];

/** Bounds that keep memory sane while still being "huge" for a field of a form. */
const HUGE_STRING_MAX = 100_000;

/** A deterministic generator of hostile values (mulberry32 underneath: fast and good enough). */
export class Fuzz {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  bool(): boolean {
    return this.next() < 0.5;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined && items.length === 0) throw new Error("pick from an empty list");
    return item as T;
  }

  /** A string: short random text, an odd one from the list, or (rarely) a huge one. */
  string(): string {
    const roll = this.next();
    if (roll < 0.35) return this.pick(ODD_STRINGS);
    if (roll < 0.4) return this.huge();
    if (roll < 0.5) return this.unicode(this.int(1, 64));
    const length = this.int(0, 40);
    let out = "";
    for (let i = 0; i < length; i++) out += String.fromCharCode(this.int(32, 126));
    return out;
  }

  /** Random code units across the whole range, lone surrogates and NUL included. */
  unicode(length: number): string {
    let out = "";
    for (let i = 0; i < length; i++) out += String.fromCharCode(this.int(0, 0xffff));
    return out;
  }

  /** A big string (up to `HUGE_STRING_MAX` characters) of one repeated chunk. */
  huge(): string {
    const chunk = this.pick(["a", "é", "🤖", "\u0000", "x".repeat(7), "\u202e"]);
    return chunk.repeat(Math.ceil(this.int(10_000, HUGE_STRING_MAX) / chunk.length));
  }

  number(): number {
    const roll = this.next();
    if (roll < 0.6) return this.pick(EDGE_NUMBERS) * (this.bool() ? 1 : -1);
    if (roll < 0.8) return this.int(-1_000_000, 1_000_000);
    return (this.next() - 0.5) * 10 ** this.int(0, 300);
  }

  /** Any JSON value, nested up to `depth`, with pollution keys among the object keys. */
  value(depth = 3): unknown {
    const roll = this.next();
    if (depth <= 0 || roll < 0.5) return this.scalar();
    if (roll < 0.75) {
      const length = this.int(0, 5);
      return Array.from({ length }, () => this.value(depth - 1));
    }
    return this.object(depth - 1);
  }

  scalar(): unknown {
    return this.pick([
      () => null,
      () => this.bool(),
      () => this.number(),
      () => this.string(),
      () => this.string(),
    ])();
  }

  /** An object with random keys (some of them the prototype's), built so `__proto__` is a real key. */
  object(depth = 2, keys: readonly string[] = []): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const count = this.int(0, 5);
    for (let i = 0; i < count; i++) {
      const key = this.next() < 0.5 && keys.length > 0 ? this.pick(keys) : this.key();
      Object.defineProperty(out, key, {
        value: this.value(depth),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }

  key(): string {
    return this.next() < 0.3 ? this.pick(POLLUTION_KEYS) : this.string().slice(0, 64);
  }

  /** An array or object nested `depth` levels deep. */
  deep(depth: number): unknown {
    let value: unknown = this.scalar();
    for (let i = 0; i < depth; i++) value = this.bool() ? [value] : { a: value };
    return value;
  }

  /**
   * A value for an input whose fields are `fields`: mostly an object that uses the right names with
   * wrong or hostile values (so validation is reached past the shape), sometimes a wrong type
   * altogether or a deeply nested one.
   */
  input(fields: readonly string[]): unknown {
    const roll = this.next();
    if (roll < 0.08) return this.scalar();
    if (roll < 0.12) return this.value(3);
    if (roll < 0.15) return this.deep(this.int(50, 400));
    const out: Record<string, unknown> = {};
    for (const field of fields) {
      if (this.next() < 0.7) out[field] = this.value(2);
    }
    if (this.next() < 0.3) {
      Object.defineProperty(out, this.pick(POLLUTION_KEYS), {
        value: { polluted: true },
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }

  /** A body as text: valid JSON of a hostile value, or JSON that is broken. */
  jsonText(fields: readonly string[] = []): string {
    if (this.next() < 0.25) return this.pick(BROKEN_JSON);
    return JSON.stringify(this.input(fields)) ?? "null";
  }

  /** A path segment or query value, percent-encoded as a client would send it (or not quite). */
  urlPart(): string {
    const raw = this.string().slice(0, this.next() < 0.9 ? 80 : 5_000);
    if (this.next() < 0.1) return this.pick(["%", "%zz", "%c0%ae", "%00", "%ff%fe", "..", "."]);
    try {
      return encodeURIComponent(raw) || "x";
    } catch {
      // A lone surrogate cannot be percent-encoded: send the raw UTF-16 escape as text instead.
      return encodeURIComponent(JSON.stringify(raw).slice(1, -1)) || "x";
    }
  }
}
