/**
 * A tiny stdio MCP server for tests: one tool, `report`, that appends its input as one JSON line
 * to the file named by `REPORT_FILE`. Claude Code sees it as `mcp__<server name>__report`, so a
 * scripted tool call proves the CLI really reached an MCP tool through `--mcp-config`.
 *
 * Run with `node --import tsx test/fakes/anthropic/report-mcp-server.ts`.
 */
import { appendFileSync } from "node:fs";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const file = process.env.REPORT_FILE;
if (!file) {
  process.stderr.write("report-mcp-server: REPORT_FILE is not set\n");
  process.exit(2);
}

const server = new McpServer({ name: "orchestrator", version: "0.0.0-test" });
server.registerTool(
  "report",
  {
    description: "Final report of a worker: status, summary, optional question and commit.",
    inputSchema: {
      status: z.enum(["complete", "blocked", "failed"]),
      summary: z.string(),
      question: z.string().nullable().optional(),
      commit: z.string().nullable().optional(),
    },
  },
  async (input) => {
    appendFileSync(file, `${JSON.stringify(input)}\n`);
    return { content: [{ type: "text" as const, text: JSON.stringify({ ok: true }) }] };
  },
);
await server.connect(new StdioServerTransport());
