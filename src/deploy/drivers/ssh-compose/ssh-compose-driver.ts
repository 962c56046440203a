import { z } from "zod";
import { AppError, Id, parseOrThrow, type Server, TemplateManifest } from "../../../contracts/index.js";
import { CommitSha } from "../../../git/index.js";
import type { Logger } from "../../../observability/index.js";
import {
  type BuildSpec,
  type DeployDriver,
  type DeployTarget,
  RELEASES_KEPT,
  type RecoveryReport,
  type Release,
  type RunSpec,
  type TeardownOptions,
} from "../../driver.js";
import { KeyedLock } from "../../keyed-lock.js";
import { readTcpTable } from "./commands.js";
import type { DeployConnector } from "./executor.js";
import { mergeTimestamped, scrub, tail } from "./helpers.js";
import { listeningPorts } from "./listening-ports.js";
import { buildRemoteRelease } from "./remote-build.js";
import { checkImageRef, DATA_MOUNT } from "./remote-files.js";
import { checkRemoteRoot, ReleaseId, RemoteLayout } from "./remote-layout.js";
import { RemoteProject } from "./remote-project.js";
import { ServerSessions } from "./sessions.js";

/** The production base image of every release (Node 22, a maintained LTS, on Debian bookworm, from Docker Hub). */
export const DEFAULT_BASE_IMAGE = "node:22-bookworm-slim";
/** Where projects live on a server. */
export const DEFAULT_REMOTE_ROOT = "/srv/orchestrator";
const BUILD_TIMEOUT_MS = 15 * 60_000;
const START_TIMEOUT_MS = 3 * 60_000;
const COMMAND_TIMEOUT_MS = 60_000;

export interface SshComposeDriverOptions {
  /** How a server is reached (an SSH executor over its stored key, or a recording one in tests). */
  connector: DeployConnector;
  logger: Logger;
  /** Base image of every release's Dockerfile; `DEFAULT_BASE_IMAGE` when absent. */
  baseImage?: string;
  /** Folder on each server that holds the projects; `DEFAULT_REMOTE_ROOT` when absent. */
  remoteRoot?: string;
  /**
   * `DOCKER_HOST` for docker and Compose on a server (e.g. a test engine's socket), or null for
   * the server's default engine. A per-server setting `Server` has no field for.
   */
  dockerHostFor?: (server: Server) => string | null;
  /** Network the build's RUN steps use (`host` where the engine's bridge has no way out), or null. */
  buildNetwork?: string | null;
  buildTimeoutMs?: number;
  startTimeoutMs?: number;
  commandTimeoutMs?: number;
}

const BuildInput = z.object({ projectId: Id, commit: CommitSha, manifest: TemplateManifest });
const RunInput = z.object({
  release: z.object({ id: ReleaseId, projectId: Id, commit: CommitSha }),
  env: z.record(z.string(), z.string()),
  port: z.number().int().min(1).max(65_535).nullable(),
  manifest: TemplateManifest,
});

/**
 * What an operation needs of its server: new releases are built and started only on a `ready` one;
 * stopping, listing and reading what already runs there works while the server keeps its key (a
 * check may have put it in `error` for low disk, and its projects must still be stoppable).
 */
type ServerNeed = "ready" | "reachable";

/**
 * Deploys to registered servers with Docker Compose over SSH. A release is the commit's `git
 * archive` uploaded to `<remoteRoot>/<projectId>/releases/<id>/`, built there into its own image
 * (`orch-<projectId>:<releaseId>`) by a generated Dockerfile; running one writes its `.env` (mode
 * 0600), `up`s it under the project's one Compose project name (so it replaces the previous
 * release's container) and points `current` at it. Every remote step is built as data
 * (`ComposeCommands`) and run by the connector's executor. The last `RELEASES_KEPT` releases stay.
 */
export class SshComposeDriver implements DeployDriver {
  readonly kind = "ssh-compose" as const;
  readonly needsServer = true;
  private readonly baseImage: string;
  private readonly remoteRoot: string;
  private readonly sessions: ServerSessions;
  private readonly locks = new KeyedLock();
  private readonly commandTimeoutMs: number;
  private isClosed = false;

  constructor(private readonly opts: SshComposeDriverOptions) {
    this.baseImage = checkImageRef(opts.baseImage ?? DEFAULT_BASE_IMAGE);
    this.remoteRoot = checkRemoteRoot(opts.remoteRoot ?? DEFAULT_REMOTE_ROOT);
    this.commandTimeoutMs = opts.commandTimeoutMs ?? COMMAND_TIMEOUT_MS;
    this.sessions = new ServerSessions(opts.connector, this.commandTimeoutMs);
  }

