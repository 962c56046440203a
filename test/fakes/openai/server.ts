/**
 * A fake OpenAI API over real HTTP: chat completions (`/v1/chat/completions`) and responses
 * (`/v1/responses`), each streamed as server-sent events or answered as one JSON document, the way
 * OpenAI does. Every answer is a short text with the usage a test scripted (`enqueueUsage`), so a
 * test can check that what a client was billed equals what the provider said. Requests must carry
 * the key given at start (`Authorization: Bearer`), else 401.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Usage of one answer: prompt (input) tokens, of which `cached`, and completion (output) tokens. */
export interface FakeOpenAiUsage {
  prompt: number;
  completion: number;
  cached?: number;
}

/**
 * A scripted chat completions answer: text and tool calls (with the usage queued by
 * `enqueueUsage`), or an error answered with its status, as OpenAI does.
 */
export type FakeChatReply =
  | { text?: string; toolCalls?: { name: string; input: Record<string, unknown> }[] }
  | { error: { status: number; type: string; message: string; retryAfterSeconds?: number } };

export interface RecordedOpenAiRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  raw: string;
}

export interface FakeOpenAi {
  /** Base URL with `/v1`, as OpenAI clients take it (`OPENAI_BASE_URL`). */
  readonly url: string;
  readonly requests: RecordedOpenAiRequest[];
  /** Usage of the next answers, in order; when none is queued an answer uses 7 in, 3 out. */
  enqueueUsage(...usage: FakeOpenAiUsage[]): void;
  /** Answers of the next non-streamed chat completions, in order; when none is queued: "ok". */
  enqueueReply(...replies: FakeChatReply[]): void;
  close(): Promise<void>;
}

const MODEL = "gpt-5-codex";

export async function startFakeOpenAi(opts: { apiKey: string }): Promise<FakeOpenAi> {
  const requests: RecordedOpenAiRequest[] = [];
  const queue: FakeOpenAiUsage[] = [];
  const replies: FakeChatReply[] = [];
  let callIds = 0;

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    let body: unknown = null;
    try {
      body = JSON.parse(raw);
    } catch {
      body = null;
    }
    requests.push({ method: req.method ?? "GET", path, headers: { ...req.headers }, body, raw });
    if (req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return json(res, 401, {
        error: {
          message: "Incorrect API key provided",
          type: "invalid_request_error",
          code: "invalid_api_key",
        },
      });
    }
    const doc = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    const usage = queue.shift() ?? { prompt: 7, completion: 3 };
    const cached = usage.cached ?? 0;
    const stream = doc.stream === true;
    if (req.method === "POST" && path === "/v1/chat/completions") {
      const wire = {
        prompt_tokens: usage.prompt,
        completion_tokens: usage.completion,
        total_tokens: usage.prompt + usage.completion,
        prompt_tokens_details: { cached_tokens: cached },
      };
      const base = { id: "chatcmpl-fake", object: "chat.completion", created: 1, model: MODEL };
      if (!stream) {
        const reply = replies.shift() ?? { text: "ok" };
        if ("error" in reply) {
          const { status, type, message, retryAfterSeconds } = reply.error;
          const headers: Record<string, string> =
            retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) };
          return json(res, status, { error: { message, type, code: null } }, headers);
        }
        const toolCalls = (reply.toolCalls ?? []).map((call) => ({
          id: `call_${++callIds}`,
          type: "function",
          function: { name: call.name, arguments: JSON.stringify(call.input) },
        }));
        const message = {
          role: "assistant",
          content: reply.text ?? null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        };
        return json(res, 200, {
          ...base,
          choices: [{ index: 0, message, finish_reason: toolCalls.length > 0 ? "tool_calls" : "stop" }],
          usage: wire,
        });
      }
      const includeUsage =
        (doc.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
      const chunk = { ...base, object: "chat.completion.chunk" };
      const events = [
        {
          ...chunk,
          choices: [{ index: 0, delta: { role: "assistant", content: "ok" }, finish_reason: null }],
        },
        { ...chunk, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
        ...(includeUsage ? [{ ...chunk, choices: [], usage: wire }] : []),
      ];
      return sse(res, [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), "data: [DONE]\n\n"]);
    }
    if (req.method === "POST" && path === "/v1/responses") {
      const response = {
        id: "resp_fake",
        object: "response",
        model: MODEL,
        status: "completed",
        output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text: "ok" }] }],
        usage: {
          input_tokens: usage.prompt,
          input_tokens_details: { cached_tokens: cached },
          output_tokens: usage.completion,
          total_tokens: usage.prompt + usage.completion,
        },
      };
      if (!stream) return json(res, 200, response);
      const frame = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
      return sse(res, [
        frame("response.created", {
          type: "response.created",
          response: { ...response, status: "in_progress", usage: null },
        }),
        frame("response.output_text.delta", { type: "response.output_text.delta", delta: "ok" }),
        frame("response.completed", { type: "response.completed", response }),
      ]);
    }
    return json(res, 404, { error: { message: `no route ${path}`, type: "invalid_request_error" } });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(req, res, Buffer.concat(chunks).toString("utf8")));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueueUsage: (...usage) => queue.push(...usage),
    enqueueReply: (...next) => replies.push(...next),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function sse(res: ServerResponse, frames: string[]): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const frame of frames) res.write(frame);
  res.end();
}
