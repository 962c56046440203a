import { z } from "zod";
import { type ModelTool, type Principal, Run } from "../contracts/index.js";
import { type AnyToolDef, externalToolName, inputJsonSchema, type ToolRegistry } from "../tools/index.js";

/** The registry tools the Product Owner works with, when its principal may call them. */
export const PO_TOOL_NAMES = [
  "project.create",
  "project.list",
  "project.get",
  "project.status",
  "project.incidents",
  "engineering.start",
  "engineering.status",
  "engineering.answer",
  "deploy.start",
  "deploy.status",
  "deploy.rollback",
  "project.teardown",
  "project.secrets",
  "secret.request",
  "pool.take",
] as const;

/** Tools whose answer is a run the person should hear about: it is tied to their conversation. */
export const RUN_STARTING_TOOLS: readonly string[] = [
  "engineering.start",
  "engineering.answer",
  "deploy.start",
  "deploy.rollback",
  "project.teardown",
];

/**
 * Tools that build, deploy or give secrets to the project they name: what the chat holds for the
 * person goes to it first.
 */
export const PROJECT_WORK_TOOLS: readonly string[] = [
  "engineering.start",
  "deploy.start",
  "secret.request",
  "pool.take",
];

/** The tool that asks the person for secrets: the chat then waits for their values. */
export const SECRET_REQUEST_TOOL = "secret.request";

const SecretRequestAnswer = z.object({ projectId: z.string(), missing: z.array(z.string()) });

/** What `secret.request` answered: the project and the names still missing. */
export function parseSecretRequest(output: unknown): { projectId: string; missing: string[] } | null {
  const parsed = SecretRequestAnswer.safeParse(output);
  return parsed.success ? parsed.data : null;
}

/** The PO's own tools: they end its turn with words for the person. */
export const ASK_TOOL = "ask";
export const RESPOND_TOOL = "respond";

const AskInput = z.object({
  question: z.string().trim().min(1).max(2000).describe("one product question for the person"),
});
const RespondInput = z.object({
  text: z.string().trim().min(1).max(8000).describe("what to tell the person"),
});

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema) as Record<string, unknown>;
  return rest;
}

export function parseAsk(input: unknown) {
  return AskInput.safeParse(input);
}

export function parseRespond(input: unknown) {
  return RespondInput.safeParse(input);
}

export function startedRun(toolName: string, output: unknown): Run | null {
  if (!RUN_STARTING_TOOLS.includes(toolName)) return null;
  const parsed = Run.safeParse(output);
  return parsed.success ? parsed.data : null;
}

/** The registry tools offered to the model for `principal`, by their provider-safe names. */
export function poRegistryTools(registry: ToolRegistry, principal: Principal): AnyToolDef[] {
  const allowed = new Set(registry.listFor(principal).map((t) => t.name));
  return PO_TOOL_NAMES.filter((name) => allowed.has(name)).map((name) => registry.get(name));
}

// A tool definition never changes: its schema, as the model sees it, is worked out once.
const modelToolOf = new WeakMap<AnyToolDef, ModelTool>();
const OWN_TOOLS: readonly ModelTool[] = [
  {
    name: ASK_TOOL,
    description: "Ask the person one product question (at most two before a build starts). Ends your turn.",
    inputSchema: jsonSchema(AskInput),
  },
  {
    name: RESPOND_TOOL,
    description: "Tell the person something (in their language). Ends your turn.",
    inputSchema: jsonSchema(RespondInput),
  },
];

/** Everything the model sees as tools: the registry's (as `project_create`) and ask/respond. */
export function modelToolsFor(tools: readonly AnyToolDef[]): ModelTool[] {
  return [
    ...tools.map((tool) => {
      let known = modelToolOf.get(tool);
      if (!known) {
        known = {
          name: externalToolName(tool.name),
          description: tool.summary,
          inputSchema: leanSchema(inputJsonSchema(tool)),
        };
        modelToolOf.set(tool, known);
      }
      return known;
    }),
    ...OWN_TOOLS,
  ];
}

/**
 * A tool's input schema as sent with every model call, without what only repeats itself: the
 * regular expression zod writes beside `format: "uuid"`, and a `maximum` that is just the largest
 * safe integer. The registry still checks every input against the full schema.
 */
function leanSchema(node: unknown): Record<string, unknown> {
  return lean(node) as Record<string, unknown>;
}

function lean(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(lean);
  if (typeof node !== "object" || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "pattern" && (node as { format?: unknown }).format === "uuid") continue;
    if (key === "maximum" && value === Number.MAX_SAFE_INTEGER) continue;
    out[key] = lean(value);
  }
  return out;
}
