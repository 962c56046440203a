/**
 * A fake Anthropic Messages API over real HTTP, good enough for the real Claude Code CLI (2.1.197)
 * to run against it through `ANTHROPIC_BASE_URL`.
 *
 * What the CLI sends (found by logging it): a `HEAD /` reachability probe, then `POST
 * /v1/messages?beta=true` with `stream: true`, its full tool list and the whole conversation on
 * every turn. Side requests of other kinds (title or summary generation, quota checks) carry no
 * tools or `max_tokens: 1`; they are answered with a short text and do not consume the script.
 * `count_tokens` and the models list are answered plausibly; unknown paths get a JSON 404.
 *
 * Scripting: `enqueue` replies (text, tool calls, usage per reply); each conversation request
 * consumes the next one, so a test decides exactly which files the CLI writes and which commands
 * it runs. A reply may also be a function of the request (`FakeReplyFn`), for answers that depend
 * on what the CLI sent, e.g. a commit SHA a tool printed (`lastToolResultText`), and it may take
 * its time (a promise: a slow model, or one that answers once something else happened). `setFailure`
 * makes every request fail the way the real API does (500, 529, 401).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  errorJson,
  type FakeReply,
  type FakeReplyFn,
  isErrorReply,
  messageEvents,
  messageJson,
  type NormalizedReply,
  normalizeReply,
} from "./replies.js";

/** How every request fails until reset: none, 500 `api_error`, 529 `overloaded_error`, 401. */
export type FakeFailure = "none" | "api_error" | "overloaded" | "invalid_key";

/** Which part of the protocol a request belonged to. */
export type RequestKind = "conversation" | "side" | "count_tokens" | "other";

/** One request as received: nothing removed from headers; body parsed when it is JSON. */
export interface RecordedRequest {
  method: string;
  /** Path with query string, as sent. */
  url: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** The body exactly as received (what a leak scan reads: no re-encoding hides an escape). */
  raw: string;
  kind: RequestKind;
}

/** A Messages API request body, as far as the fake reads it. */
export interface MessagesBody {
  model?: string;
  max_tokens?: number;
  stream?: boolean;
  tools?: { name: string }[];
  messages?: { role: string; content: unknown }[];
  system?: unknown;
}

export interface FakeAnthropicOptions {
  /** When set, requests must carry this key (`x-api-key` or bearer) or they get a 401. */
  apiKey?: string;
  /** Decides which `/v1/messages` requests are side requests; see the default below. */
  isSideRequest?: (body: MessagesBody) => boolean;
  /** Text of side-request answers. */
  sideReplyText?: string;
  /** Text answered when the script is empty (ends the CLI's turn instead of hanging it). */
  exhaustedText?: string;
}

export interface FakeAnthropic {
  /** Base URL to give the client (`ANTHROPIC_BASE_URL`), without a trailing slash. */
  readonly url: string;
  /** Every request in arrival order. */
  readonly requests: RecordedRequest[];
  /** Conversation requests only (the ones that consumed, or would consume, a scripted reply). */
  conversation(): RecordedRequest[];
  /** Queues replies; a function is called with the request it answers and returns the reply. */
  enqueue(...replies: (FakeReply | FakeReplyFn)[]): void;
  /** Scripted replies not consumed yet. */
  pending(): number;
  setFailure(mode: FakeFailure): void;
  /** Drops unconsumed replies and clears the failure mode (recorded requests stay). */
  reset(): void;
  close(): Promise<void>;
}

/** Side requests are the ones that could not be an agent turn: no tools offered, or a 1-token probe. */
export function defaultIsSideRequest(body: MessagesBody): boolean {
  return !Array.isArray(body.tools) || body.tools.length === 0 || (body.max_tokens ?? 0) <= 1;
}

const FAILURES: Record<Exclude<FakeFailure, "none">, { status: number; type: string; message: string }> = {
  api_error: { status: 500, type: "api_error", message: "Internal server error" },
  overloaded: { status: 529, type: "overloaded_error", message: "Overloaded" },
  invalid_key: { status: 401, type: "authentication_error", message: "invalid x-api-key" },
};

const MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001"];

