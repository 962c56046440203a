import { access, mkdir } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { AppError } from "../../contracts/index.js";
import { CgroupV2 } from "./cgroup-v2.js";
import { findBwrap, type HostLayout, probeBwrap, scanHostLayout } from "./process-bwrap.js";

/** How a `ProcessRuntime` isolates commands on this host, decided once per instance. */
export interface ProcessMode {
  /** Bubblewrap's view of the host; null when commands run directly on the host. */
  layout: HostLayout | null;
  /**
   * Why commands run directly on the host when bubblewrap was wanted (its refusal, in its own
   * words); null when bubblewrap is in use or was turned off on purpose.
   */
  bwrapRefusal: string | null;
  /** The cgroup v2 hierarchy holding one group per sandbox; null when signals must do. */
  cgroup: CgroupV2 | null;
  /** The host paths (existing, absolute) shown read-only inside bubblewrap. */
  bindReadOnly: string[];
}

/**
 * Detects bubblewrap and a writable cgroup v2 hierarchy. `true` for either option makes its absence
 * an `unavailable` error; `false` for bubblewrap turns it off on purpose (one warning says every
 * worker runs unsandboxed); unset uses it when it works here and otherwise warns that only workers
 * without a model can run. Creates `root` on the way.
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
  let bwrapRefusal: string | null = null;
  if (useBubblewrap === false) {
    logger?.warn(
      { root: opts.root },
      "bubblewrap is turned off (WORKER_SANDBOX=none): every worker, agents with a model included, runs directly on the host, unsandboxed, isolated only by its environment",
    );
  } else {
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
      bwrapRefusal = refusal ?? "bwrap is not installed";
      logger?.warn({ reason: refusal }, "bubblewrap cannot create a sandbox here");
      logger?.warn(
        { root: opts.root },
        `bubblewrap is not in use: worker commands run directly on the host, isolated only by their environment, so only workers without a model (scripted agents, the Tester) start; agents with a model are refused. ${SANDBOX_REMEDIES}`,
      );
    }
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
  return { layout, bwrapRefusal, cgroup, bindReadOnly };
}

/** The three ways out when bubblewrap cannot sandbox an agent here, the last one deliberate. */
const SANDBOX_REMEDIES =
  "Install bubblewrap (apt-get install bubblewrap), run workers in Docker (WORKER_RUNTIME=docker), or set WORKER_SANDBOX=none to run agents unsandboxed on purpose";

/**
 * The refusal of a sandbox for an agent that talks to a model (`agent` names its backend) when
 * bubblewrap cannot isolate it: such an agent never runs on the host by accident.
 */
export function sandboxUnavailable(agent: string, bwrapRefusal: string): AppError {
  return new AppError(
    "unavailable",
    "sandbox_unavailable",
    `a ${agent} worker needs a sandbox, and bubblewrap cannot create one here (${bwrapRefusal}). ${SANDBOX_REMEDIES}.`,
  );
}

/** Whether something exists at `path` (a missing parent or no permission reads as no). */
export function pathExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
