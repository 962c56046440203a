import { access, mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SandboxLimits } from "../runtime.js";
import { signalEach } from "./process-tree.js";

const FREEZE_WAIT_MS = 5_000;
const REMOVE_WAIT_MS = 5_000;
const POLL_MS = 20;

/**
 * One cgroup v2 group per sandbox under `<mount>/orchestrator/<workerId>`: the exact set of the
 * sandbox's processes, whatever they fork or however they detach. It gives the process runtime a
 * real freeze (`cgroup.freeze`), CPU time that includes exited processes (`cpu.stat`) and a
 * race-free kill (`cgroup.kill`). Only used when the hierarchy is writable (see `detect`).
 */
export class CgroupV2 {
  private constructor(readonly base: string) {}

  /**
   * Finds a writable cgroup v2 hierarchy (`/sys/fs/cgroup` when it is v2, else any cgroup2 mount,
   * e.g. the `unified` one of a hybrid host) where a child group with `cgroup.freeze` can be made.
   * Null when there is none: the runtime then falls back to signals.
   */
  static async detect(): Promise<CgroupV2 | null> {
    const mounts = await readFile("/proc/self/mounts", "utf8").catch(() => "");
    const points = mounts
      .split("\n")
      .map((line) => line.split(" "))
      .filter((f) => f[2] === "cgroup2" && f[1])
      .map((f) => f[1] as string)
      .sort((a, b) => (a === "/sys/fs/cgroup" ? -1 : b === "/sys/fs/cgroup" ? 1 : 0));
    for (const point of points) {
      const base = join(point, "orchestrator");
      const probe = join(base, `probe-${process.pid}-${Date.now()}`);
      try {
        await access(join(point, "cgroup.controllers"));
        await mkdir(probe, { recursive: true });
        try {
          await access(join(probe, "cgroup.freeze"));
          await access(join(probe, "cpu.stat"));
        } finally {
          await rmdir(probe).catch(() => {});
        }
        // Best effort: lets limits apply where the parent delegates these controllers.
        for (const controller of ["+cpu", "+memory", "+pids"]) {
          await writeFile(join(base, "cgroup.subtree_control"), controller).catch(() => {});
        }
        return new CgroupV2(base);
      } catch {
        // Not writable here: try the next mount.
      }
    }
    return null;
  }

  /** The group directory of one sandbox. */
  path(workerId: string): string {
    return join(this.base, workerId);
  }

  /** The file a process writes its pid into to join the sandbox's group. */
  procsFile(workerId: string): string {
    return join(this.path(workerId), "cgroup.procs");
  }

  /** Creates the sandbox's group (idempotent) and applies the limits its controllers allow. */
  async ensure(workerId: string, limits?: SandboxLimits): Promise<void> {
    const dir = this.path(workerId);
    await mkdir(dir, { recursive: true });
    if (!limits) return;
    const settings: [string, string][] = [
      ["pids.max", String(limits.pids)],
      ["memory.max", String(limits.memoryMb * 1024 * 1024)],
      ["cpu.max", `${Math.max(1000, Math.round(limits.cpus * 100_000))} 100000`],
    ];
    for (const [file, value] of settings) {
      // The file exists only when the controller is enabled for our subtree.
      await writeFile(join(dir, file), value).catch(() => {});
    }
  }

  /** True when the sandbox's group exists. */
  async exists(workerId: string): Promise<boolean> {
    return access(this.path(workerId)).then(
      () => true,
      () => false,
    );
  }

  /** Pids currently in the sandbox's group (empty when the group is gone). */
  async pids(workerId: string): Promise<number[]> {
    const text = await readFile(this.procsFile(workerId), "utf8").catch(() => "");
    return text
      .split("\n")
      .filter(Boolean)
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0);
  }

  /** Freezes or thaws the group and waits until the kernel reports it done. */
  async setFrozen(workerId: string, frozen: boolean): Promise<void> {
    const dir = this.path(workerId);
    if (!(await this.exists(workerId))) return;
    await writeFile(join(dir, "cgroup.freeze"), frozen ? "1" : "0");
    const want = `frozen ${frozen ? 1 : 0}`;
    const deadline = Date.now() + FREEZE_WAIT_MS;
    while (Date.now() < deadline) {
      const events = await readFile(join(dir, "cgroup.events"), "utf8").catch(() => want);
      if (events.split("\n").includes(want)) return;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** CPU time of every process that ever ran in the group, in milliseconds. */
  async cpuTimeMs(workerId: string): Promise<number> {
    const text = await readFile(join(this.path(workerId), "cpu.stat"), "utf8").catch(() => "");
    const line = text.split("\n").find((l) => l.startsWith("usage_usec "));
    return line ? Math.floor(Number(line.split(" ")[1]) / 1000) : 0;
  }

  /** Kills every process in the group (`cgroup.kill`, or SIGKILL to each pid on older kernels). */
  async kill(workerId: string): Promise<void> {
    if (!(await this.exists(workerId))) return;
    const killed = await writeFile(join(this.path(workerId), "cgroup.kill"), "1").then(
      () => true,
      () => false,
    );
    if (!killed) signalEach(await this.pids(workerId), "SIGKILL");
  }

  /** Kills what is left and removes the group, waiting for its processes to be gone. Idempotent. */
  async remove(workerId: string): Promise<void> {
    const deadline = Date.now() + REMOVE_WAIT_MS;
    for (;;) {
      if (!(await this.exists(workerId))) return;
      await this.setFrozen(workerId, false).catch(() => {});
      await this.kill(workerId);
      try {
        await rmdir(this.path(workerId));
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return;
        if (Date.now() >= deadline) throw error;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    }
  }
}
