/**
 * Stopping child processes the test services (sshd, dockerd) start: a polite signal, a deadline,
 * then a kill, so a hung service never hangs a suite.
 */
import type { ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";

/** Whether the child exited within `ms` (true at once when it already has). */
export function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      child.off("exit", onExit);
      resolve(false);
    }, ms);
    child.once("exit", onExit);
  });
}

/**
 * Stops a child: SIGTERM, up to `graceMs` for it to exit, else SIGKILL and up to `graceMs` again.
 * Returns at once for a child that already exited; resolves (never rejects) even if it lingers.
 */
export async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  if (await exited(child, graceMs)) return;
  child.kill("SIGKILL");
  await exited(child, graceMs);
}

/** Whether `pid` is gone, or a zombie nobody reaped (in a container PID 1 may not reap). */
export async function isGone(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}
