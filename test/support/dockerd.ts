/**
 * A private Docker engine for integration suites: Debian's `dockerd` on its own socket, exec root and
 * pidfile in a temporary directory, with a data root kept between runs (so an image built once is
 * reused) under a stable cache directory. Several engines may run at once: each takes a numbered
 * slot (its own data root, bridge and address pools) guarded by a lock file naming its owner. A slot
 * left by a killed run (dead owner) is cleaned up and taken over: its engine, shims and mounts go.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, existsSync, openSync as open, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, rmdir, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import Dockerode from "dockerode";
import { exited, terminate } from "./processes.js";

const run = promisify(execFile);

/** Where data roots live between runs; `ORCHESTRATOR_TEST_DOCKER_DIR` overrides. */
export const DOCKER_CACHE_DIR =
  process.env.ORCHESTRATOR_TEST_DOCKER_DIR ?? "/var/tmp/orchestrator-test-docker";
const MAX_SLOTS = 8;
const START_DEADLINE_MS = 60_000;
const STOP_DEADLINE_MS = 20_000;
/** Seconds dockerd gives running containers on shutdown before it kills them. */
const SHUTDOWN_TIMEOUT_S = 3;
const ENGINE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface TestDockerd {
  /** `unix:///tmp/orch-dockerd-.../docker.sock` */
  readonly socket: string;
  readonly docker: Dockerode;
  /** The slot's data root (images persist here between runs). */
  readonly dataRoot: string;
  /** `overlay2`, or `vfs` where overlay is not available. */
  readonly storageDriver: string;
  /** True when the engine has a (private) default bridge; false means `--bridge=none`. */
  readonly hasBridge: boolean;
  stop(): Promise<void>;
}

interface SlotLock {
  ownerPid: number;
  runDir: string;
  bridge: string | null;
}

/** The cgroup parent of a slot's containers, so a cleanup finds exactly this engine's processes. */
function cgroupParentOf(slot: number): string {
  return `orchtest${slot}`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Pids of live processes whose command line mentions `needle` (engine, containerd, shims). */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (cmdlineOf(pid).includes(needle)) pids.push(pid);
  }
  return pids;
}

async function killAndWait(pids: number[], deadlineMs: number): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + deadlineMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(50);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Mount points at or under any of `roots`, deepest first (mountinfo escapes spaces as \040). */
async function mountsUnder(roots: string[]): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  const points = text
    .split("\n")
    .map((line) => line.split(" ")[4]?.replaceAll("\\040", " "))
    .filter(
      (point): point is string => !!point && roots.some((r) => point === r || point.startsWith(`${r}/`)),
    );
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Unmounts everything under `roots` (`<exec-root>/netns/default`, overlay layers, shm). */
async function unmountUnder(roots: string[]): Promise<void> {
  for (const point of await mountsUnder(roots)) {
    await run("umount", [point]).catch(() => run("umount", ["-l", point]).catch(() => undefined));
  }
}

const CGROUP_ROOT = "/sys/fs/cgroup";

/** `<hierarchy>/<parent>` for every cgroup hierarchy (v1 controllers, v1 unified, pure v2 root). */
function cgroupParents(parent: string): string[] {
  const roots = [CGROUP_ROOT];
  for (const entry of readdirSync(CGROUP_ROOT, { withFileTypes: true })) {
    if (entry.isDirectory()) roots.push(join(CGROUP_ROOT, entry.name));
  }
  return roots.map((root) => join(root, parent)).filter((dir) => existsSync(dir));
}

/** Every cgroup directory under `dir`, children before their parent. */
function cgroupTree(dir: string): string[] {
  const below = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => cgroupTree(join(dir, e.name)));
  return [...below, dir];
}