  /** Releases run on the project's server; the gate calls its host. */
  target(server: Server): DeployTarget {
    return { server, host: server.host };
  }

  async build(spec: BuildSpec): Promise<Release> {
    const { projectId, commit, manifest } = parseOrThrow(BuildInput, spec, "build spec");
    return this.locks.run(`build:${projectId}`, async () => {
      const remote = await this.open(spec.server, projectId, "ready");
      const existing = (await remote.readReleases()).find((r) => r.commit === commit);
      if (existing && (await remote.hasImage(existing.image))) return remote.toRelease(existing);
      const record = await buildRemoteRelease({
        remote,
        compose: await this.compose(remote),
        commit,
        source: spec.source,
        manifest,
        baseImage: this.baseImage,
        buildNetwork: this.opts.buildNetwork ?? null,
        buildTimeoutMs: this.opts.buildTimeoutMs ?? BUILD_TIMEOUT_MS,
        logger: this.opts.logger,
      });
      await this.pruneReleases(remote, RELEASES_KEPT);
      return remote.toRelease(record);
    });
  }

  async run(spec: RunSpec): Promise<void> {
    const input = parseOrThrow(RunInput, spec, "run spec");
    const { id, projectId } = input.release;
    const remote = await this.open(spec.server, projectId, "ready");
    await this.locks.run(`state:${projectId}`, async () => {
      const record = await remote.readRecord(id);
      if (!record) {
        throw new AppError(
          "not_found",
          "release_not_found",
          `release ${id} is not on ${remote.server.handle}`,
          {
            details: [{ path: "release.id", message: "build it first" }],
          },
        );
      }
      const compose = await this.compose(remote);
      await remote.writeReleaseFiles(
        {
          id,
          commit: record.commit,
          image: record.image,
          manifest: input.manifest,
          port: input.port,
          env: input.env,
          buildNetwork: this.opts.buildNetwork ?? null,
        },
        compose,
      );
      const up = await remote.run(remote.commands.composeUp(compose, id, this.startTimeoutMs));
      if (up.code !== 0) {
        throw new AppError(
          "unavailable",
          "deploy_start_failed",
          `starting release ${id} failed (exit ${up.code})`,
          {
            details: [{ path: "release", message: scrub(tail(`${up.stdout}\n${up.stderr}`), input.env) }],
          },
        );
      }
      await remote.must(remote.commands.linkCurrent(id));
      this.opts.logger.info(
        { projectId, release: id, server: remote.server.handle, port: input.port },
        "release started",
      );
    });
  }

  async stop(projectId: string, server: Server | null): Promise<void> {
    const remote = await this.open(server, projectId, "reachable");
    await this.locks.run(`state:${projectId}`, async () => {
      const current = await remote.currentRelease();
      if (current && (await remote.readRecord(current))) {
        const compose = await this.compose(remote);
        const down = await remote.run(remote.commands.composeDown(compose, current, this.startTimeoutMs));
        if (down.code !== 0) {
          this.opts.logger.warn(
            { projectId, release: current, output: tail(down.stderr) },
            "compose down failed",
          );
        }
      }
      // Whatever compose did not remove (a lost folder, a failed down) goes by label.
      const ids = await remote.containers(false);
      if (ids.length > 0) await remote.must(remote.commands.removeContainers(ids));
      await remote.must(remote.commands.removeFile(remote.layout.currentLink));
      this.opts.logger.info({ projectId, server: remote.server.handle }, "project stopped");
    });
  }

  /** Stops the project on the server of its newest attempt; a removed server forgot its key, so it is passed by. */
  /** The data volume's mount point inside every release's container (see `composeFileText`). */
  dataDir(projectId: string): string {
    parseOrThrow(Id, projectId, "projectId");
    return DATA_MOUNT;
  }

  async teardown(projectId: string, server: Server | null, opts: TeardownOptions): Promise<void> {
    if (!server) return;
    if (server.status === "removed") {
      this.opts.logger.warn({ projectId, serverId: server.id }, "teardown skips a removed server");
      return;
    }
    await this.stop(projectId, server);
    if (!opts.deleteData) return;
    const remote = await this.open(server, projectId, "reachable");
    await this.locks.run(`state:${projectId}`, () => remote.must(remote.commands.removeDataVolume()));
    this.opts.logger.info({ projectId, server: remote.server.handle }, "project data volume deleted");
  }

  /** Compose restarts releases on servers by itself: nothing to bring back. */
  async recover(): Promise<RecoveryReport> {
    return { recovered: [], failed: [] };
  }

  /** Nothing to supervise from here: the servers' engines keep releases running. */
  async maintain(): Promise<void> {}

