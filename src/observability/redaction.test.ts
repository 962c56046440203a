import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateToken } from "../auth/index.js";
import { REDACTED, SecretRedactor } from "./index.js";

const SECRET = "s3cr3t-Value_42";
const b64 = (text: string) => Buffer.from(text).toString("base64");
const b64url = (text: string) => Buffer.from(text).toString("base64url");

/** The characters of `encode(prefix + value + suffix)` that come from `value` alone. */
function inner(encode: (text: string) => string, prefix: string, value: string, suffix = ""): string {
  const encoded = encode(`${prefix}${value}${suffix}`).replace(/=+$/, "");
  const before = Buffer.byteLength(prefix);
  const end = before + Buffer.byteLength(value);
  return encoded.slice(Math.ceil((before * 8) / 6), Math.floor((end * 8) / 6));
}

/** `text` shows no 8 characters in a row of `encoded`'s start or end. */
function expectGone(text: string, encoded: string): void {
  expect(text).not.toContain(encoded.slice(0, 8));
  expect(text).not.toContain(encoded.slice(-8));
}

function redactorOf(...values: string[]): SecretRedactor {
  const redactor = new SecretRedactor();
  redactor.addAll(values);
  return redactor;
}

describe("SecretRedactor: values", () => {
  it("masks every occurrence of a known value, and leaves other text alone", () => {
    const r = redactorOf(SECRET);
    expect(r.redact(`a ${SECRET} b ${SECRET}${SECRET}`)).toBe(`a ${REDACTED} b ${REDACTED}${REDACTED}`);
    expect(r.redact("nothing to see")).toBe("nothing to see");
    expect(r.test(`x${SECRET}`)).toBe(true);
    expect(r.test("s3cr3t-Value_4")).toBe(false);
  });

  it("masks the base64 and base64url forms, standalone and inside longer encoded text", () => {
    const value = "p?>~ss-w0rd//+x"; // encodes to both + and / in base64
    const r = redactorOf(value);
    expect(r.redact(b64(value))).toBe(REDACTED);
    expect(r.redact(b64url(value))).toBe(REDACTED);
    for (const encode of [b64, b64url]) {
      // echo "$SECRET" | base64; KEY=... at byte offset 1 (mod 3); API_KEY=...; at offset 2.
      for (const [prefix, suffix] of [
        ["", "\n"],
        ["KEY=", ""],
        ["API_KEY=", ";"],
      ] as const) {
        const masked = r.redact(`before ${encode(`${prefix}${value}${suffix}`)} after`);
        expect(masked).toContain(REDACTED);
        expectGone(masked, inner(encode, prefix, value, suffix));
      }
    }
  });

  it("masks the JSON-escaped and URL-encoded forms of a value holding quotes and newlines", () => {
    const pem = '-----BEGIN KEY-----\nMIIBOgIBAAJBAK"quoted"\n-----END KEY-----';
    const r = redactorOf(pem);
    const line = JSON.stringify({ msg: "key", key: pem });
    expect(r.redact(line)).not.toContain("MIIBOgIBAAJBAK");
    expect(JSON.parse(r.redact(line))).toEqual({ msg: "key", key: REDACTED });
    expect(r.redact(JSON.stringify(line))).not.toContain("MIIBOgIBAAJBAK");
    expect(r.redact(`https://x/?k=${encodeURIComponent(pem)}`)).toBe(`https://x/?k=${REDACTED}`);
  });

  it("masks a longer value whole when it contains a shorter one", () => {
    const r = redactorOf("abcdef", "abcdef-123456");
    expect(r.redact("x abcdef-123456 y abcdef")).toBe(`x ${REDACTED} y ${REDACTED}`);
  });

  it("ignores values under 6 characters and values inside the mask itself", () => {
    const r = redactorOf("abc", "12345", "REDACTED");
    expect(r.size).toBe(0);
    expect(r.redact("abc 12345 REDACTED")).toBe("abc 12345 REDACTED");
    expect(redactorOf("123456").redact("id 123456")).toBe(`id ${REDACTED}`);
  });

  it("learns values at any time, and masking twice changes nothing more", () => {
    const r = new SecretRedactor();
    expect(r.redact(SECRET)).toBe(SECRET);
    expect(r.add(SECRET)).toBe(true);
    expect(r.add(SECRET)).toBe(false);
    const once = r.redact(`${SECRET} and ${b64(SECRET)}`);
    expect(once).not.toContain(SECRET);
    expect(r.redact(once)).toBe(once);
  });

  it("finds values among thousands at the cost of one scan", () => {
    const values = Array.from({ length: 3000 }, () => randomBytes(18).toString("base64url"));
    const r = redactorOf(...values);
    const text = `${"lorem ipsum ".repeat(50_000)}${values[1234]} tail`;
    const started = performance.now();
    const masked = r.redact(text);
    expect(masked.endsWith(`${REDACTED} tail`)).toBe(true);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("SecretRedactor: API tokens by their shape", () => {
  it("masks any token, though it was never added, and its base64 at every offset", () => {
    const r = new SecretRedactor();
    const token = generateToken();
    expect(r.redact(`Bearer ${token}`)).toBe(`Bearer ${REDACTED}`);
    expect(r.redact(`ORCHESTRATOR_TOKEN=${token}\n`)).toBe(`ORCHESTRATOR_TOKEN=${REDACTED}\n`);
    for (const encode of [b64, b64url]) {
      for (const prefix of ["", "x:", "ab:", "abc:"]) {
        const masked = r.redact(`Authorization: Basic ${encode(`${prefix}${token}\n`)}`);
        expect(masked).toContain(REDACTED);
        expectGone(masked, inner(encode, prefix, token.slice("orc_".length), "\n"));
      }
    }
  });

  it("leaves what only looks a little like a token", () => {
    const r = new SecretRedactor();
    expect(r.redact("orc_short and orchestrator")).toBe("orc_short and orchestrator");
  });

  it("keeps what a caller shows on purpose, and masks the rest", () => {
    const r = redactorOf(SECRET);
    const shown = generateToken();
    const other = generateToken();
    const text = `${shown} ${other} ${SECRET}`;
    expect(r.redact(text, { keep: new Set([shown]) })).toBe(`${shown} ${REDACTED} ${REDACTED}`);
    expect(r.redact(text, { keep: new Set([SECRET]) })).toBe(`${REDACTED} ${REDACTED} ${SECRET}`);
  });
});

describe("SecretRedactor: structured values", () => {
  it("masks strings at any depth, object keys included, and returns untouched parts as they were", () => {
    const r = redactorOf(SECRET);
    const untouched = { n: 1, list: ["a", "b"] };
    const bytes = new Uint8Array([1, 2, 3]);
    const value = {
      untouched,
      bytes,
      at: new Date(0),
      deep: [{ text: `env: KEY=${SECRET}` }, null, true, 7],
      [SECRET]: "as a key",
    };
    const masked = r.redactValue(value);
    expect(masked).toEqual({
      untouched,
      bytes,
      at: new Date(0),
      deep: [{ text: `env: KEY=${REDACTED}` }, null, true, 7],
      [REDACTED]: "as a key",
    });
    expect(masked.untouched).toBe(untouched);
    expect(masked.bytes).toBe(bytes);
    expect(value.deep[0]).toEqual({ text: `env: KEY=${SECRET}` }); // the input is not changed
    const clean = { a: { b: ["c"] } };
    expect(r.redactValue(clean)).toBe(clean);
  });

  it("keeps serialized JSON valid JSON, and redacts other text as text", () => {
    const tricky = 'in"side\\back';
    const r = redactorOf(tricky, SECRET);
    const json = JSON.stringify({ a: tricky, b: [`x ${SECRET}`], c: 3 });
    expect(JSON.parse(r.redactJson(json))).toEqual({ a: REDACTED, b: [`x ${REDACTED}`], c: 3 });
    const clean = JSON.stringify({ a: 1 });
    expect(r.redactJson(clean)).toBe(clean);
    expect(r.redactJson(`not json ${SECRET}`)).toBe(`not json ${REDACTED}`);
  });
});

describe("SecretRedactor.find", () => {
  it("names the known secrets a text holds, in any form, without token shapes", () => {
    const redactor = new SecretRedactor();
    const key = "sk-ant-named-key-1234567890";
    const value = "weather-api-value-0f9e8d";
    redactor.add(key, "ANTHROPIC_API_KEY");
    redactor.add(value, "project p1 WEATHER_API_KEY");
    redactor.add("unnamed-secret-value");
    const encoded = Buffer.from(`KEY=${value}`).toString("base64");
    expect(redactor.find(`a ${key} b ${encoded} c orc_${"A".repeat(43)}`).sort()).toEqual([
      "ANTHROPIC_API_KEY",
      "project p1 WEATHER_API_KEY",
    ]);
    expect(redactor.find("x unnamed-secret-value")).toEqual(["a secret"]);
    expect(redactor.find("nothing here")).toEqual([]);
  });
});