/** Starts the fake on a free port of 127.0.0.1. */
export async function startFakeAnthropic(opts: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const requests: RecordedRequest[] = [];
  const script: (FakeReply | FakeReplyFn)[] = [];
  let failure: FakeFailure = "none";
  const isSide = opts.isSideRequest ?? defaultIsSideRequest;

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const url = req.url ?? "/";
    const path = url.split("?")[0] ?? "/";
    const body = parseJson(raw);
    const messagesBody = (typeof body === "object" && body !== null ? body : {}) as MessagesBody;
    const isMessages = req.method === "POST" && path === "/v1/messages";
    const kind: RequestKind = isMessages
      ? isSide(messagesBody)
        ? "side"
        : "conversation"
      : req.method === "POST" && path === "/v1/messages/count_tokens"
        ? "count_tokens"
        : "other";
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      url,
      path,
      headers: { ...req.headers },
      body,
      raw,
      kind,
    };
    requests.push(recorded);

    if (failure !== "none") return sendError(res, FAILURES[failure]);
    if (path === "/" && (req.method === "HEAD" || req.method === "GET")) return sendJson(res, 200, {});
    if (path.startsWith("/v1/") && opts.apiKey !== undefined && apiKeyOf(req) !== opts.apiKey) {
      return sendError(res, FAILURES.invalid_key);
    }
    if (kind === "conversation" || kind === "side") {
      const model = messagesBody.model ?? "claude-sonnet-4-5";
      let reply: FakeReply;
      if (kind === "side") reply = opts.sideReplyText ?? "OK";
      else {
        const next = script.shift() ?? opts.exhaustedText ?? "fake-anthropic: no scripted reply left";
        try {
          // Taken from the script before waiting: a slow reply keeps its place in the order.
          reply = typeof next === "function" ? await next(messagesBody, recorded) : next;
        } catch (error) {
          // A reply function that cannot answer ends the CLI's turn with the reason, never a hang.
          const message = error instanceof Error ? error.message : String(error);
          reply = `fake-anthropic: reply function failed: ${message}`;
        }
      }
      if (isErrorReply(reply)) return sendError(res, reply.error);
      return sendMessage(res, normalizeReply(reply), model, messagesBody.stream === true);
    }
    if (kind === "count_tokens") return sendJson(res, 200, { input_tokens: Math.ceil(raw.length / 4) });
    if (req.method === "GET" && path === "/v1/models") {
      return sendJson(res, 200, {
        data: MODELS.map(modelInfo),
        has_more: false,
        first_id: MODELS[0],
        last_id: MODELS[MODELS.length - 1],
      });
    }
    const modelMatch = /^\/v1\/models\/([^/]+)$/.exec(path);
    if (req.method === "GET" && modelMatch?.[1]) return sendJson(res, 200, modelInfo(modelMatch[1]));
    return sendError(res, {
      status: 404,
      type: "not_found_error",
      message: `${req.method} ${path} not found`,
    });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      handle(req, res, Buffer.concat(chunks).toString("utf8")).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    conversation: () => requests.filter((r) => r.kind === "conversation"),
    enqueue: (...replies) => {
      script.push(...replies);
    },
    pending: () => script.length,
    setFailure: (mode) => {
      failure = mode;
    },
    reset: () => {
      script.length = 0;
      failure = "none";
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The notes Claude Code appends to tool results (e.g. the budget left), not part of the output. */
const SYSTEM_REMINDER = /<system-reminder>[\s\S]*?<\/system-reminder>/g;

/**
 * The text of the newest `tool_result` block in a request's conversation (what the CLI sent back
 * after running the last tool: a command's output, a file's content), without the CLI's
 * `<system-reminder>` notes; null when there is none.
 */
export function lastToolResultText(body: MessagesBody): string | null {
  for (const message of [...(body.messages ?? [])].reverse()) {
    if (!Array.isArray(message.content)) continue;
    for (const block of [...(message.content as unknown[])].reverse()) {
      if (!isObject(block) || block.type !== "tool_result") continue;
      const content = block.content;
      const text =
        typeof content === "string"
          ? content
          : Array.isArray(content)
            ? content
                .filter((c): c is { text: string } => isObject(c) && typeof c.text === "string")
                .map((c) => c.text)
                .join("")
            : "";
      return text.replace(SYSTEM_REMINDER, "");
    }
  }
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function sendMessage(res: ServerResponse, reply: NormalizedReply, model: string, stream: boolean): void {
  if (!stream) {
    sendJson(res, 200, messageJson(reply, model));
    return;
  }
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "request-id": `req_fake_${Date.now()}`,
  });
  for (const frame of messageEvents(reply, model)) res.write(frame);
  res.end();
}

function sendError(res: ServerResponse, error: { status: number; type: string; message: string }): void {
  sendJson(res, error.status, errorJson(error.type, error.message));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function parseJson(raw: string): unknown {
  if (raw === "") return null;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function apiKeyOf(req: IncomingMessage): string | undefined {
  const key = req.headers["x-api-key"];
  if (typeof key === "string") return key;
  const auth = req.headers.authorization;
  return auth?.startsWith("Bearer ") ? auth.slice("Bearer ".length) : undefined;
}

function modelInfo(id: string): Record<string, unknown> {
  return { type: "model", id, display_name: id, created_at: "2025-01-01T00:00:00Z" };
}
