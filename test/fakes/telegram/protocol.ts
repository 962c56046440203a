/**
 * The Bot API's wire format: how a call's parameters arrive (query string, JSON, form-urlencoded or
 * multipart body) and how every answer is shaped (`{ok, result}` or `{ok:false, error_code,
 * description, parameters?}`), so the method handlers deal in values and never touch HTTP.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** A call's parameters by name: JSON values, or strings decoded as Telegram would. */
export type Params = Record<string, unknown>;

/** The body of every Bot API answer. */
export type ApiBody =
  | { ok: true; result: unknown }
  | { ok: false; error_code: number; description: string; parameters?: { retry_after?: number } };

/** An answer before it is written: the HTTP status Telegram uses for it and its body. */
export interface ApiAnswer {
  status: number;
  body: ApiBody;
}

/** A file part of a multipart call, kept as its name and size (the fake stores no files). */
export interface FakeUploadedFile {
  fileName: string;
  size: number;
}

/** Seconds since the epoch, Telegram's unit for dates. */
export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** A 200 answer with its result. */
export function ok(result: unknown): ApiAnswer {
  return { status: 200, body: { ok: true, result } };
}

/** An error answer in Telegram's shape; `retryAfterS` becomes `parameters.retry_after`. */
export function fail(status: number, description: string, retryAfterS?: number): ApiAnswer {
  return {
    status,
    body: {
      ok: false,
      error_code: status,
      description,
      ...(retryAfterS !== undefined ? { parameters: { retry_after: retryAfterS } } : {}),
    },
  };
}

/** Writes an answer unless the client has gone (an abandoned long poll). */
export function writeAnswer(res: ServerResponse, answer: ApiAnswer): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
}

/**
 * Parameters Telegram takes as strings even when the text looks like JSON: a message "42" stays a
 * string. Any other form value is decoded as JSON when it parses (numbers, booleans, reply_markup).
 */
const STRING_PARAMS = new Set([
  "text",
  "caption",
  "url",
  "secret_token",
  "callback_query_id",
  "action",
  "parse_mode",
  "language_code",
  "inline_message_id",
  "business_connection_id",
  "ip_address",
  "name",
  "description",
  "short_description",
]);

function decodeFormValue(key: string, value: string): unknown {
  if (STRING_PARAMS.has(key)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Bot API parameters from the query string and a JSON, form-urlencoded or multipart body. */
export async function readParams(req: IncomingMessage): Promise<Params> {
  const params: Params = {};
  for (const [key, value] of new URL(req.url ?? "/", "http://fake").searchParams) {
    params[key] = decodeFormValue(key, value);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  if (body.length === 0) return params;
  const type = req.headers["content-type"] ?? "";
  if (type.includes("application/json")) {
    const decoded: unknown = JSON.parse(body.toString("utf8"));
    if (typeof decoded !== "object" || decoded === null || Array.isArray(decoded)) {
      throw new Error("a JSON body must be an object");
    }
    return { ...params, ...(decoded as Params) };
  }
  if (type.includes("application/x-www-form-urlencoded")) {
    for (const [key, value] of new URLSearchParams(body.toString("utf8"))) {
      params[key] = decodeFormValue(key, value);
    }
    return params;
  }
  if (type.includes("multipart/form-data")) {
    // The platform's multipart parser, the same one `fetch` uses for FormData.
    const form = await new Response(body, { headers: { "content-type": type } }).formData();
    for (const [key, value] of form) {
      params[key] =
        typeof value === "string"
          ? decodeFormValue(key, value)
          : ({ fileName: value.name, size: value.size } satisfies FakeUploadedFile);
    }
    return params;
  }
  throw new Error(`unsupported content type ${type}`);
}

/** A string parameter, or undefined when absent. */
export function stringParam(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

/** An integer parameter (a number or its decimal text), or undefined. */
export function intParam(value: unknown): number | undefined {
  const n =
    typeof value === "number"
      ? value
      : typeof value === "string" && value.trim() !== ""
        ? Number(value)
        : Number.NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A boolean parameter: `true` as JSON or as form text. */
export function boolParam(value: unknown): boolean {
  return value === true || value === "true";
}

/** An object or array parameter; Telegram also takes it JSON-serialized inside a JSON body. */
export function jsonParam(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
