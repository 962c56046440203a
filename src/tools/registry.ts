import { AppError, type Principal, parseOrThrow } from "../contracts/index.js";
import { assertMayCall, mayCall } from "./permissions.js";
import { type AnyToolDef, externalToolName, type ToolContext } from "./tool.js";

/**
 * The one list of orchestrator tools. `invoke` is the only way a tool runs: it looks the tool up,
 * checks the caller's permission, validates the input and the handler's output.
 */
export class ToolRegistry {
  private readonly tools = new Map<string, AnyToolDef>();

  constructor(tools: readonly AnyToolDef[] = []) {
    for (const tool of tools) this.register(tool);
  }

  register(tool: AnyToolDef): void {
    if (this.tools.has(tool.name)) throw new Error(`tool ${tool.name} registered twice`);
    this.tools.set(tool.name, tool);
  }

  list(): AnyToolDef[] {
    return [...this.tools.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The tools `principal` may call. */
  listFor(principal: Principal): AnyToolDef[] {
    return this.list().filter((tool) => mayCall(principal, tool));
  }

  /** Looks up by `project.create` or its external form `project_create`. */
  find(name: string): AnyToolDef | undefined {
    return this.tools.get(name) ?? this.list().find((tool) => externalToolName(tool.name) === name);
  }

  get(name: string): AnyToolDef {
    const tool = this.find(name);
    if (!tool) {
      throw new AppError("not_found", "unknown_tool", `no tool named ${name}`, {
        details: [
          {
            path: "tool",
            message: `known tools: ${this.list()
              .map((t) => t.name)
              .join(", ")}`,
          },
        ],
      });
    }
    return tool;
  }

  async invoke(name: string, rawInput: unknown, ctx: ToolContext): Promise<unknown> {
    const tool = this.get(name);
    assertMayCall(ctx.principal, tool);
    const input = parseOrThrow(tool.input, rawInput ?? {}, `input of ${tool.name}`);
    const output = await tool.handler(input, ctx);
    const checked = tool.output.safeParse(output);
    if (!checked.success) {
      throw new AppError("internal", "bad_tool_output", `${tool.name} produced output outside its contract`, {
        cause: checked.error,
      });
    }
    return checked.data;
  }
}