  async isPortFree(port: number, server: Server | null): Promise<boolean> {
    const checked = parseOrThrow(z.number().int().min(1).max(65_535), port, "port");
    const target = this.usableServer(server, "ready");
    const conn = await this.sessions.executor(target);
    let text = "";
    for (const file of ["/proc/net/tcp", "/proc/net/tcp6"] as const) {
      // A server without IPv6 has no tcp6 table; tcp is always there.
      const read = await conn.exec(readTcpTable(file), this.commandTimeoutMs);
      if (read.code !== 0 && file === "/proc/net/tcp") {
        throw new AppError(
          "unavailable",
          "remote_command_failed",
          `cannot read ${file} on ${target.handle}`,
          {
            details: [{ path: "server", message: tail(read.stderr) }],
          },
        );
      }
      text += read.stdout;
    }
    return !listeningPorts(text).has(checked);
  }

  async isRunning(projectId: string, server: Server | null): Promise<boolean> {
    const remote = await this.open(server, projectId, "reachable");
    return (await remote.containers(true)).length > 0;
  }

  async logs(projectId: string, server: Server | null, lines: number): Promise<string[]> {
    const count = parseOrThrow(z.number().int().min(1).max(10_000), lines, "lines");
    const remote = await this.open(server, projectId, "reachable");
    const [latest] = await remote.containers(false);
    if (!latest) return [];
    const result = await remote.must(remote.commands.logs(latest, count));
    return mergeTimestamped(result.stdout, result.stderr, count);
  }

  async releases(projectId: string, server: Server | null): Promise<Release[]> {
    const remote = await this.open(server, projectId, "reachable");
    return (await remote.readReleases()).map((r) => remote.toRelease(r));
  }

  /**
   * Nothing: a server's releases are pruned by each deploy to it, under the project's lock, and no
   * process holds a server's projects between deploys to prune them without racing the next one.
   */
  async collectReleases(): Promise<number> {
    return 0;
  }

  async prune(projectId: string, server: Server | null, keep: number): Promise<number> {
    const count = parseOrThrow(z.number().int().min(0), keep, "keep");
    return this.pruneReleases(await this.open(server, projectId, "reachable"), count);
  }

  async close(): Promise<void> {
    this.isClosed = true;
    await this.sessions.close();
  }

  private get startTimeoutMs(): number {
    return this.opts.startTimeoutMs ?? START_TIMEOUT_MS;
  }

  /**
   * Removes releases beyond the newest `keep` (never the current one), their images and stray
   * layers; returns how many releases it removed.
   */
  private pruneReleases(remote: RemoteProject, keep: number): Promise<number> {
    const { projectId, commands } = remote;
    return this.locks.run(`state:${projectId}`, async () => {
      const current = await remote.currentRelease();
      const doomed = (await remote.readReleases()).slice(keep).filter((r) => r.id !== current);
      for (const release of doomed) {
        await remote.must(commands.removeTree(remote.layout.releaseDir(release.id)));
        const removed = await remote.run(commands.removeImage(release.image));
        if (removed.code !== 0) {
          this.opts.logger.warn(
            { image: release.image, output: tail(removed.stderr) },
            "cannot remove image",
          );
        }
        this.opts.logger.info({ projectId, release: release.id }, "release pruned");
      }
      await remote.pruneDanglingImages();
      return doomed.length;
    });
  }

  /** Reaches `projectId` on `server` (as `need` allows) through the server's pooled executor. */
  private async open(server: Server | null, projectId: string, need: ServerNeed): Promise<RemoteProject> {
    const target = this.usableServer(server, need);
    return new RemoteProject({
      server: target,
      conn: await this.sessions.executor(target),
      layout: new RemoteLayout(this.remoteRoot, projectId),
      dockerHost: this.opts.dockerHostFor?.(target) ?? null,
      commandTimeoutMs: this.commandTimeoutMs,
      logger: this.opts.logger,
    });
  }

  /** `server`, when this driver is open and the server is given and fit for `need`; else why not. */
  private usableServer(server: Server | null, need: ServerNeed): Server {
    if (this.isClosed) throw new AppError("unavailable", "driver_closed", "the ssh-compose driver is closed");
    if (!server) {
      throw new AppError("invalid", "invalid_input", "the ssh-compose driver deploys to a server", {
        details: [{ path: "server", message: "required" }],
      });
    }
    if (server.status === "removed" || (need === "ready" && server.status !== "ready")) {
      throw new AppError(
        "conflict",
        "server_not_ready",
        `server ${server.handle} is ${server.status}, not ready`,
        {
          details: [{ path: "server.status", message: server.lastError ?? server.status }],
        },
      );
    }
    return server;
  }

  /** How to run Compose on the server, detected once per server. */
  private compose(remote: RemoteProject) {
    return this.sessions.compose(remote.server, remote.conn, remote.commands);
  }
}
