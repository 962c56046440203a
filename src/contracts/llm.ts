import { z } from "zod";

/** The in-process model providers: Anthropic's Messages API, an OpenAI-compatible chat API, or none. */
export const ModelProviderKind = z.enum(["anthropic", "openai", "scripted"]);
export type ModelProviderKind = z.infer<typeof ModelProviderKind>;

/** One piece of a message: text, a tool call the model made, or the answer to one. */
export const ModelContent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text"), text: z.string() }),
  z.object({
    type: z.literal("tool_call"),
    id: z.string().min(1),
    name: z.string().min(1),
    input: z.record(z.string(), z.unknown()),
  }),
  z.object({
    type: z.literal("tool_result"),
    callId: z.string().min(1),
    content: z.string(),
    isError: z.boolean().default(false),
  }),
]);
export type ModelContent = z.infer<typeof ModelContent>;

/** A turn of the conversation: the person's side (`user`, also tool results) or the model's. */
export const ModelMessage = z.object({
  role: z.enum(["user", "assistant"]),
  content: z.array(ModelContent).min(1),
});
export type ModelMessage = z.infer<typeof ModelMessage>;

/** A tool offered to the model: a provider-safe name, what it does, its input as JSON Schema. */
export const ModelTool = z.object({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "letters, digits, _ and -, at most 64"),
  description: z.string(),
  inputSchema: z.record(z.string(), z.unknown()),
});
export type ModelTool = z.infer<typeof ModelTool>;

/** One call to a model: everything it sees this turn. */
export const ModelRequest = z.object({
  model: z.string().min(1).optional(),
  system: z.string(),
  messages: z.array(ModelMessage).min(1),
  tools: z.array(ModelTool).default([]),
  maxTokens: z.number().int().min(1).max(200_000).default(4_096),
});
export type ModelRequest = z.input<typeof ModelRequest>;

/** Tokens one call used, as the provider counted them. */
export const ModelUsage = z.object({
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  cacheReadTokens: z.number().int().min(0),
  cacheWriteTokens: z.number().int().min(0),
});
export type ModelUsage = z.infer<typeof ModelUsage>;

/** Why the model stopped: it finished, it wants tools run, or it hit the token limit. */
export const ModelStop = z.enum(["end", "tool_calls", "max_tokens"]);
export type ModelStop = z.infer<typeof ModelStop>;

/** The model's answer to one request. */
export interface ModelTurn {
  provider: ModelProviderKind;
  model: string;
  /** Text and tool calls, in the order the model gave them. */
  content: ModelContent[];
  stop: ModelStop;
  usage: ModelUsage;
}
