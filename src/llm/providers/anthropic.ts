import type Anthropic from "@anthropic-ai/sdk";
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
 * How to reach Anthropic's Messages API (or a server that speaks it): `baseUrl` is
 * `ANTHROPIC_BASE_URL`.
 */
export interface AnthropicProviderOptions extends SdkClientSettings {
  defaultModel?: string;
  /** The longest one turn may take, retries included. */
  deadlineMs?: number;
}

export const ANTHROPIC_DEFAULT_MODEL = "claude-sonnet-4-5";
const EPHEMERAL = { type: "ephemeral" } as const;

/**
 * Anthropic's Messages API through the official SDK, streamed. The system prompt and the tool
 * list are marked for prompt caching: they are the same on every turn of a conversation.
 */
export class AnthropicProvider implements ModelProvider {
  readonly kind = "anthropic" as const;
  readonly defaultModel: string;
  private readonly options: AnthropicProviderOptions;
  private readonly deadlineMs: number;
  private sdk: Promise<{ client: Anthropic; Sdk: typeof Anthropic }> | null = null;

  constructor(options: AnthropicProviderOptions) {
    this.options = options;
    this.defaultModel = options.defaultModel ?? ANTHROPIC_DEFAULT_MODEL;
    this.deadlineMs = options.deadlineMs ?? 120_000;
  }

  /** The SDK loads at the first call: most processes (and CLI calls) never make one. */
  private client(): Promise<{ client: Anthropic; Sdk: typeof Anthropic }> {
    this.sdk ??= import("@anthropic-ai/sdk").then(({ default: Sdk }) => ({
      Sdk,
      client: new Sdk(sdkClientOptions(this.options)),
    }));
    return this.sdk;
  }

  async complete(input: ModelRequest, options: ModelCallOptions = {}): Promise<ModelTurn> {
    const request = checkRequest(input);
    const model = request.model ?? this.defaultModel;
    const tools = request.tools.map((tool, index) => ({
      name: tool.name,
      description: tool.description,
      input_schema: { type: "object" as const, ...tool.inputSchema },
      ...(index === request.tools.length - 1 ? { cache_control: EPHEMERAL } : {}),
    }));
    const { client, Sdk } = await this.client();
    const message = await withDeadline(this.deadlineMs, options.signal, async (signal) => {
      try {
        const stream = client.messages.stream(
          {
            model,
            max_tokens: request.maxTokens,
            system: [{ type: "text", text: request.system, cache_control: EPHEMERAL }],
            messages: request.messages.map(toWireMessage),
            ...(tools.length > 0 ? { tools } : {}),
          },
          { signal },
        );
        if (options.onText) stream.on("text", options.onText);
        return await stream.finalMessage();
      } catch (error) {
        if (error instanceof Sdk.APIUserAbortError) throw error;
        throw modelError("anthropic", error instanceof Sdk.APIError ? error.status : undefined, error);
      }
    });
    const content: ModelContent[] = [];
    for (const block of message.content) {
      if (block.type === "text") content.push({ type: "text", text: block.text });
      else if (block.type === "tool_use") {
        const input = block.input;
        if (typeof input !== "object" || input === null || Array.isArray(input)) {
          throw new AppError(
            "unavailable",
            "model_bad_answer",
            `tool call ${block.name} has no object input`,
          );
        }
        content.push({
          type: "tool_call",
          id: block.id,
          name: block.name,
          input: input as Record<string, unknown>,
        });
      }
    }
    const usage = message.usage;
    return {
      provider: "anthropic",
      model: message.model,
      content,
      stop: stopOf(message.stop_reason),
      usage: {
        inputTokens: usage.input_tokens,
        outputTokens: usage.output_tokens,
        cacheReadTokens: usage.cache_read_input_tokens ?? 0,
        cacheWriteTokens: usage.cache_creation_input_tokens ?? 0,
      },
    };
  }
}

function stopOf(reason: string | null): ModelStop {
  if (reason === "tool_use") return "tool_calls";
  if (reason === "max_tokens") return "max_tokens";
  return "end";
}

function toWireMessage(message: ReturnType<typeof checkRequest>["messages"][number]): Anthropic.MessageParam {
  return {
    role: message.role,
    content: message.content.map((part): Anthropic.ContentBlockParam => {
      if (part.type === "text") return { type: "text", text: part.text };
      if (part.type === "tool_call")
        return { type: "tool_use", id: part.id, name: part.name, input: part.input };
      return { type: "tool_result", tool_use_id: part.callId, content: part.content, is_error: part.isError };
    }),
  };
}
