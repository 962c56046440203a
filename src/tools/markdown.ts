import { cliFlags, commandWords } from "./cli-flags.js";
import type { AnyToolDef } from "./tool.js";

/**
 * The tool reference written into agents' instruction files (AGENTS.md). Generated from the
 * registry, so it always shows the real CLI syntax.
 */
export function renderToolReference(tools: readonly AnyToolDef[]): string {
  const lines = [
    "## Orchestrator tools",
    "",
    'Call these with the `orchestrator` CLI (output is JSON: `{"ok":true,"data":...}` or',
    '`{"ok":false,"error":{...}}`), or as MCP tools of the `orchestrator` server (name with `_`).',
    "",
  ];
  for (const tool of tools) {
    const flags = cliFlags(tool);
    const usage = flags.map((f) => {
      const value = f.isBoolean ? "" : ` <${f.types.filter((t) => t !== "null").join("|")}>`;
      return f.required ? `${f.flag}${value}` : `[${f.flag}${value}]`;
    });
    lines.push(
      `### \`${tool.name}\``,
      "",
      tool.summary,
      "",
      "```",
      [
        "orchestrator",
        ...commandWords(tool),
        ...usage,
        ...(tool.secretField ? [`< file-holding-the-${tool.secretField}`] : []),
      ].join(" "),
      "```",
      "",
    );
    for (const f of flags) {
      lines.push(
        `- \`${f.flag}\`${f.required ? " (required)" : ""}${f.description ? `: ${f.description}` : ""}`,
      );
    }
    if (flags.length > 0) lines.push("");
  }
  return lines.join("\n");
}