function cgroupPids(dir: string): number[] {
  try {
    return readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Kills what a dead engine left running in its containers' cgroups (container processes outlive
 * their shim), thaws paused ones (a frozen process cannot die) and removes the cgroups.
 */
async function cleanCgroups(parent: string): Promise<void> {
  const dirs = cgroupParents(parent).flatMap(cgroupTree);
  const pids = [...new Set(dirs.flatMap(cgroupPids))];
  for (const dir of dirs) {
    for (const [file, value] of [
      ["freezer.state", "THAWED"],
      ["cgroup.freeze", "0"],
    ] as const) {
      if (existsSync(join(dir, file))) await writeFile(join(dir, file), value).catch(() => undefined);
    }
  }
  await killAndWait(pids, 10_000);
  for (const dir of dirs) await rmdir(dir).catch(() => undefined);
}

async function removeBridge(name: string | null): Promise<void> {
  if (name) await run("ip", ["link", "del", name]).catch(() => undefined);
}

/** Tears down what a dead run left in a slot: its engine and shims, mounts, bridge and run dir. */
async function cleanStaleSlot(slot: number, slotDir: string, lock: SlotLock): Promise<void> {
  const dataRoot = join(slotDir, "data");
  await killAndWait([...processesMentioning(lock.runDir), ...processesMentioning(dataRoot)], 10_000);
  await cleanCgroups(cgroupParentOf(slot));
  await unmountUnder([lock.runDir, dataRoot]);
  await removeBridge(lock.bridge);
  await rm(lock.runDir, { recursive: true, force: true });
}

function readLock(path: string): SlotLock | null {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as SlotLock;
  } catch {
    return null;
  }
}

/** Takes the first free slot (cleaning a stale one on the way); returns its number and directory. */
async function acquireSlot(runDir: string): Promise<{ slot: number; slotDir: string; lockPath: string }> {
  await mkdir(DOCKER_CACHE_DIR, { recursive: true });
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    const slotDir = join(DOCKER_CACHE_DIR, `slot-${slot}`);
    const lockPath = join(slotDir, "lock.json");
    await mkdir(slotDir, { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = open(lockPath, "wx");
        writeFileSync(fd, JSON.stringify({ ownerPid: process.pid, runDir, bridge: null } satisfies SlotLock));
        closeSync(fd);
        return { slot, slotDir, lockPath };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const held = readLock(lockPath);
      if (held && isAlive(held.ownerPid)) break;
      // A lock half written by a live owner reads as null: give it a moment before calling it stale.
      if (!held) await sleep(200);
      const again = readLock(lockPath);
      if (again && isAlive(again.ownerPid)) break;
      if (again) await cleanStaleSlot(slot, slotDir, again);
      await unlink(lockPath).catch(() => undefined);
    }
  }
  throw new Error(`no free Docker test slot under ${DOCKER_CACHE_DIR} (all ${MAX_SLOTS} are held)`);
}

/** Creates the slot's private bridge, or returns null when this host cannot (no `ip`, no rights). */
async function createBridge(slot: number): Promise<string | null> {
  const name = `orchtest${slot}`;
  await removeBridge(name);
  try {
    await run("ip", ["link", "add", name, "type", "bridge"]);
    await run("ip", ["addr", "add", `10.199.${slot}.1/24`, "dev", name]);
    await run("ip", ["link", "set", name, "up"]);
    return name;
  } catch {
    await removeBridge(name);
    return null;
  }
}

async function logTail(path: string): Promise<string> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text.split("\n").slice(-15).join("\n");
}

interface Launch {
  child: ChildProcess;
  docker: Dockerode;
}

/** Starts one dockerd and waits for ping; rejects (with the engine's log) if it exits or stalls. */
async function launch(args: string[], socketPath: string, logPath: string): Promise<Launch> {
  await writeFile(logPath, "");
  const logFd = open(logPath, "a");
  const child = spawn("dockerd", args, {
    stdio: ["ignore", logFd, logFd],
    env: { PATH: ENGINE_PATH, HOME: "/root" },
  });
  closeSync(logFd);
  const docker = new Dockerode({ socketPath });
  const deadline = Date.now() + START_DEADLINE_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`dockerd exited (${child.exitCode ?? child.signalCode}):\n${await logTail(logPath)}`);
    }
    if (
      existsSync(socketPath) &&
      (await docker.ping().then(
        () => true,
        () => false,
      ))
    )
      return { child, docker };
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await exited(child, 5_000);
      throw new Error(`dockerd did not answer ping in ${START_DEADLINE_MS} ms:\n${await logTail(logPath)}`);
    }
    await sleep(100);
  }
}

