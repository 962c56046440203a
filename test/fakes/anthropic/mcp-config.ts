/**
 * An `--mcp-config` file for Claude Code that starts `report-mcp-server.ts` (server name
 * `orchestrator`, so its tool is `mcp__orchestrator__report`) under this Node with tsx, by absolute
 * paths, so it works from any working directory.
 */
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const SERVER_SCRIPT = fileURLToPath(new URL("./report-mcp-server.ts", import.meta.url));

/** Writes `<dir>/mcp.json` and returns its path; the tool appends its inputs to `reportFile`. */
export function writeReportMcpConfig(dir: string, reportFile: string): string {
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const config = {
    mcpServers: {
      orchestrator: {
        type: "stdio",
        command: process.execPath,
        args: ["--import", tsxLoader, SERVER_SCRIPT],
        env: { REPORT_FILE: reportFile },
      },
    },
  };
  const path = join(dir, "mcp.json");
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}
