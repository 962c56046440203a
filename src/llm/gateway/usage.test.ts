import { describe, expect, it } from "vitest";
import { anthropicMeter, openAiChatMeter, openAiResponsesMeter, type UsageMeter } from "./usage.js";

/** Feeds `text` in pieces of `size` characters, as a network would cut it. */
function feedInPieces(meter: UsageMeter, text: string, size: number) {
  for (let i = 0; i < text.length; i += size) meter.feed(text.slice(i, i + size));
  return meter.finish();
}

const sse = (...events: Record<string, unknown>[]) =>
  events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("");

describe("usage meters", () => {
  const anthropicStream = sse(
    {
      type: "message_start",
      message: {
        model: "claude-sonnet-4-5-20250929",
        usage: {
          input_tokens: 40,
          output_tokens: 1,
          cache_read_input_tokens: 9000,
          cache_creation_input_tokens: 120,
        },
      },
    },
    { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "hi" } },
    { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 57 } },
    { type: "message_stop" },
  );

  it("reads Anthropic's stream whatever the chunk boundaries, output from the last delta", () => {
    for (const size of [1, 7, 64, anthropicStream.length]) {
      expect(feedInPieces(anthropicMeter(), anthropicStream, size)).toEqual({
        model: "claude-sonnet-4-5-20250929",
        usage: { inputTokens: 40, outputTokens: 57, cacheReadTokens: 9000, cacheWriteTokens: 120 },
      });
    }
  });

  it("reads an unstreamed Anthropic answer and CRLF event streams", () => {
    const json = JSON.stringify({
      type: "message",
      model: "claude-haiku-4-5",
      usage: { input_tokens: 3, output_tokens: 4 },
    });
    expect(feedInPieces(anthropicMeter(), json, 5)?.usage).toEqual({
      inputTokens: 3,
      outputTokens: 4,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
    });
    expect(
      feedInPieces(anthropicMeter(), anthropicStream.replaceAll("\n", "\r\n"), 13)?.usage.outputTokens,
    ).toBe(57);
  });

  it("says nothing was seen for a body without usage (an error page)", () => {
    expect(feedInPieces(anthropicMeter(), "<html>502 Bad Gateway</html>", 4)).toBeNull();
    expect(feedInPieces(openAiChatMeter(), "data: [DONE]\n\n", 3)).toBeNull();
  });

  it("moves OpenAI's cached prompt tokens out of the input count", () => {
    const stream = [
      { id: "c", model: "gpt-5-codex", choices: [{ delta: { content: "x" } }] },
      {
        id: "c",
        model: "gpt-5-codex",
        choices: [],
        usage: { prompt_tokens: 100, completion_tokens: 9, prompt_tokens_details: { cached_tokens: 60 } },
      },
    ]
      .map((c) => `data: ${JSON.stringify(c)}\n\n`)
      .join("");
    expect(feedInPieces(openAiChatMeter(), `${stream}data: [DONE]\n\n`, 11)).toEqual({
      model: "gpt-5-codex",
      usage: { inputTokens: 40, outputTokens: 9, cacheReadTokens: 60, cacheWriteTokens: 0 },
    });
  });

  it("reads the Responses API's completed event", () => {
    const stream = sse(
      { type: "response.created", response: { object: "response", model: "gpt-5", usage: null } },
      {
        type: "response.completed",
        response: {
          object: "response",
          model: "gpt-5",
          usage: { input_tokens: 12, output_tokens: 2, input_tokens_details: { cached_tokens: 2 } },
        },
      },
    );
    expect(feedInPieces(openAiResponsesMeter(), stream, 9)?.usage).toEqual({
      inputTokens: 10,
      outputTokens: 2,
      cacheReadTokens: 2,
      cacheWriteTokens: 0,
    });
  });
});