/**
 * Starts a private dockerd (`--iptables=false`, overlay2 or else vfs, a private default bridge or
 * else `--bridge=none`) and waits until it answers ping. `stop()` ends it with a deadline, kills
 * leftover shims, unmounts what it left (`<exec-root>/netns/default`, layers) and removes the run
 * directory; the data root stays for the next run. Requires root, as dockerd does.
 */
/** Force-removes every container of an engine (with its anonymous volumes). */
async function removeAllContainers(docker: Dockerode): Promise<void> {
  const all = await docker.listContainers({ all: true });
  await Promise.all(all.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
}

export async function startDockerd(): Promise<TestDockerd> {
  const runDir = await mkdtemp("/tmp/orch-dockerd-");
  const { slot, slotDir, lockPath } = await acquireSlot(runDir);
  const dataRoot = join(slotDir, "data");
  const execRoot = join(runDir, "exec");
  const socketPath = join(runDir, "docker.sock");
  const logPath = join(runDir, "dockerd.log");
  const configPath = join(runDir, "daemon.json");
  let bridge: string | null = null;
  let child: ChildProcess | null = null;
  let engine: Dockerode | null = null;

  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      if (engine) await removeAllContainers(engine).catch(() => undefined);
      if (child) await terminate(child, STOP_DEADLINE_MS);
      await killAndWait(processesMentioning(runDir), 10_000);
      await cleanCgroups(cgroupParentOf(slot));
      await unmountUnder([runDir, dataRoot]);
      await removeBridge(bridge);
      await rm(runDir, { recursive: true, force: true });
      await unlink(lockPath).catch(() => undefined);
    })();
    return stopped;
  };

  try {
    await writeFile(configPath, "{}\n");
    bridge = await createBridge(slot);
    writeFileSync(lockPath, JSON.stringify({ ownerPid: process.pid, runDir, bridge } satisfies SlotLock));
    const common = [
      `--host=unix://${socketPath}`,
      `--data-root=${dataRoot}`,
      `--exec-root=${execRoot}`,
      `--pidfile=${join(runDir, "docker.pid")}`,
      `--config-file=${configPath}`,
      "--iptables=false",
      "--ip-masq=false",
      `--bridge=${bridge ?? "none"}`,
      `--cgroup-parent=${cgroupParentOf(slot)}`,
      `--default-address-pool=base=10.${200 + slot}.0.0/16,size=24`,
      `--shutdown-timeout=${SHUTDOWN_TIMEOUT_S}`,
      "--log-level=warn",
    ];
    let storageDriver = "overlay2";
    let started: Launch;
    try {
      started = await launch([...common, `--storage-driver=${storageDriver}`], socketPath, logPath);
    } catch (overlayError) {
      // Overlay needs kernel support and a backing filesystem that allows it; vfs works anywhere.
      await killAndWait(processesMentioning(runDir), 10_000);
      await unmountUnder([runDir]);
      storageDriver = "vfs";
      started = await launch([...common, `--storage-driver=${storageDriver}`], socketPath, logPath).catch(
        (vfsError: unknown) => {
          throw new Error(`dockerd failed with overlay2 (${String(overlayError)}) and vfs`, {
            cause: vfsError,
          });
        },
      );
    }
    child = started.child;
    engine = started.docker;
    // The data root is kept for its images only: containers a previous run left (restarted just
    // now by their restart policy, holding ports) go.
    await removeAllContainers(started.docker);
    return {
      socket: `unix://${socketPath}`,
      docker: started.docker,
      dataRoot,
      storageDriver,
      hasBridge: bridge !== null,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs `argv` in a container of `docker` and returns what it printed. */
export async function execIn(docker: Dockerode, containerId: string, argv: string[]): Promise<string> {
  const exec = await docker
    .getContainer(containerId)
    // A TTY: the output comes as it was printed, without the stream's frame headers.
    .exec({ Cmd: argv, AttachStdout: true, AttachStderr: true, Tty: true });
  const stream = await exec.start({ hijack: true, stdin: false, Tty: true });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  return Buffer.concat(chunks).toString("utf8").replaceAll("\r\n", "\n");
}
