import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { ApiError } from "./api";
import type { ChatMessage, ConversationState } from "./contract";
import { backoffMs, followConversation, SseParser } from "./stream";

describe("SseParser", () => {
  it("reads events cut anywhere, with comments, CRLF and several data lines", () => {
    const parser = new SseParser();
    const text =
      ': ping\r\n\r\nevent: state\r\ndata: {"state":"processing"}\r\n\r\ndata: a\ndata: b\n\nevent: x\n\n';
    const events = [...text].flatMap((char) => parser.push(char));
    expect(events).toEqual([
      { event: "state", data: '{"state":"processing"}' },
      { event: "message", data: "a\nb" },
    ]);
  });
});

describe("backoffMs", () => {
  it("doubles from the first wait up to the cap, give or take a fifth", () => {
    for (const [attempt, base] of [
      [0, 500],
      [1, 1_000],
      [3, 4_000],
      [20, 15_000],
    ] as const) {
      const wait = backoffMs(attempt, 500, 15_000);
      expect(wait).toBeGreaterThanOrEqual(base * 0.8);
      expect(wait).toBeLessThanOrEqual(base * 1.2);
    }
  });
});

describe("followConversation", () => {
  let close = async () => {};
  afterEach(() => close());

  /** A stream server: each request is answered by the next of `answers`. */
  async function serve(answers: ((res: ServerResponse) => void)[]) {
    const requests: { url: string; accept: string | undefined }[] = [];
    const server = createServer((req, res) => {
      requests.push({ url: req.url ?? "", accept: req.headers.accept });
      (answers.shift() ?? ((r: ServerResponse) => r.end()))(res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    close = () => new Promise((resolve) => server.close(() => resolve()));
    return { requests, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  const sse = (res: ServerResponse, body: string, end: boolean) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(body);
    if (end) res.end();
  };

  it("asks for an event stream, reopens a lost stream after the last seq seen, and stops when told", async () => {
    const seen: (ChatMessage | ConversationState)[] = [];
    const { requests, base } = await serve([
      (res) => sse(res, event("message", { id: "m1", seq: 7 }) + event("state", { state: "idle" }), true),
      (res) => sse(res, event("message", { id: "m2", seq: 8 }), false),
    ]);
    const stop = followConversation({
      url: (after) => `${base}/stream?after=${after}`,
      after: 3,
      initialBackoffMs: 10,
      handlers: {
        onMessage: (m) => seen.push(m),
        onState: (s) => seen.push(s),
        onConnection: () => {},
        onFatal: () => {},
      },
    });
    await expect.poll(() => seen.length).toBe(3);
    stop();
    expect(seen).toEqual([{ id: "m1", seq: 7 }, "idle", { id: "m2", seq: 8 }]);
    expect(requests.map((r) => r.url)).toEqual(["/stream?after=3", "/stream?after=7"]);
    expect(requests.every((r) => r.accept === "text/event-stream")).toBe(true);
  });

  it("gives up on a refused token with the API's error, and retries a server error", async () => {
    const errors: ApiError[] = [];
    const { requests, base } = await serve([
      (res) => res.writeHead(503).end(),
      (res) =>
        res
          .writeHead(401, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { code: "unauthorized", message: "token revoked", details: [] } })),
    ]);
    followConversation({
      url: () => `${base}/stream`,
      after: 0,
      initialBackoffMs: 10,
      handlers: {
        onMessage: () => {},
        onState: () => {},
        onConnection: () => {},
        onFatal: (e) => errors.push(e),
      },
    });
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toMatchObject({ status: 401, code: "unauthorized", message: "token revoked" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(requests).toHaveLength(2);
  });
});
