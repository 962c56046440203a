import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeAnthropic, lastToolResultText, startFakeAnthropic } from "./server.js";

let fake: FakeAnthropic;
beforeEach(async () => {
  fake = await startFakeAnthropic({ apiKey: "sk-test" });
});
afterEach(async () => {
  await fake.close();
});

const TOOLS = [{ name: "Write", description: "write", input_schema: { type: "object" } }];

function post(path: string, body: unknown, key = "sk-test") {
  return fetch(`${fake.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": key, "anthropic-version": "2023-06-01" },
    body: JSON.stringify(body),
  });
}

const turnBody = (stream: boolean) => ({
  model: "claude-sonnet-4-5",
  max_tokens: 1000,
  stream,
  tools: TOOLS,
  messages: [{ role: "user", content: "hi" }],
});

/** Parses an SSE body into its events' data objects. */
async function sseEvents(res: Response): Promise<Record<string, unknown>[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter(Boolean)
    .map((frame) => {
      const data = frame.split("\n").find((l) => l.startsWith("data: "));
      return JSON.parse(data?.slice("data: ".length) ?? "{}") as Record<string, unknown>;
    });
}

describe("fake Anthropic Messages API", () => {
  it("streams a scripted tool call as the real API does, with the reply's usage", async () => {
    fake.enqueue({
      toolUse: { name: "Write", input: { file_path: "/w/a.txt", content: "x" }, id: "toolu_1" },
      usage: { input: 11, output: 22, cacheRead: 33, cacheCreation: 44 },
    });
    const res = await post("/v1/messages?beta=true", turnBody(true));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = await sseEvents(res);
    expect(events.map((e) => e.type)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(events[1]).toMatchObject({ content_block: { type: "tool_use", id: "toolu_1", name: "Write" } });
    const json = events
      .filter((e) => e.type === "content_block_delta")
      .map((e) => (e.delta as { partial_json: string }).partial_json)
      .join("");
    expect(JSON.parse(json)).toEqual({ file_path: "/w/a.txt", content: "x" });
    expect(events[5]).toMatchObject({
      delta: { stop_reason: "tool_use" },
      usage: {
        input_tokens: 11,
        output_tokens: 22,
        cache_read_input_tokens: 33,
        cache_creation_input_tokens: 44,
      },
    });
    expect(fake.conversation()).toHaveLength(1);
    expect(fake.requests[0]?.headers["x-api-key"]).toBe("sk-test");
  });

  it("answers non-streaming requests with a whole message, consuming replies in order", async () => {
    fake.enqueue("first", { blocks: [{ text: "second" }], stopReason: "max_tokens" });
    const a = (await (await post("/v1/messages", turnBody(false))).json()) as Record<string, unknown>;
    const b = (await (await post("/v1/messages", turnBody(false))).json()) as Record<string, unknown>;
    expect(a).toMatchObject({
      type: "message",
      content: [{ type: "text", text: "first" }],
      stop_reason: "end_turn",
    });
    expect(b).toMatchObject({ content: [{ type: "text", text: "second" }], stop_reason: "max_tokens" });
    expect(fake.pending()).toBe(0);
    const c = (await (await post("/v1/messages", turnBody(false))).json()) as { content: { text: string }[] };
    expect(c.content[0]?.text).toContain("no scripted reply left");
  });

  it("answers side requests (no tools, or a 1-token probe) without consuming the script", async () => {
    fake.enqueue("scripted");
    const side = await post("/v1/messages", { model: "claude-haiku-4-5", max_tokens: 50, messages: [] });
    const probe = await post("/v1/messages", { ...turnBody(false), max_tokens: 1 });
    expect(side.status).toBe(200);
    expect(probe.status).toBe(200);
    expect(fake.pending()).toBe(1);
    expect(fake.requests.map((r) => r.kind)).toEqual(["side", "side"]);
  });

  it("serves count_tokens, models, the HEAD probe and a JSON 404", async () => {
    const count = (await (await post("/v1/messages/count_tokens", turnBody(false))).json()) as {
      input_tokens: number;
    };
    expect(count.input_tokens).toBeGreaterThan(0);
    const models = (await (
      await fetch(`${fake.url}/v1/models`, { headers: { "x-api-key": "sk-test" } })
    ).json()) as { data: unknown[] };
    expect(models.data.length).toBeGreaterThan(0);
    expect((await fetch(fake.url, { method: "HEAD" })).status).toBe(200);
    const missing = await fetch(`${fake.url}/v1/nothing`, { headers: { "x-api-key": "sk-test" } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
  });

  it.each([
    ["api_error", 500, "api_error"],
    ["overloaded", 529, "overloaded_error"],
    ["invalid_key", 401, "authentication_error"],
  ] as const)("fails every request in mode %s", async (mode, status, type) => {
    fake.enqueue("kept");
    fake.setFailure(mode);
    const res = await post("/v1/messages", turnBody(true));
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ type: "error", error: { type } });
    expect(fake.pending()).toBe(1);
    fake.setFailure("none");
    expect((await post("/v1/messages", turnBody(false))).status).toBe(200);
  });

  it("computes a function reply from the request it answers, in its turn", async () => {
    const withResult = (content: unknown) => ({
      ...turnBody(false),
      messages: [
        { role: "user", content: "commit it" },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "Bash", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content }] },
      ],
    });
    fake.enqueue(
      "first",
      (body) => `you said ${lastToolResultText(body)?.trim()}`,
      () => {
        throw new Error("no SHA");
      },
    );
    const text = async (res: Response) =>
      ((await res.json()) as { content: { text: string }[] }).content[0]?.text;
    expect(await text(await post("/v1/messages", withResult("abc123\n")))).toBe("first");
    expect(
      await text(
        await post(
          "/v1/messages",
          withResult([{ type: "text", text: "def456\n<system-reminder>\nbudget\n</system-reminder>" }]),
        ),
      ),
    ).toBe("you said def456");
    expect(await text(await post("/v1/messages", turnBody(false)))).toContain(
      "reply function failed: no SHA",
    );
    expect(lastToolResultText(turnBody(false))).toBeNull();
  });

  it("rejects a wrong key and answers scripted errors in their turn", async () => {
    expect((await post("/v1/messages", turnBody(false), "wrong")).status).toBe(401);
    fake.enqueue({ error: { status: 400, type: "invalid_request_error", message: "bad" } }, "after");
    expect((await post("/v1/messages", turnBody(false))).status).toBe(400);
    expect((await post("/v1/messages", turnBody(false))).status).toBe(200);
  });
});
