import type { ExecResult } from "../runtime.js";
import { runChild } from "./process-exec.js";
import { collectTree, listProcesses, signalEach, signalGroup } from "./process-tree.js";

export interface RunCommandOptions {
  cwd: string;
  /** Exactly the environment the command gets. */
  env: Record<string, string>;
  stdin: string;
  timeoutMs: number;
  /** After SIGTERM on timeout, how long before SIGKILL (default 2 s). */
  killGraceMs?: number;
  /** An abort kills the command and everything it started at once. */
  signal?: AbortSignal;
  /** A kill that could not be sent. */
  onError(error: unknown): void;
}

/**
 * Runs one command on this host, outside any sandbox (for a command with nothing to contain), the
 * way the process runtime runs an exec: its own process group, bounded output, and nothing it
 * started left running after a timeout, an abort or its own exit.
 */
export function runCommand(argv: readonly string[], opts: RunCommandOptions): Promise<ExecResult> {
  const [command, ...args] = argv;
  if (!command) throw new Error("runCommand: empty command line");
  let kill: (() => void) | null = null;
  return runChild({
    command,
    args,
    env: opts.env,
    cwd: opts.cwd,
    stdin: opts.stdin,
    timeoutMs: opts.timeoutMs,
    killGraceMs: opts.killGraceMs ?? 2_000,
    onSpawn: (pid) => {
      kill = () => signalGroup(pid, "SIGKILL");
      // A cancel that came while the command was being set up stops it at once.
      if (opts.signal?.aborted) kill();
      else opts.signal?.addEventListener("abort", kill, { once: true });
    },
    onDone: () => {
      if (kill) opts.signal?.removeEventListener("abort", kill);
    },
    signalTree: async (pid, signal) => signalEach(collectTree([pid], await listProcesses()), signal),
    signalGroup: (pid, signal) => signalGroup(pid, signal),
    onError: opts.onError,
  });
}
