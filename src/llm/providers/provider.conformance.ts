/**
 * The behaviour every ModelProvider shares, run against each (the network ones against the fake
 * Anthropic and OpenAI servers under test/fakes, over real HTTP).
 */
import { describe, expect, it } from "vitest";
import { AppError, type ModelRequest } from "../../contracts/index.js";
import type { ModelProvider } from "./provider.js";

/** One scripted answer: text and tool calls, with the usage the provider reports. */
export interface ConformanceAnswer {
  text?: string;
  toolCalls?: { name: string; input: Record<string, unknown> }[];
  usage?: { input: number; output: number };
}

export interface ProviderHarness {
  provider: ModelProvider;
  /** Queues the answer to the next call. */
  answer(reply: ConformanceAnswer): void;
  /** Network providers: queues one failed answer with this HTTP status. */
  fail?(status: number): void;
  /** Network providers: how many calls reached the server so far. */
  calls?(): number;
  /** Network providers: the last request body the server received, as text. */
  lastBody?(): string;
  /** Whether usage is the provider's own count (what the script said) rather than an estimate. */
  exactUsage: boolean;
}

const tools = [
  {
    name: "project_create",
    description: "Creates a project.",
    inputSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
  },
];

const ask = (text: string): ModelRequest => ({
  system: "You are a test.",
  messages: [{ role: "user", content: [{ type: "text", text }] }],
  tools,
  maxTokens: 256,
});

export function modelProviderConformance(
  name: string,
  setup: () => ProviderHarness,
  opts: { network: boolean },
): void {
  describe(`ModelProvider conformance: ${name}`, () => {
    it("answers text, says it ended, and reports its usage", async () => {
      const h = setup();
      h.answer({ text: "hello there", usage: { input: 21, output: 4 } });
      const streamed: string[] = [];
      const turn = await h.provider.complete(ask("hi"), { onText: (delta) => streamed.push(delta) });
      expect(turn.provider).toBe(h.provider.kind);
      expect(turn.content).toEqual([{ type: "text", text: "hello there" }]);
      expect(turn.stop).toBe("end");
      expect(streamed.join("")).toBe("hello there");
      if (h.exactUsage) {
        expect(turn.usage.inputTokens + turn.usage.cacheReadTokens).toBe(21);
        expect(turn.usage.outputTokens).toBe(4);
      } else {
        expect(turn.usage.inputTokens).toBeGreaterThan(0);
      }
    });

    it("calls a tool with its input, then reads the tool's result on the next call", async () => {
      const h = setup();
      h.answer({ toolCalls: [{ name: "project_create", input: { name: "weather bot" } }] });
      const first = await h.provider.complete(ask("make a weather bot"));
      expect(first.stop).toBe("tool_calls");
      const call = first.content.find((part) => part.type === "tool_call");
      expect(call).toMatchObject({
        type: "tool_call",
        name: "project_create",
        input: { name: "weather bot" },
      });
      if (call?.type !== "tool_call") throw new Error("no tool call");
      h.answer({ text: "created" });
      const second = await h.provider.complete({
        ...ask("make a weather bot"),
        messages: [
          ...ask("make a weather bot").messages,
          { role: "assistant", content: first.content },
          {
            role: "user",
            content: [{ type: "tool_result", callId: call.id, content: '{"id":"p-1"}', isError: false }],
          },
        ],
      });
      expect(second.content).toEqual([{ type: "text", text: "created" }]);
      if (h.lastBody) {
        expect(h.lastBody()).toContain(call.id);
        expect(h.lastBody()).toContain('{\\"id\\":\\"p-1\\"}');
      }
    });

    it("refuses a request without messages before sending anything", async () => {
      const h = setup();
      const before = h.calls?.() ?? 0;
      const error = await h.provider.complete({ system: "s", messages: [] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: "invalid_input" });
      expect(h.calls?.() ?? 0).toBe(before);
    });

    it("stops at once when its caller's signal is aborted", async () => {
      const h = setup();
      const controller = new AbortController();
      controller.abort(new Error("the person left"));
      await expect(h.provider.complete(ask("hi"), { signal: controller.signal })).rejects.toThrow();
    });

    // Only a provider behind HTTP meets a failing server.
    if (opts.network) {
      it("retries an overloaded or failing server, then answers", async () => {
        const h = setup();
        h.fail?.(529);
        h.fail?.(500);
        h.answer({ text: "back" });
        const before = h.calls?.() ?? 0;
        const turn = await h.provider.complete(ask("hi"));
        expect(turn.content).toEqual([{ type: "text", text: "back" }]);
        expect((h.calls?.() ?? 0) - before).toBe(3);
      });

      it("says a refused key as model_unauthorized, without retrying", async () => {
        const h = setup();
        h.fail?.(401);
        const before = h.calls?.() ?? 0;
        const error = await h.provider.complete(ask("hi")).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: "model_unauthorized" });
        expect((h.calls?.() ?? 0) - before).toBe(1);
      });
    }
  });
}
