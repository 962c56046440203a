import { execFile } from "node:child_process";
import { AppError } from "../contracts/index.js";

/** Variables passed through to git from the parent; everything else is left out (allow-list). */
const PASSED_ENV = ["PATH", "LANG", "LC_ALL", "TZ"] as const;

/** Bound on one git command, so a hung remote cannot hold a render forever. */
export const GIT_TIMEOUT_MS = 120_000;

/**
 * Runs `git` with an argument array and an allow-listed environment: no prompts, no user or system
 * config, only the transports templates may use. Returns trimmed stdout; a failure is an
 * `unavailable` AppError carrying git's stderr tail (which never holds a secret we passed).
 */
export function git(args: string[], options: { cwd?: string; home: string }): Promise<string> {
  const env: Record<string, string> = {
    HOME: options.home,
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_ALLOW_PROTOCOL: "https:http:ssh:file",
  };
  for (const key of PASSED_ENV) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      { cwd: options.cwd, env, timeout: GIT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout.trim());
        const tail = stderr.trim().split("\n").slice(-5).join("\n");
        reject(
          new AppError("unavailable", "git_failed", `git ${args[0] ?? ""} failed: ${tail || error.message}`, {
            cause: error,
          }),
        );
      },
    );
  });
}
