import { createHash, randomBytes } from "node:crypto";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { PoToolbox } from "./toolbox.js";

/** Where a CLI Product Owner reaches its tools: the API's MCP endpoint (Streamable HTTP). */
export const PO_MCP_PATH = "/api/po/mcp";

/** Something the MCP endpoint answers: status, content type and body. */
export interface McpAnswer {
  status: number;
  contentType: string | null;
  body: string;
}

const digest = (secret: string) => createHash("sha256").update(secret).digest("hex");

/**
 * The PO turns running in a CLI agent right now, each behind a secret of its own that lives only
 * as long as the turn (in its MCP config file, never in a command line or the store). A call with
 * a turn's secret reaches that turn's tools, as that turn's person; any other is refused.
 */
export class PoTurns {
  private readonly open = new Map<string, PoToolbox>();

  /** Opens a turn: the returned secret reaches `toolbox` until `close` is called. */
  begin(toolbox: PoToolbox): { secret: string; close: () => void } {
    const secret = `po_${randomBytes(32).toString("base64url")}`;
    const key = digest(secret);
    this.open.set(key, toolbox);
    return { secret, close: () => this.open.delete(key) };
  }

  /** The turn a bearer secret belongs to, or null. */
  find(secret: string): PoToolbox | null {
    // Looked up by a hash: how long a lookup takes says nothing about the secrets held.
    return this.open.get(digest(secret)) ?? null;
  }

  /** How many turns are open (a finished turn must leave none behind). */
  get size(): number {
    return this.open.size;
  }

  /**
   * Answers one MCP request (JSON-RPC over Streamable HTTP, stateless, JSON answers) for the turn
   * of `toolbox`: its tools by the names and schemas the in-process PO's model sees.
   */
  async answer(toolbox: PoToolbox, request: Request, parsedBody: unknown): Promise<McpAnswer> {
    const server = new Server({ name: "orchestrator", version: "1" }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: toolbox.modelTools().map((tool) => ({
        name: tool.name,
        description: tool.description,
        inputSchema: { ...tool.inputSchema, type: "object" as const },
      })),
    }));
    server.setRequestHandler(CallToolRequestSchema, async (call) => {
      const answer = await toolbox.call(call.params.name, call.params.arguments ?? {});
      const content = answer.ends ? `${answer.content}. Your turn is over: stop here.` : answer.content;
      return { content: [{ type: "text" as const, text: content }], isError: answer.isError };
    });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    try {
      const response = await transport.handleRequest(request, { parsedBody });
      return {
        status: response.status,
        contentType: response.headers.get("content-type"),
        body: await response.text(),
      };
    } finally {
      await server.close();
    }
  }
}
