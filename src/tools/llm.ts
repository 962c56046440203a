import { inputJsonSchema } from "./json-schema.js";
import { type AnyToolDef, externalToolName } from "./tool.js";

/** A tool as model APIs take it (Anthropic `input_schema`; OpenAI wraps it as `parameters`). */
export interface LlmToolDefinition {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
}

export function toLlmToolDefinitions(tools: readonly AnyToolDef[]): LlmToolDefinition[] {
  return tools.map((tool) => ({
    name: externalToolName(tool.name),
    description: tool.summary,
    input_schema: inputJsonSchema(tool),
  }));
}
