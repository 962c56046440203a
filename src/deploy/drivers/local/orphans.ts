import { readlink } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "../../../contracts/index.js";
import { signalGroup } from "./child-command.js";

const POLL_MS = 100;
/** How long a SIGKILLed process may take to disappear. */
const KILL_WAIT_MS = 5_000;

/**
 * Whether `pid` is a live process working inside `releasesDir`: the check that a pid recorded by an
 * orchestrator that died is still its release (and not a recycled pid). Linux `/proc`; elsewhere
 * it says no, and a leftover process would have to be ended by hand.
 */
export async function isReleaseProcess(pid: number, releasesDir: string): Promise<boolean> {
  try {
    const cwd = await readlink(`/proc/${pid}/cwd`);
    return cwd.startsWith(`${releasesDir}/`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ESRCH" || code === "EACCES" || code === "EPERM") return false;
    throw error;
  }
}

/**
 * Ends the process group a dead orchestrator left running (its supervised children live on in
 * their own groups): SIGTERM, SIGKILL after `graceMs`. True when there was one.
 */
export async function endLeftover(pid: number, releasesDir: string, graceMs: number): Promise<boolean> {
  if (!(await isReleaseProcess(pid, releasesDir))) return false;
  signalGroup(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!(await isReleaseProcess(pid, releasesDir))) return true;
    await sleep(POLL_MS);
  }
  signalGroup(pid, "SIGKILL");
  const killDeadline = Date.now() + KILL_WAIT_MS;
  while (await isReleaseProcess(pid, releasesDir)) {
    if (Date.now() > killDeadline) {
      throw new AppError("unavailable", "leftover_process", `process ${pid} survived SIGKILL`, {
        details: [{ path: "pid", message: "a process of an earlier orchestrator still holds the release" }],
      });
    }
    await sleep(POLL_MS);
  }
  return true;
}
