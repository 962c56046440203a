import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCommand } from "./run-command.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "run-command-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", GREETING: "hello" };
const errors: unknown[] = [];
const opts = (more: { timeoutMs?: number; signal?: AbortSignal } = {}) => ({
  cwd: dir,
  env,
  stdin: "from stdin",
  timeoutMs: more.timeoutMs ?? 60_000,
  killGraceMs: 200,
  onError: (error: unknown) => errors.push(error),
  ...(more.signal ? { signal: more.signal } : {}),
});

/** Whether a process is gone (or only a zombie waiting to be reaped). */
async function gone(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Waits until the command has written its background child's pid. */
async function childPid(): Promise<number> {
  for (;;) {
    const text = await readFile(join(dir, "child.pid"), "utf8").catch(() => "");
    if (/^\d+\n$/.test(text)) return Number(text.trim());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const SLEEPER = ["sh", "-c", "sleep 30 & echo $! > child.pid; wait"];

describe("runCommand", () => {
  it("gives the command exactly its environment and input, and answers its output and exit code", async () => {
    const result = await runCommand(["sh", "-c", 'echo "$GREETING $HOME"; cat; exit 3'], opts());
    expect(result).toMatchObject({ exitCode: 3, stdout: "hello \nfrom stdin", timedOut: false });
  });

  it("kills the command and what it started at once when aborted", { timeout: 20_000 }, async () => {
    const abort = new AbortController();
    const running = runCommand(SLEEPER, opts({ signal: abort.signal }));
    const child = await childPid();
    abort.abort();
    const result = await running;
    expect(result).toMatchObject({ signal: "SIGKILL", timedOut: false });
    expect(await gone(child)).toBe(true);
  });

  it("stops at once a command whose turn was cancelled before it ran", { timeout: 20_000 }, async () => {
    const abort = new AbortController();
    abort.abort();
    const result = await runCommand(SLEEPER, opts({ signal: abort.signal }));
    expect(result.signal).toBe("SIGKILL");
  });

  it("stops a command that outlives its deadline, children included, and says it timed out", {
    timeout: 20_000,
  }, async () => {
    const running = runCommand(SLEEPER, opts({ timeoutMs: 500 }));
    const child = await childPid();
    const result = await running;
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).not.toBe(0);
    expect(await gone(child)).toBe(true);
    expect(errors).toEqual([]);
  });
});
