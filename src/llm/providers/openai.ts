import type OpenAI from "openai";
import {
  AppError,
  type ModelContent,
  type ModelRequest,
  type ModelStop,
  type ModelTurn,
} from "../../contracts/index.js";
import {
  checkRequest,
  type ModelCallOptions,
  type ModelProvider,
  modelError,
  type SdkClientSettings,
  sdkClientOptions,
  withDeadline,
} from "./provider.js";

/**
 * How to reach an OpenAI-compatible chat completions API (OpenAI, vLLM, Ollama, llama.cpp):
 * `baseUrl` is `OPENAI_BASE_URL`, with `/v1`.
 */
export interface OpenAiProviderOptions extends SdkClientSettings {
  defaultModel?: string;
  /** The longest one turn may take, retries included. */
  deadlineMs?: number;
}

export const OPENAI_DEFAULT_MODEL = "gpt-5-mini";

type WireMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/** An OpenAI-compatible chat completions API through the official SDK. */
export class OpenAiProvider implements ModelProvider {
  readonly kind = "openai" as const;
  readonly defaultModel: string;
  private readonly options: OpenAiProviderOptions;
  private readonly deadlineMs: number;
  private sdk: Promise<{ client: OpenAI; Sdk: typeof OpenAI }> | null = null;

  constructor(options: OpenAiProviderOptions) {
    this.options = options;
    this.defaultModel = options.defaultModel ?? OPENAI_DEFAULT_MODEL;
    this.deadlineMs = options.deadlineMs ?? 120_000;
  }

  /** The SDK loads at the first call: most processes (and CLI calls) never make one. */
  private client(): Promise<{ client: OpenAI; Sdk: typeof OpenAI }> {
    this.sdk ??= import("openai").then(({ default: Sdk }) => ({
      Sdk,
      client: new Sdk(sdkClientOptions(this.options)),
    }));
    return this.sdk;
  }

  async complete(input: ModelRequest, options: ModelCallOptions = {}): Promise<ModelTurn> {
    const request = checkRequest(input);
    const model = request.model ?? this.defaultModel;
    const messages: WireMessage[] = [{ role: "system", content: request.system }];
    for (const message of request.messages) messages.push(...toWireMessages(message));
    const { client, Sdk } = await this.client();
    const completion = await withDeadline(this.deadlineMs, options.signal, async (signal) => {
      try {
        return await client.chat.completions.create(
          {
            model,
            max_completion_tokens: request.maxTokens,
            messages,
            ...(request.tools.length > 0
              ? {
                  tools: request.tools.map((tool) => ({
                    type: "function" as const,
                    function: {
                      name: tool.name,
                      description: tool.description,
                      parameters: tool.inputSchema,
                    },
                  })),
                }
              : {}),
          },
          { signal },
        );
      } catch (error) {
        if (error instanceof Sdk.APIUserAbortError) throw error;
        throw modelError("openai", error instanceof Sdk.APIError ? error.status : undefined, error);
      }
    });
    const choice = completion.choices[0];
    if (!choice) throw new AppError("unavailable", "model_bad_answer", "openai answered without a choice");
    const content: ModelContent[] = [];
    if (choice.message.content) {
      content.push({ type: "text", text: choice.message.content });
      options.onText?.(choice.message.content);
    }
    for (const call of choice.message.tool_calls ?? []) {
      if (call.type !== "function") continue;
      content.push({
        type: "tool_call",
        id: call.id,
        name: call.function.name,
        input: parseArguments(call.function),
      });
    }
    const usage = completion.usage;
    const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
    return {
      provider: "openai",
      model: completion.model,
      content,
      stop: stopOf(choice.finish_reason, content),
      usage: {
        inputTokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cached),
        outputTokens: usage?.completion_tokens ?? 0,
        cacheReadTokens: cached,
        cacheWriteTokens: 0,
      },
    };
  }
}

function stopOf(reason: string | null, content: ModelContent[]): ModelStop {
  if (reason === "length") return "max_tokens";
  // Some compatible servers say `stop` even when they call tools.
  if (reason === "tool_calls" || content.some((part) => part.type === "tool_call")) return "tool_calls";
  return "end";
}

function parseArguments(call: { name: string; arguments: string }): Record<string, unknown> {
  try {
    const input: unknown = JSON.parse(call.arguments || "{}");
    if (typeof input === "object" && input !== null && !Array.isArray(input))
      return input as Record<string, unknown>;
  } catch (cause) {
    throw new AppError(
      "unavailable",
      "model_bad_answer",
      `tool call ${call.name} has arguments that are not JSON`,
      {
        cause,
      },
    );
  }
  throw new AppError("unavailable", "model_bad_answer", `tool call ${call.name} has no object arguments`);
}

/** One of our messages as chat messages: tool results each become a `tool` message. */
function toWireMessages(message: ReturnType<typeof checkRequest>["messages"][number]): WireMessage[] {
  const text = message.content.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("\n");
  if (message.role === "assistant") {
    const calls = message.content.flatMap((part) =>
      part.type === "tool_call"
        ? [
            {
              id: part.id,
              type: "function" as const,
              function: { name: part.name, arguments: JSON.stringify(part.input) },
            },
          ]
        : [],
    );
    return [{ role: "assistant", content: text || null, ...(calls.length > 0 ? { tool_calls: calls } : {}) }];
  }
  const wire: WireMessage[] = message.content.flatMap((part) =>
    part.type === "tool_result"
      ? [
          {
            role: "tool" as const,
            tool_call_id: part.callId,
            content: part.isError ? `error: ${part.content}` : part.content,
          },
        ]
      : [],
  );
  if (text) wire.push({ role: "user", content: text });
  return wire;
}
