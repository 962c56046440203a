import { randomUUID } from "node:crypto";
import type { ModelContent, ModelRequest, ModelTurn } from "../../contracts/index.js";
import { checkRequest, type ModelCallOptions, type ModelProvider } from "./provider.js";

/** What a script answers to one request: text, tool calls, or both. */
export interface ScriptedAnswer {
  text?: string;
  toolCalls?: { name: string; input: Record<string, unknown> }[];
}

/** Decides the answer from what the model would see (the last message, the tools offered, ...). */
export type ModelScript = (request: ReturnType<typeof checkRequest>) => ScriptedAnswer;

/** The model name scripted turns carry, so no answer passes for a real model's. */
export const SCRIPTED_MODEL = "scripted";

/**
 * A deterministic model without a network: its answers come from a script. For the demo and for
 * tests; every turn says `provider: "scripted"`, and costs nothing.
 */
export class ScriptedProvider implements ModelProvider {
  readonly kind = "scripted" as const;
  readonly defaultModel = SCRIPTED_MODEL;

  constructor(private readonly script: ModelScript) {}

  async complete(input: ModelRequest, options: ModelCallOptions = {}): Promise<ModelTurn> {
    const request = checkRequest(input);
    options.signal?.throwIfAborted();
    const answer = this.script(request);
    const content: ModelContent[] = [];
    if (answer.text) {
      content.push({ type: "text", text: answer.text });
      options.onText?.(answer.text);
    }
    for (const call of answer.toolCalls ?? []) {
      content.push({ type: "tool_call", id: `scripted-${randomUUID()}`, name: call.name, input: call.input });
    }
    if (content.length === 0) content.push({ type: "text", text: "" });
    const words = (text: string) => Math.ceil(text.length / 4);
    return {
      provider: "scripted",
      model: SCRIPTED_MODEL,
      content,
      stop: answer.toolCalls?.length ? "tool_calls" : "end",
      usage: {
        inputTokens: words(request.system) + words(JSON.stringify(request.messages)),
        outputTokens: words(JSON.stringify(content)),
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      },
    };
  }
}
