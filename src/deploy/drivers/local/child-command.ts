import { spawn } from "node:child_process";
import type { Argv } from "../../../contracts/index.js";

/** Grace between SIGTERM and SIGKILL when a command or a service is stopped. */
export const STOP_GRACE_MS = 10_000;
/** Output kept from a build command for the error a failed build reports. */
const OUTPUT_TAIL_CHARS = 8_000;

/**
 * Variables a build command inherits from the orchestrator (an allow-list): locale, CA certificates
 * and proxies, so the package manager reaches its registry; nothing else of ours leaks in.
 */
const BUILD_PASSED_ENV = [
  "LANG",
  "LC_ALL",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "npm_config_registry",
  "NPM_CONFIG_REGISTRY",
] as const;

/** The orchestrator's PATH, the one variable every child gets from us. */
export function hostPath(): string {
  return process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin";
}

/** The environment of install and build commands: PATH, HOME (a per-project cache) and the allow-list. */
export function buildEnv(home: string): Record<string, string> {
  const env: Record<string, string> = { PATH: hostPath(), HOME: home, LANG: "C.UTF-8" };
  for (const key of BUILD_PASSED_ENV) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/**
 * Sends `signal` to the process group led by `pid` (every child runs as a group leader, so its own
 * children go too). False when the group is already gone.
 */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}

/** How one command ended: its exit code (null when killed or not started) and its output's tail. */
export interface CommandResult {
  code: number | null;
  isTimedOut: boolean;
  /** Set when the program could not be started at all (e.g. not installed). */
  startError: string | null;
  outputTail: string;
}

/**
 * Runs `argv` to completion in its own process group with exactly `env`, killing the group at the
 * deadline or on `signal` (SIGTERM, then SIGKILL after the grace). Whatever the group left behind
 * when its leader exits is killed too, so a build cannot leave daemons holding ports or pipes.
 */
export function runCommand(
  argv: Argv,
  opts: { cwd: string; env: Record<string, string>; timeoutMs: number; signal?: AbortSignal },
): Promise<CommandResult> {
  const [program, ...args] = argv;
  return new Promise<CommandResult>((resolve) => {
    let tail = "";
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
    };
    const child = spawn(program as string, args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let isTimedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const kill = () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(child.pid, "SIGTERM");
      killTimer = setTimeout(() => {
        if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
      }, STOP_GRACE_MS);
    };
    const deadline = setTimeout(() => {
      isTimedOut = true;
      kill();
    }, opts.timeoutMs);
    opts.signal?.addEventListener("abort", kill, { once: true });
    const finish = (code: number | null, startError: string | null) => {
      clearTimeout(deadline);
      clearTimeout(killTimer);
      opts.signal?.removeEventListener("abort", kill);
      resolve({ code, isTimedOut, startError, outputTail: tail });
    };
    child.once("error", (error) => finish(null, error.message));
    child.once("exit", () => {
      if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
    });
    child.once("close", (code) => finish(code, null));
    if (opts.signal?.aborted) kill();
  });
}
