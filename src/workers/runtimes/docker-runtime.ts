import { readFileSync } from "node:fs";
import { chmod, chown, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type Dockerode from "dockerode";
import { AppError } from "../../contracts/index.js";
import type { Logger } from "../../observability/index.js";
import {
  type ExecResult,
  type ExecSpec,
  LABEL_PROJECT,
  LABEL_RUN,
  LABEL_WORKER,
  type Runtime,
  type Sandbox,
  type SandboxInfo,
  type SandboxSpec,
} from "../runtime.js";
import { dockerError, isNotFound } from "./docker-runtime-errors.js";
import { dockerExec, runHelper } from "./docker-runtime-exec.js";
import { CACHES_DIR, npmCacheDir, SANDBOX_NPM_CACHE } from "./project-cache.js";

export { dockerError } from "./docker-runtime-errors.js";

/** The uid:gid commands run as inside a worker container (the image's `worker` user). */
export const WORKER_USER = "1000:1000";
const WORKER_UID = 1000;
const WORKER_GID = 1000;
const CONTAINER_WORKSPACE = "/workspace";
const CONTAINER_HOME = "/home/worker";
const NAME_PREFIX = "orchestrator-worker-";
/** Worker ids become container names and directory names: keep them to a safe alphabet. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Tries of a pause the freezer could not complete, each after a longer wait. */
const FREEZE_ATTEMPTS = 3;
const FREEZE_RETRY_MS = 250;

export interface DockerRuntimeOptions {
  /** The engine: from `dockerFromEnv(process.env)` or a private socket in tests. */
  docker: Dockerode;
  /** The worker image (`ops/worker/Dockerfile`): uid 1000 user, long-lived init as its command. */
  image: string;
  /** Directory on the Docker host holding `<workerId>/workspace` and `<workerId>/home`. */
  workspaceRoot: string;
  /** Directory on the Docker host of the per-project caches; default `<workspaceRoot>/.caches`. */
  cacheRoot?: string;
  /** Host paths mounted read-only at the same path (the orchestrator package, node's binary). */
  bindReadOnly?: string[];
  /** Docker network mode; "host" (the default) lets workers reach loopback APIs and model fakes. */
  network?: string;
  logger?: Logger;
}

/**
 * Builds a Dockerode client from a `DOCKER_HOST`-style environment: unset -> the local socket,
 * `unix:///path`, `tcp://host:port` (TLS when `DOCKER_TLS_VERIFY` is set, certificates from
 * `DOCKER_CERT_PATH`) or `ssh://user@host`. Lets production target a remote engine by settings alone.
 * Dockerode (with its gRPC and protobuf) loads here, not with the module: most processes never use it.
 */
export async function dockerFromEnv(env: Record<string, string | undefined>): Promise<Dockerode> {
  const { default: Dockerode } = await import("dockerode");
  const host = env.DOCKER_HOST?.trim() || "unix:///var/run/docker.sock";
  let url: URL;
  try {
    url = new URL(host);
  } catch (cause) {
    throw new AppError("invalid", "invalid_docker_host", "DOCKER_HOST is not a URL", { cause });
  }
  if (url.protocol === "unix:") return new Dockerode({ socketPath: url.pathname });
  if (url.protocol === "tcp:" || url.protocol === "http:" || url.protocol === "https:") {
    const isTls = url.protocol === "https:" || (!!env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== "0");
    const port = Number(url.port || (isTls ? 2376 : 2375));
    if (!isTls) return new Dockerode({ protocol: "http", host: url.hostname, port });
    const certs = env.DOCKER_CERT_PATH ?? join(env.HOME ?? "", ".docker");
    const read = (name: string) => readFileSync(join(certs, name));
    return new Dockerode({
      protocol: "https",
      host: url.hostname,
      port,
      ca: read("ca.pem"),
      cert: read("cert.pem"),
      key: read("key.pem"),
    });
  }
  if (url.protocol === "ssh:") {
    return new Dockerode({
      protocol: "ssh",
      host: url.hostname,
      port: Number(url.port || 22),
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    });
  }
  throw new AppError("invalid", "invalid_docker_host", `unsupported DOCKER_HOST scheme ${url.protocol}`);
}

function checkWorkerId(workerId: string): string {
  if (!SAFE_ID.test(workerId)) {
    throw new AppError("invalid", "invalid_input", "worker id is not usable as a container name", {
      details: [{ path: "workerId", message: "letters, digits, '_', '.', '-' only" }],
    });
  }
  return workerId;
}

/**
 * The production runtime: one container per worker from the worker image, with CPU/memory/pids
 * limits, every capability dropped, no-new-privileges, owner labels, uid 1000, the workspace and
 * HOME bind-mounted from `<workspaceRoot>/<workerId>`, the project's npm cache (kept when the
 * container goes) from `<cacheRoot>/<projectId>/npm`, and a tmpfs `/tmp` (mode 1777). Commands run
 * through the exec API; pause/resume use the cgroup freezer. Works against a remote engine too, as
 * long as `workspaceRoot` is a path on that engine's host.
 */
export class DockerRuntime implements Runtime {
  readonly kind = "docker" as const;
  private readonly docker: Dockerode;
  private readonly network: string;
  /** Per container: execs whose process the engine has not started yet (see `pause`). */
  private readonly starting = new Map<string, Set<Promise<void>>>();

  constructor(private readonly options: DockerRuntimeOptions) {
    this.docker = options.docker;
    this.network = options.network ?? "host";
  }

  private dirsOf(workerId: string) {
    const root = join(this.options.workspaceRoot, checkWorkerId(workerId));
    return { root, workspace: join(root, "workspace"), home: join(root, "home") };
  }

  private sandboxOf(id: string, workerId: string, hasNpmCache: boolean): Sandbox {
    return {
      id,
      workerId,
      workspace: CONTAINER_WORKSPACE,
      hostWorkspace: this.dirsOf(workerId).workspace,
      home: CONTAINER_HOME,
      npmCache: hasNpmCache ? SANDBOX_NPM_CACHE : null,
    };
  }

  /** Makes a directory the container user can write: owned by uid 1000 as root, else world-writable. */
  private async makeWorkerDir(path: string): Promise<void> {
    await mkdir(path, { recursive: true });
    if (process.getuid?.() === 0) await chown(path, WORKER_UID, WORKER_GID);
    else await chmod(path, 0o777);
  }

  async create(spec: SandboxSpec): Promise<Sandbox> {
    const dirs = this.dirsOf(spec.workerId);
    const cacheRoot = this.options.cacheRoot ?? join(this.options.workspaceRoot, CACHES_DIR);
    const npmCache = npmCacheDir(cacheRoot, spec.projectId);
    await this.makeWorkerDir(dirs.workspace);
    await this.makeWorkerDir(dirs.home);
    await this.makeWorkerDir(npmCache);
    const { cpus, memoryMb, pids } = spec.limits;
    const labels: Record<string, string> = {
      ...spec.labels,
      [LABEL_WORKER]: spec.workerId,
      [LABEL_PROJECT]: spec.projectId,
      ...(spec.runId === null ? {} : { [LABEL_RUN]: spec.runId }),
    };
    let container: Dockerode.Container;
    try {
      container = await this.docker.createContainer({
        name: `${NAME_PREFIX}${spec.workerId}`,
        Image: this.options.image,
        User: WORKER_USER,
        Env: [],
        WorkingDir: CONTAINER_WORKSPACE,
        Labels: labels,
        HostConfig: {
          Binds: [
            `${dirs.workspace}:${CONTAINER_WORKSPACE}`,
            `${dirs.home}:${CONTAINER_HOME}`,
            `${npmCache}:${SANDBOX_NPM_CACHE}`,
            ...(this.options.bindReadOnly ?? []).map((path) => `${path}:${path}:ro`),
          ],
          Tmpfs: { "/tmp": "rw,exec,nosuid,nodev,mode=1777" },
          NetworkMode: this.network,
          NanoCpus: Math.round(cpus * 1e9),
          Memory: memoryMb * 1024 * 1024,
          MemorySwap: memoryMb * 1024 * 1024,
          PidsLimit: pids,
          CapDrop: ["ALL"],
          SecurityOpt: ["no-new-privileges"],
          RestartPolicy: { Name: "no" },
        },
      });
    } catch (error) {
      const image = this.options.image;
      const mapped = isNotFound(error)
        ? new AppError(
            "unavailable",
            "worker_image_missing",
            `worker image ${image} is not built: build it with npx orchestrator worker-image build --tag ${image}`,
            { cause: error },
          )
        : dockerError(error, "create container");
      // A name conflict means the worker's sandbox exists: its workspace is not ours to delete.
      if (mapped.kind !== "conflict") await rm(dirs.root, { recursive: true, force: true });
      throw mapped;
    }
    try {
      await container.start();
    } catch (error) {
      await container.remove({ force: true }).catch(() => undefined);
      await rm(dirs.root, { recursive: true, force: true });
      throw dockerError(error, "start container");
    }
    await this.shareDirs(container);
    this.options.logger?.info(
      { workerId: spec.workerId, container: container.id },
      "worker container started",
    );
    return this.sandboxOf(container.id, spec.workerId, true);
  }

  /**
   * Gives the workspace and HOME a default ACL granting uid 1000 (and a non-root orchestrator's
   * uid) rwx, so files the host seeds stay writable inside and files made inside stay removable
   * outside. Runs `setfacl` in the container as its owner: no host tool or capability needed.
   */
  private async shareDirs(container: Dockerode.Container): Promise<void> {
    const uids = [WORKER_UID, process.getuid?.() ?? 0].filter(
      (uid, i, all) => uid !== 0 && all.indexOf(uid) === i,
    );
    const entries = uids.flatMap((uid) => [`u:${uid}:rwx`, `d:u:${uid}:rwx`]).join(",");
    const status = await runHelper(container, [
      "setfacl",
      "-m",
      entries,
      CONTAINER_WORKSPACE,
      CONTAINER_HOME,
    ]).catch((error: unknown) => String(error));
    if (status !== 0) {
      this.options.logger?.warn(
        { status },
        "could not set the workspace ACL: host-seeded files stay read-only inside",
      );
    }
  }

  private async findByWorker(workerId: string): Promise<Dockerode.ContainerInfo | null> {
    try {
      const found = await this.docker.listContainers({
        all: true,
        filters: { label: [`${LABEL_WORKER}=${workerId}`] },
      });
      return found[0] ?? null;
    } catch (error) {
      throw dockerError(error, "list containers");
    }
  }

  async attach(workerId: string): Promise<Sandbox | null> {
    checkWorkerId(workerId);
    const info = await this.findByWorker(workerId);
    if (!info || info.State === "dead" || info.State === "removing") return null;
    if (info.State === "created" || info.State === "exited") {
      // Stopped by an engine restart: bring it back so commands can run in it again.
      try {
        await this.docker.getContainer(info.Id).start();
      } catch (error) {
        throw dockerError(error, "start container");
      }
    }
    // Containers made before project caches existed have no cache mount.
    const hasNpmCache = (info.Mounts ?? []).some((m) => m.Destination === SANDBOX_NPM_CACHE);
    return this.sandboxOf(info.Id, workerId, hasNpmCache);
  }

  async exec(sandbox: Sandbox, spec: ExecSpec): Promise<ExecResult> {
    let markStarted = () => {};
    const started = new Promise<void>((resolve) => {
      markStarted = resolve;
    });
    const pending = this.starting.get(sandbox.id) ?? new Set<Promise<void>>();
    this.starting.set(sandbox.id, pending.add(started));
    try {
      return await dockerExec(
        this.docker,
        this.docker.getContainer(sandbox.id),
        spec,
        sandbox.workspace,
        markStarted,
      );
    } finally {
      markStarted();
      pending.delete(started);
      if (pending.size === 0 && this.starting.get(sandbox.id) === pending) this.starting.delete(sandbox.id);
    }
  }

  async pause(sandbox: Sandbox): Promise<void> {
    // Never freeze a container while one of our execs is still being started in it.
    await Promise.all(this.starting.get(sandbox.id) ?? []);
    const container = this.docker.getContainer(sandbox.id);
    for (let attempt = 1; ; attempt++) {
      try {
        await container.pause();
        return;
      } catch (error) {
        const message = String((error as Error).message);
        if (/already paused/i.test(message)) return;
        // runc gives up ("unable to freeze") when the container's processes do not all stop in
        // time, e.g. on a loaded host, and leaves the container running: another try usually takes.
        if (!/unable to freeze/i.test(message) || attempt >= FREEZE_ATTEMPTS)
          throw dockerError(error, "pause");
        await sleep(FREEZE_RETRY_MS * attempt);
      }
    }
  }

  async resume(sandbox: Sandbox): Promise<void> {
    await this.docker
      .getContainer(sandbox.id)
      .unpause()
      .catch((error: unknown) => {
        if (/not paused/i.test(String((error as Error).message))) return;
        throw dockerError(error, "unpause");
      });
  }

  async cpuTimeMs(sandbox: Sandbox): Promise<number> {
    try {
      const stats = (await this.docker
        .getContainer(sandbox.id)
        .stats({ stream: false, "one-shot": true } as { stream: false })) as Dockerode.ContainerStats;
      return Math.floor(Number(stats.cpu_stats?.cpu_usage?.total_usage ?? 0) / 1e6);
    } catch (error) {
      throw dockerError(error, "stats");
    }
  }

  async destroy(sandbox: Sandbox): Promise<void> {
    await this.removeContainer(sandbox.id, sandbox.workerId);
  }

  async list(): Promise<SandboxInfo[]> {
    let found: Dockerode.ContainerInfo[];
    try {
      found = await this.docker.listContainers({ all: true, filters: { label: [LABEL_WORKER] } });
    } catch (error) {
      throw dockerError(error, "list containers");
    }
    return found.map((c) => ({ id: c.Id, workerId: c.Labels[LABEL_WORKER] ?? "", labels: { ...c.Labels } }));
  }

  async remove(info: SandboxInfo): Promise<void> {
    await this.removeContainer(info.id, info.workerId);
  }

  /**
   * Force-removes the container (gone already is fine), then its workspace directory. When the
   * orchestrator is not root, files the container user made are first opened up from inside.
   */
  private async removeContainer(id: string, workerId: string): Promise<void> {
    const container = this.docker.getContainer(id);
    if (process.getuid?.() !== 0) await this.openUpFiles(container);
    try {
      await container.remove({ force: true, v: true });
    } catch (error) {
      if (!isNotFound(error) && !/already in progress/i.test(String((error as Error).message))) {
        throw dockerError(error, "remove container");
      }
    }
    if (workerId && SAFE_ID.test(workerId)) {
      await rm(this.dirsOf(workerId).root, { recursive: true, force: true });
    }
    this.options.logger?.info({ workerId, container: id }, "worker container removed");
  }

  private async openUpFiles(container: Dockerode.Container): Promise<void> {
    try {
      const state = (await container.inspect()).State;
      if (!state.Running) return;
      if (state.Paused) await container.unpause();
      await runHelper(container, ["chmod", "-R", "a+rwX", CONTAINER_WORKSPACE, CONTAINER_HOME]);
    } catch (error) {
      if (!isNotFound(error)) this.options.logger?.warn({ err: error }, "could not open up worker files");
    }
  }
}
