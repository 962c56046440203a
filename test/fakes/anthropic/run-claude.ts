/**
 * Runs one CLI invocation for tests and fixture recording: spawns an argument array (never a
 * shell) in its own process group with exactly the given environment, feeds stdin, collects
 * output, and on timeout kills the whole group. The result has the shape backends parse.
 */
import { spawn } from "node:child_process";
import type { AgentBackend, InvocationOutput, TurnRequest } from "../../../src/workers/index.js";
import { turnFactory } from "../../support/agent-backend-kit.js";

export interface RunSpec {
  argv: string[];
  /** The complete environment: nothing is inherited. */
  env: Record<string, string>;
  cwd: string;
  stdin?: string;
  timeoutMs: number;
  /** Run as this user and group (the caller must be root); for tests of unwritable HOME or /tmp. */
  uid?: number;
  gid?: number;
}

/** Runs `spec` to completion or timeout; never rejects for the child's own failures. */
export function runCommand(spec: RunSpec): Promise<InvocationOutput> {
  const started = Date.now();
  const [program, ...args] = spec.argv;
  if (!program) return Promise.reject(new Error("runCommand: empty argv"));
  return new Promise((resolve) => {
    const child = spawn(program, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
      ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let spawnError: Error | null = null;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.on("error", (error) => {
      spawnError = error;
    });
    child.stdin.on("error", () => {});
    child.stdin.end(spec.stdin ?? "");
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, spec.timeoutMs);
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      // Anything the CLI left behind in its group (MCP servers, shells) goes too.
      killGroup();
      const error = spawnError as Error | null;
      resolve({
        stdout,
        stderr: error ? `${stderr}${error.message}` : stderr,
        exitCode,
        signal,
        timedOut,
        durationMs: Date.now() - started,
      });
    });
  });
}

export interface ClaudeTurnContext {
  /** Base URL of the (fake) Anthropic API. */
  baseUrl: string;
  home: string;
  timeoutMs: number;
  apiKey?: string;
  /** Extra variables (e.g. a TMPDIR to break on purpose). */
  env?: Record<string, string>;
  uid?: number;
  gid?: number;
}

/**
 * Runs one backend turn the way a runtime would: the backend's argv and env on top of an
 * environment built from scratch (PATH, HOME, the API base URL and key), cwd = the workspace.
 */
export function runBackendTurn(
  backend: AgentBackend,
  turn: TurnRequest,
  ctx: ClaudeTurnContext,
): Promise<InvocationOutput> {
  const invocation = backend.invocation(turn);
  return runCommand({
    argv: invocation.argv,
    env: {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: ctx.home,
      ANTHROPIC_BASE_URL: ctx.baseUrl,
      ANTHROPIC_API_KEY: ctx.apiKey ?? "sk-ant-fake-test-key",
      ...invocation.env,
      ...ctx.env,
    },
    cwd: turn.workspace,
    ...(invocation.stdin !== undefined ? { stdin: invocation.stdin } : {}),
    timeoutMs: ctx.timeoutMs,
    ...(ctx.uid !== undefined ? { uid: ctx.uid } : {}),
    ...(ctx.gid !== undefined ? { gid: ctx.gid } : {}),
  });
}

const claudeTurn = turnFactory({ prompt: "Do the task.", maxTurns: 8, budgetUsd: 5 });

/** A turn with test defaults; override what a case is about. */
export function testTurn(workspace: string, overrides: Partial<TurnRequest> = {}): TurnRequest {
  return claudeTurn({ workspace, ...overrides });
}
