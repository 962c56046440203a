import { mkdir, readdir, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { AppError } from "../../contracts/index.js";
import type { ExecResult, ExecSpec, Runtime, Sandbox, SandboxInfo, SandboxSpec } from "../runtime.js";
import { LABEL_PROJECT, LABEL_RUN, LABEL_WORKER } from "../runtime.js";
import { BWRAP_HOME, BWRAP_WORKSPACE, bwrapArgs } from "./process-bwrap.js";
import { runChild } from "./process-exec.js";
import { detectProcessMode, type ProcessMode, pathExists, sandboxUnavailable } from "./process-mode.js";
import { sandboxProcesses, startTimeOf } from "./process-ownership.js";
import {
  assertWorkerId,
  readRecord,
  type SandboxRecord,
  updatePids,
  writeRecord,
} from "./process-sandbox-files.js";
import { collectTree, listProcesses, signalEach, signalGroup, waitGone } from "./process-tree.js";
import { CACHES_DIR, npmCacheDir, SANDBOX_NPM_CACHE } from "./project-cache.js";

export { WORKER_ID_ENV } from "./process-ownership.js";

const DEFAULT_KILL_GRACE_MS = 2_000;
/** How long `destroy` waits for this instance's running execs to report after the kill. */
const EXEC_SETTLE_MS = 5_000;
/** Rounds of SIGSTOP while processes keep forking during a pause. */
const STOP_ROUNDS = 5;
/** Joins the sandbox's cgroup ($0 is its `cgroup.procs`), then becomes the command. */
const JOIN_CGROUP = 'echo $$ > "$0" || exit 125; exec "$@"';
/** Same, without the PWD variable the shell would add to an environment that had none. */
const JOIN_CGROUP_NO_PWD = 'echo $$ > "$0" || exit 125; unset PWD; exec "$@"';

/** How a `ProcessRuntime` is set up; only `root` is required, the rest is detected. */
export interface ProcessRuntimeOptions {
  /** Folder holding one sub-folder per sandbox, e.g. `<dataDir>/workers`. */
  root: string;
  /** Folder of the per-project caches (`<cacheRoot>/<projectId>/npm`); default `<root>/.caches`. */
  cacheRoot?: string;
  /** Extra host paths shown read-only inside bubblewrap (e.g. the package root, node's folder). */
  bindReadOnly?: string[];
  logger?: { warn(obj: object, msg: string): void };
  /**
   * Run commands inside bubblewrap. Default: when it works here, and when it does not, sandboxes for
   * agents with a model are refused (`sandbox_unavailable`); `true` fails when it does not; `false`
   * turns it off on purpose (WORKER_SANDBOX=none): every sandbox runs directly on the host.
   */
  useBubblewrap?: boolean;
  /** Use a cgroup v2 group per sandbox. Default: when one can be made; `false` uses signals. */
  useCgroup?: boolean;
  /** Between SIGTERM and SIGKILL when a command times out or a sandbox is destroyed. */
  killGraceMs?: number;
}

/**
 * The embedded runtime: a sandbox is a folder (`workspace/`, `home/`, `sandbox.json`, `pids`) and
 * commands are host processes, inside bubblewrap (uid 1000, read-only system, private /tmp and
 * pid namespace) when it works here. Everything a command starts is tracked by process group,
 * descendants and, where possible, a cgroup v2 group, so pause freezes it and destroy kills it,
 * also after an earlier orchestrator process died and left it running. The project's npm cache
 * lives outside the sandbox folder (`<cacheRoot>/<projectId>/npm`), so destroy keeps it.
 */
export class ProcessRuntime implements Runtime {
  readonly kind = "process" as const;
  private readonly root: string;
  private readonly cacheRoot: string;
  private readonly killGraceMs: number;
  private modePromise: Promise<ProcessMode> | null = null;
  /** Execs started by this instance, per worker, to wait for them on destroy. */
  private readonly running = new Map<string, Set<Promise<ExecResult>>>();

  constructor(private readonly options: ProcessRuntimeOptions) {
    this.root = resolve(options.root);
    this.cacheRoot = resolve(options.cacheRoot ?? join(this.root, CACHES_DIR));
    this.killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  }

  /**
   * Whether commands run inside bubblewrap / the sandbox uses a cgroup (decided once; the first call
   * logs what is missing, so a composition root calls it at start).
   */
  async isolation(): Promise<{ bubblewrap: boolean; cgroup: boolean }> {
    const mode = await this.mode();
    return { bubblewrap: mode.layout !== null, cgroup: mode.cgroup !== null };
  }

  async create(spec: SandboxSpec): Promise<Sandbox> {
    assertWorkerId(spec.workerId);
    npmCacheDir(this.cacheRoot, spec.projectId); // refuses an unusable project id before anything is made
    const mode = await this.mode();
    if (spec.modelAgent !== null && mode.bwrapRefusal !== null) {
      throw sandboxUnavailable(spec.modelAgent, mode.bwrapRefusal);
    }
    const dir = this.dir(spec.workerId);
    if (await pathExists(dir)) {
      throw new AppError("conflict", "sandbox_exists", `a sandbox for worker ${spec.workerId} exists`);
    }
    const labels: Record<string, string> = {
      ...spec.labels,
      [LABEL_WORKER]: spec.workerId,
      [LABEL_PROJECT]: spec.projectId,
    };
    if (spec.runId) labels[LABEL_RUN] = spec.runId;
    else delete labels[LABEL_RUN];
    const record: SandboxRecord = { workerId: spec.workerId, labels, createdAt: new Date().toISOString() };
    // Built under a hidden name and renamed: `list` never sees a half-made sandbox.
    const staging = join(this.root, `.creating-${spec.workerId}-${process.pid}-${Date.now()}`);
    await mkdir(join(staging, "workspace"), { recursive: true });
    await mkdir(join(staging, "home"));
    await writeRecord(staging, record);
    try {
      await rename(staging, dir);
    } catch (cause) {
      await rm(staging, { recursive: true, force: true });
      throw new AppError("conflict", "sandbox_exists", `a sandbox for worker ${spec.workerId} exists`, {
        cause,
      });
    }
    await mode.cgroup?.ensure(spec.workerId, spec.limits);
    return this.sandbox(spec.workerId, record, mode);
  }

  async attach(workerId: string): Promise<Sandbox | null> {
    assertWorkerId(workerId);
    const mode = await this.mode();
    const record = await readRecord(this.dir(workerId));
    return record ? this.sandbox(workerId, record, mode) : null;
  }

  async exec(sandbox: Sandbox, spec: ExecSpec): Promise<ExecResult> {
    const mode = await this.mode();
    const { workerId } = sandbox;
    const { dir, record } = await this.requireSandbox(workerId);
    if (await pathExists(join(dir, "paused"))) {
      throw new AppError("conflict", "sandbox_paused", `the sandbox of worker ${workerId} is paused`);
    }
    if (spec.argv.length === 0 || !spec.argv[0]) {
      throw new AppError("invalid", "invalid_exec", "a command needs a program", {
        details: [{ path: "argv", message: "empty" }],
      });
    }
    const cwd = spec.cwd ?? sandbox.workspace;
    const hostWorkspace = join(dir, "workspace");
    const hostNpmCache = this.npmCacheOf(record);
    if (hostNpmCache) await mkdir(hostNpmCache, { recursive: true });
    let argv = spec.argv;
    if (mode.layout) {
      const hostHome = join(dir, "home");
      const mounts = { hostWorkspace, hostHome, hostNpmCache, bindReadOnly: mode.bindReadOnly, cwd };
      argv = [mode.layout.bwrap, ...bwrapArgs(mode.layout, mounts), ...spec.argv];
    }
    if (mode.cgroup) {
      await mode.cgroup.ensure(workerId);
      const script = spec.env.PWD === undefined ? JOIN_CGROUP_NO_PWD : JOIN_CGROUP;
      argv = ["/bin/sh", "-c", script, mode.cgroup.procsFile(workerId), ...argv];
    }
    const [command, ...args] = argv as [string, ...string[]];
    const done = runChild({
      command,
      args,
      env: { ...spec.env },
      cwd: mode.layout ? hostWorkspace : cwd,
      stdin: spec.stdin,
      timeoutMs: spec.timeoutMs,
      killGraceMs: this.killGraceMs,
      onStdoutLine: spec.onStdoutLine,
      onSpawn: (pid) => {
        const startTime = startTimeOf(pid);
        if (startTime !== null) updatePids(dir, { add: { pid, startTime } });
      },
      onDone: (pid) => updatePids(dir, { remove: pid }),
      signalTree: async (pid, signal) => signalEach(collectTree([pid], await listProcesses()), signal),
      signalGroup: (pid, signal) => signalGroup(pid, signal),
      onError: (error) => this.options.logger?.warn({ err: error, workerId }, "could not signal a command"),
    });
    const set = this.running.get(workerId) ?? new Set();
    this.running.set(workerId, set);
    set.add(done);
    try {
      return await done;
    } finally {
      set.delete(done);
      if (set.size === 0) this.running.delete(workerId);
    }
  }

  async pause(sandbox: Sandbox): Promise<void> {
    const mode = await this.mode();
    const { dir } = await this.requireSandbox(sandbox.workerId);
    // The marker first: an exec racing with the pause is refused rather than left running.
    await writeFile(join(dir, "paused"), `${new Date().toISOString()}\n`);
    if (mode.cgroup) await mode.cgroup.setFrozen(sandbox.workerId, true);
    const stopped = new Set<number>();
    for (let round = 0; round < STOP_ROUNDS; round++) {
      const fresh = [...(await this.processes(sandbox.workerId, mode))].filter((p) => !stopped.has(p));
      if (fresh.length === 0) break;
      signalEach(fresh, "SIGSTOP");
      for (const pid of fresh) stopped.add(pid);
    }
  }

  async resume(sandbox: Sandbox): Promise<void> {
    const mode = await this.mode();
    const { dir } = await this.requireSandbox(sandbox.workerId);
    if (mode.cgroup) await mode.cgroup.setFrozen(sandbox.workerId, false);
    signalEach(await this.processes(sandbox.workerId, mode), "SIGCONT");
    await unlink(join(dir, "paused")).catch(() => {});
  }

  async destroy(sandbox: Sandbox): Promise<void> {
    await this.removeWorker(sandbox.workerId);
  }

  async list(): Promise<SandboxInfo[]> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    const infos: SandboxInfo[] = [];
    for (const name of names.sort()) {
      if (name.startsWith(".") || !(await isDirectory(join(this.root, name)))) continue;
      const record = await readRecord(this.dir(name));
      // A folder without its record is a destroy cut short: listed so a sweep removes it.
      infos.push({ id: name, workerId: name, labels: record?.labels ?? { [LABEL_WORKER]: name } });
    }
    return infos;
  }

  async remove(info: SandboxInfo): Promise<void> {
    await this.removeWorker(info.workerId);
  }

  async cpuTimeMs(sandbox: Sandbox): Promise<number> {
    const mode = await this.mode();
    await this.requireSandbox(sandbox.workerId);
    if (mode.cgroup && (await mode.cgroup.exists(sandbox.workerId))) {
      return mode.cgroup.cpuTimeMs(sandbox.workerId);
    }
    const wanted = await this.processes(sandbox.workerId, mode);
    const all = await listProcesses();
    return Math.round(all.filter((p) => wanted.has(p.pid)).reduce((sum, p) => sum + p.cpuMs, 0));
  }

  /** Kills everything of a sandbox (politely, then not), then deletes its group and folder. */
  private async removeWorker(workerId: string): Promise<void> {
    assertWorkerId(workerId);
    const mode = await this.mode();
    const dir = this.dir(workerId);
    // Without its record the sandbox refuses new execs while it is being torn down.
    await rm(join(dir, "sandbox.json"), { force: true });
    if (mode.cgroup) await mode.cgroup.setFrozen(workerId, false);
    const first = await this.processes(workerId, mode);
    signalEach(first, "SIGCONT");
    signalEach(first, "SIGTERM");
    if (!(await waitGone(first, this.killGraceMs))) {
      const rest = new Set([...first, ...(await this.processes(workerId, mode))]);
      signalEach(rest, "SIGKILL");
      await waitGone(rest, this.killGraceMs);
    }
    await mode.cgroup?.remove(workerId);
    await this.settleExecs(workerId);
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }

  /** Waits (bounded) for this instance's execs in a sandbox to report after their kill. */
  private async settleExecs(workerId: string): Promise<void> {
    const execs = [...(this.running.get(workerId) ?? [])];
    if (execs.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => {
      timer = setTimeout(r, EXEC_SETTLE_MS);
    });
    await Promise.race([Promise.allSettled(execs), deadline]);
    clearTimeout(timer);
  }

  private async requireSandbox(workerId: string): Promise<{ dir: string; record: SandboxRecord }> {
    assertWorkerId(workerId);
    const dir = this.dir(workerId);
    const record = await readRecord(dir);
    if (!record) {
      throw new AppError("not_found", "sandbox_not_found", `no sandbox for worker ${workerId}`);
    }
    return { dir, record };
  }

  private dir(workerId: string): string {
    return join(this.root, workerId);
  }

  /** The host folder of the npm cache of the sandbox's project; null for a record without one. */
  private npmCacheOf(record: SandboxRecord): string | null {
    const projectId = record.labels[LABEL_PROJECT];
    return projectId ? npmCacheDir(this.cacheRoot, projectId) : null;
  }

  private sandbox(workerId: string, record: SandboxRecord, mode: ProcessMode): Sandbox {
    const dir = this.dir(workerId);
    const hostWorkspace = join(dir, "workspace");
    const hostNpmCache = this.npmCacheOf(record);
    return {
      id: workerId,
      workerId,
      hostWorkspace,
      workspace: mode.layout ? BWRAP_WORKSPACE : hostWorkspace,
      home: mode.layout ? BWRAP_HOME : join(dir, "home"),
      npmCache: hostNpmCache && mode.layout ? SANDBOX_NPM_CACHE : hostNpmCache,
    };
  }

  private processes(workerId: string, mode: ProcessMode): Promise<Set<number>> {
    return sandboxProcesses(this.dir(workerId), workerId, mode.cgroup);
  }

  private mode(): Promise<ProcessMode> {
    this.modePromise ??= detectProcessMode({ ...this.options, root: this.root }).catch((error: unknown) => {
      this.modePromise = null;
      throw error;
    });
    return this.modePromise;
  }
}

function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
