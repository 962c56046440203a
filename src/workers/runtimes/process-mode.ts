import { access, mkdir } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { AppError } from "../../contracts/index.js";
import { CgroupV2 } from "./cgroup-v2.js";
import { findBwrap, type HostLayout, probeBwrap, scanHostLayout } from "./process-bwrap.js";

/** How a `ProcessRuntime` isolates commands on this host, decided once per instance. */
export interface ProcessMode {
  /** Bubblewrap's view of the host; null when commands run directly on the host. */
  layout: HostLayout | null;
  /** The cgroup v2 hierarchy holding one group per sandbox; null when signals must do. */
  cgroup: CgroupV2 | null;
  /** The host paths (existing, absolute) shown read-only inside bubblewrap. */
  bindReadOnly: string[];
}

/**
 * Detects bubblewrap and a writable cgroup v2 hierarchy. `true` for either option makes its absence
 * an `unavailable` error; unset uses it when it works here and warns when it does not. Creates
 * `root` on the way.
 */
export async function detectProcessMode(opts: {
  root: string;
  useBubblewrap?: boolean;
  useCgroup?: boolean;
  bindReadOnly?: string[];
  logger?: { warn(obj: object, msg: string): void };
}): Promise<ProcessMode> {
  const { useBubblewrap, useCgroup, logger } = opts;
  let layout: HostLayout | null = null;
  if (useBubblewrap !== false) {
    const bwrap = await findBwrap();
    const refusal = bwrap ? await probeBwrap(bwrap) : "bwrap is not installed";
    if (bwrap && refusal === null) layout = await scanHostLayout(bwrap);
    else if (useBubblewrap === true) {
      throw new AppError(
        "unavailable",
        "bubblewrap_unavailable",
        `bubblewrap cannot create a sandbox here: ${refusal}`,
      );
    } else {
      logger?.warn({ reason: refusal }, "bubblewrap cannot create a sandbox here");
    }
  }
  if (!layout) {
    logger?.warn(
      { root: opts.root },
      "bubblewrap is not in use: worker commands run directly on the host, isolated only by their environment",
    );
  }
  const cgroup = useCgroup === false ? null : await CgroupV2.detect();
  if (!cgroup && useCgroup === true) {
    throw new AppError("unavailable", "cgroup_unavailable", "no writable cgroup v2 hierarchy here");
  }
  const bindReadOnly: string[] = [];
  for (const path of opts.bindReadOnly ?? []) {
    if (isAbsolute(path) && (await pathExists(path))) bindReadOnly.push(resolve(path));
  }
  await mkdir(opts.root, { recursive: true });
  return { layout, cgroup, bindReadOnly };
}

/** Whether something exists at `path` (a missing parent or no permission reads as no). */
export function pathExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
