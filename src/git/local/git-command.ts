import { spawn } from "node:child_process";
import { AppError } from "../../contracts/index.js";

/** A git call that takes longer than this is killed (local operations on our own bare repositories). */
export const GIT_TIMEOUT_MS = 60_000;
/** Grace between SIGTERM and SIGKILL for a git call that overran. */
const KILL_GRACE_MS = 2_000;
/** Output kept per stream; a larger file read fails rather than filling memory. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** The outcome of one git call: exit code (`null` when killed), raw stdout and decoded stderr. */
export interface GitResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * The environment every git child gets: an allow-list. No user or system config is read (so a
 * developer's `~/.gitconfig` cannot change behaviour), no prompts, plain C messages.
 */
export function gitEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    LANG: "C",
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    ...extra,
  };
}

/**
 * Runs `git <args>` (an argument array, never a shell string) with a clean environment and a
 * deadline. Resolves with the exit code whatever it is; rejects only when git cannot be started.
 */
export function runGit(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<GitResult> {
  return new Promise<GitResult>((resolve, reject) => {
    const child = spawn("git", args, {
      cwd: opts.cwd ?? "/",
      env: gitEnv(opts.env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes <= MAX_OUTPUT_BYTES) out.push(chunk);
      else child.kill("SIGKILL");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      errBytes += chunk.length;
      if (errBytes <= 64 * 1024) err.push(chunk);
    });
    let killTimer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
    }, opts.timeoutMs ?? GIT_TIMEOUT_MS);
    child.on("error", (cause) => {
      clearTimeout(deadline);
      clearTimeout(killTimer);
      reject(new AppError("unavailable", "git_unavailable", "git could not be started", { cause }));
    });
    child.on("close", (code) => {
      clearTimeout(deadline);
      clearTimeout(killTimer);
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8") });
    });
  });
}

/** Runs git and returns stdout, or throws an `internal` AppError with the (bounded) stderr in details. */
export async function runGitOk(args: string[], opts: { cwd?: string } = {}): Promise<Buffer> {
  const result = await runGit(args, opts);
  if (result.code !== 0) {
    throw new AppError("internal", "git_failed", `git ${args[0] ?? ""} failed`, {
      details: [{ path: "", message: result.stderr.slice(-2000) }],
    });
  }
  return result.stdout;
}
