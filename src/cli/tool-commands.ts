import type { Command } from "commander";
import { AppError, parseOrThrow } from "../contracts/index.js";
import {
  type AnyToolDef,
  cliFlags,
  commandWords,
  inputFromFlags,
  type ToolRegistry,
} from "../tools/index.js";
import { ApiClient, clientSettings } from "./api-client.js";
import { printOk } from "./output.js";

/**
 * Adds one command per registered tool (`project.create` -> `orchestrator project create`), with
 * flags derived from the tool's input schema. Input is validated here for a quick, precise error,
 * and again by the API, which also checks the token's permissions.
 */
export function addToolCommands(program: Command, registry: ToolRegistry): void {
  const groups = new Map<string, Command>();
  for (const tool of registry.list()) {
    const [noun, ...rest] = commandWords(tool);
    if (!noun) continue;
    let command: Command;
    if (rest.length === 0) {
      command = program.command(noun).description(tool.summary);
    } else {
      let parent = groups.get(noun);
      if (!parent) {
        parent = program.command(noun).description(`${noun} tools`);
        groups.set(noun, parent);
      }
      command = parent.command(rest.join("-")).description(tool.summary);
    }
    for (const flag of cliFlags(tool)) {
      const valueName = flag.types.filter((t) => t !== "null").join("|");
      command.option(
        flag.isBoolean ? flag.flag : `${flag.flag} <${valueName}>`,
        flag.description || flag.field,
      );
    }
    command.action(async (options: Record<string, string | boolean>) => runTool(tool, options));
  }
}

async function runTool(tool: AnyToolDef, options: Record<string, string | boolean>): Promise<void> {
  const input = inputFromFlags(tool, options);
  if (tool.secretField) input[tool.secretField] = await secretFromStdin(tool.secretField);
  parseOrThrow(tool.input, input, `input of ${tool.name}`);
  const client = new ApiClient(clientSettings(process.env));
  printOk(await client.callTool(tool.name, input));
}

/** Reads a secret value from stdin (one trailing newline dropped); a terminal or empty input is refused. */
export async function secretFromStdin(
  field: string,
  hint = "pipe it in, e.g. orchestrator secret set ... < token.txt",
): Promise<string> {
  if (process.stdin.isTTY) {
    throw new AppError("invalid", "invalid_input", `${field} is read from stdin`, {
      details: [{ path: field, message: hint }],
    });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const value = Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
  if (!value) {
    throw new AppError("invalid", "invalid_input", `no ${field} on stdin`, {
      details: [{ path: field, message: "required on stdin" }],
    });
  }
  return value;
}
