import { AppError } from "../contracts/index.js";
import type { Runtime, Sandbox } from "./runtime.js";

/**
 * Files the orchestrator keeps in a sandbox's HOME (`~/.orchestrator/`), written and read through
 * the runtime so the same code serves a local directory and a container. Mode 0600: they hold the
 * worker's own token and environment.
 */
const DIR = ".orchestrator";

// Constant scripts; the file name and content arrive as arguments and stdin, never spliced in.
const WRITE =
  'umask 077 && mkdir -p "$HOME/.orchestrator/bin" && cat > "$HOME/.orchestrator/$1" && chmod "$2" "$HOME/.orchestrator/$1"';
const READ = 'cat "$HOME/.orchestrator/$1" 2>/dev/null || true';
/** WRITE after writing a file whose content holds no secret ($3 name, $4 mode, $5 content). */
const WRITE_WITH_PLAIN =
  'umask 077 && mkdir -p "$HOME/.orchestrator/bin" && printf "%s" "$5" > "$HOME/.orchestrator/$3" && chmod "$4" "$HOME/.orchestrator/$3" && cat > "$HOME/.orchestrator/$1" && chmod "$2" "$HOME/.orchestrator/$1"';

/** A file of `~/.orchestrator/` to write: its name there, its content and its mode (octal). */
export interface SandboxFile {
  name: string;
  content: string;
  mode: string;
}

/**
 * Writes two files with one command in the sandbox: `file` (which may hold a secret) through stdin
 * as `writeSandboxFile` does, and `plain`, whose content is no secret, as an argument (command lines
 * are visible to other processes, so nothing secret may ever go there).
 */
export async function writeSandboxFiles(
  runtime: Runtime,
  sandbox: Sandbox,
  env: Record<string, string>,
  file: SandboxFile,
  plain: SandboxFile,
): Promise<void> {
  await writeThrough(
    runtime,
    sandbox,
    env,
    ["sh", "-c", WRITE_WITH_PLAIN, "write", file.name, file.mode, plain.name, plain.mode, plain.content],
    file.content,
    `${DIR}/${file.name} and ~/${DIR}/${plain.name}`,
  );
}

export async function writeSandboxFile(
  runtime: Runtime,
  sandbox: Sandbox,
  env: Record<string, string>,
  name: string,
  content: string,
  mode = "600",
): Promise<string> {
  await writeThrough(
    runtime,
    sandbox,
    env,
    ["sh", "-c", WRITE, "write", name, mode],
    content,
    `${DIR}/${name}`,
  );
  return `${sandbox.home}/${DIR}/${name}`;
}

/** Runs a constant write script with the content on stdin; a failure names the file, never the content. */
async function writeThrough(
  runtime: Runtime,
  sandbox: Sandbox,
  env: Record<string, string>,
  argv: string[],
  content: string,
  shown: string,
): Promise<void> {
  const result = await runtime.exec(sandbox, { argv, env, stdin: content, timeoutMs: 30_000 });
  if (result.exitCode !== 0) {
    throw new AppError(
      "unavailable",
      "sandbox_write_failed",
      `could not write ~/${shown} in the sandbox: ${result.stderr.trim().slice(0, 300)}`,
    );
  }
}

export async function readSandboxFile(
  runtime: Runtime,
  sandbox: Sandbox,
  env: Record<string, string>,
  name: string,
): Promise<string> {
  const result = await runtime.exec(sandbox, {
    argv: ["sh", "-c", READ, "read", name],
    env,
    timeoutMs: 30_000,
  });
  return result.exitCode === 0 ? result.stdout : "";
}

export function sandboxFilePath(sandbox: Sandbox, name: string): string {
  return `${sandbox.home}/${DIR}/${name}`;
}

/** Agent CLIs' own configuration files the orchestrator writes under HOME (fixed names only). */
export const HOME_CONFIG_FILES = [".factory/settings.json"] as const;
const WRITE_HOME = 'umask 077 && mkdir -p "$(dirname "$HOME/$1")" && cat > "$HOME/$1"';

/** Writes one of `HOME_CONFIG_FILES` (mode 0600) through the runtime. */
export async function writeHomeConfig(
  runtime: Runtime,
  sandbox: Sandbox,
  env: Record<string, string>,
  name: (typeof HOME_CONFIG_FILES)[number],
  content: string,
): Promise<void> {
  await writeThrough(runtime, sandbox, env, ["sh", "-c", WRITE_HOME, "write", name], content, name);
}
