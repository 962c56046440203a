import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { AppError } from "../contracts/index.js";
import { type AnyToolDef, externalToolName } from "./tool.js";

/** Runs a tool somewhere (usually the API, where the caller's token is checked). */
export type ToolCaller = (toolName: string, input: unknown) => Promise<unknown>;

/**
 * An MCP server exposing `tools` to a CLI agent. Calls go through `call`, so permissions are
 * enforced by whoever runs the tool, not by what this server chooses to list.
 */
export function createMcpServer(opts: {
  tools: readonly AnyToolDef[];
  call: ToolCaller;
  version: string;
}): McpServer {
  const server = new McpServer({ name: "orchestrator", version: opts.version });
  for (const tool of opts.tools) {
    server.registerTool(
      externalToolName(tool.name),
      { description: tool.summary, inputSchema: tool.input },
      async (input: unknown) => {
        try {
          const data = await opts.call(tool.name, input);
          return { content: [{ type: "text" as const, text: JSON.stringify({ ok: true, data }) }] };
        } catch (error) {
          const body =
            error instanceof AppError
              ? error.toBody()
              : {
                  code: "internal",
                  message: error instanceof Error ? error.message : String(error),
                  details: [],
                };
          return {
            isError: true,
            content: [{ type: "text" as const, text: JSON.stringify({ ok: false, error: body }) }],
          };
        }
      },
    );
  }
  return server;
}
