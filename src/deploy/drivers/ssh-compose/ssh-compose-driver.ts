import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { AppError, Id, parseOrThrow, type Server, TemplateManifest } from "../../../contracts/index.js";
import { CommitSha } from "../../../git/index.js";
import type { Logger } from "../../../observability/index.js";
import type { Vault } from "../../../secrets/index.js";
import type { Store } from "../../../store/index.js";
import {
  type BuildSpec,
  type DeployDriver,
  RELEASES_KEPT,
  type Release,
  type RunSpec,
} from "../../driver.js";
import { KeyedLock } from "../../keyed-lock.js";
import { type ComposeCommand, detectCompose, ServerConnector } from "../../servers/index.js";
import type { SshConnection } from "../../ssh/index.js";
import { mergeTimestamped, scrub, tail } from "./helpers.js";
import { listeningPorts } from "./listening-ports.js";
import { checkImageRef, DOCKERIGNORE, dockerfileText } from "./remote-files.js";
import {
  checkRemoteRoot,
  ReleaseId,
  type ReleaseRecord,
  RemoteLayout,
  releaseIdFor,
} from "./remote-layout.js";
import { composeProjectName, RemoteProject } from "./remote-project.js";
import { archiveCommit } from "./source-archive.js";

/** The production base image of every release (Node 20 on Debian bookworm, from Docker Hub). */
export const DEFAULT_BASE_IMAGE = "node:20-bookworm-slim";
/** Where projects live on a server. */
export const DEFAULT_REMOTE_ROOT = "/srv/orchestrator";
const BUILD_TIMEOUT_MS = 15 * 60_000;
const START_TIMEOUT_MS = 3 * 60_000;
const COMMAND_TIMEOUT_MS = 60_000;

export interface SshComposeDriverOptions {
  store: Store;
  vault: Vault;
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
 * release's container) and points `current` at it. Compose v2 is used where the server has it,
 * v1 otherwise (detected once per server). The last `RELEASES_KEPT` releases stay for rollback.
 */
export class SshComposeDriver implements DeployDriver {
  readonly kind = "ssh-compose" as const;
  private readonly connector: ServerConnector;
  private readonly baseImage: string;
  private readonly remoteRoot: string;
  private readonly connections = new Map<string, Promise<SshConnection>>();
  private readonly composeBy = new Map<string, Promise<ComposeCommand>>();
  private readonly locks = new KeyedLock();
  private isClosed = false;

  constructor(private readonly opts: SshComposeDriverOptions) {
    this.connector = new ServerConnector({ store: opts.store, vault: opts.vault });
    this.baseImage = checkImageRef(opts.baseImage ?? DEFAULT_BASE_IMAGE);
    this.remoteRoot = checkRemoteRoot(opts.remoteRoot ?? DEFAULT_REMOTE_ROOT);
  }

  async build(spec: BuildSpec): Promise<Release> {
    const { projectId, commit, manifest } = parseOrThrow(BuildInput, spec, "build spec");
    return this.locks.run(`build:${projectId}`, async () => {
      const remote = await this.open(spec.server, projectId, "ready");
      const { layout, conn } = remote;
      const existing = (await remote.readReleases()).find((r) => r.commit === commit);
      if (existing && (await remote.hasImage(existing.image))) return remote.toRelease(existing);
      const id = releaseIdFor(commit, new Date());
      const image = `${composeProjectName(projectId)}:${id}`;
      const log = this.opts.logger.child({ projectId, release: id, server: remote.server.handle });
      log.info("release build started");
      const scratch = await mkdtemp(join(tmpdir(), "orch-ssh-release-"));
      try {
        const archive = await archiveCommit(spec.source, commit, scratch);
        await remote.must(["mkdir", "-p", layout.file(id, "app")], "mkdir");
        await conn.upload(archive, layout.file(id, "source.tar"), 0o644);
        const extract = ["tar", "-x", "--no-same-owner", "-f", layout.file(id, "source.tar")];
        await remote.must([...extract, "-C", layout.file(id, "app")], "tar");
        await remote.must(["rm", "-f", layout.file(id, "source.tar")], "rm");
        const compose = await this.compose(remote);
        const buildNetwork = this.opts.buildNetwork ?? null;
        await remote.writeReleaseFiles(
          { id, commit, image, manifest, port: null, env: {}, buildNetwork },
          compose,
        );
        const dockerfile = dockerfileText({
          baseImage: this.baseImage,
          manifest,
          projectId,
          releaseId: id,
          commit,
        });
        await conn.upload(Buffer.from(dockerfile), layout.file(id, "Dockerfile"), 0o644);
        await conn.upload(Buffer.from(DOCKERIGNORE), layout.file(id, ".dockerignore"), 0o644);
        // v1 drives the classic builder, which leaves a failed step's container unless told not to.
        const command = compose.flavor === "v1" ? ["build", "--force-rm"] : ["build"];
        const built = await remote.docker(
          remote.composeArgv(compose, id, command),
          this.opts.buildTimeoutMs ?? BUILD_TIMEOUT_MS,
        );
        if (built.code !== 0) {
          throw new AppError(
            "invalid",
            "build_failed",
            `building release ${id} failed (exit ${built.code})`,
            {
              details: [{ path: "commands", message: tail(`${built.stdout}\n${built.stderr}`) }],
            },
          );
        }
        const record: ReleaseRecord = { id, projectId, commit, image, builtAt: new Date().toISOString() };
        await conn.upload(
          Buffer.from(`${JSON.stringify(record, null, 2)}\n`),
          layout.file(id, "release.json"),
          0o644,
        );
        log.info("release built");
        await this.pruneReleases(remote, RELEASES_KEPT);
        return remote.toRelease(record);
      } catch (error) {
        log.warn({ err: error }, "release build failed");
        await remote.must(["rm", "-rf", layout.releaseDir(id)], "rm").catch(() => undefined);
        await remote.pruneDanglingImages().catch(() => undefined);
        throw error;
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
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
      const up = await remote.docker(
        remote.composeArgv(compose, id, ["up", "-d", "--no-build", "--remove-orphans"]),
        this.opts.startTimeoutMs ?? START_TIMEOUT_MS,
      );
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
      await remote.must(["ln", "-sfn", `releases/${id}`, remote.layout.currentLink], "ln");
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
        const down = await remote.docker(
          remote.composeArgv(compose, current, ["down", "--remove-orphans"]),
          this.opts.startTimeoutMs ?? START_TIMEOUT_MS,
        );
        if (down.code !== 0) {
          this.opts.logger.warn(
            { projectId, release: current, output: tail(down.stderr) },
            "compose down failed",
          );
        }
      }
      // Whatever compose did not remove (a lost folder, a failed down) goes by label.
      const ids = await remote.containers(false);
      if (ids.length > 0) await remote.must(["docker", "rm", "-f", ...ids], "docker rm", true);
      await remote.must(["rm", "-f", remote.layout.currentLink], "rm");
      this.opts.logger.info({ projectId, server: remote.server.handle }, "project stopped");
    });
  }

  async isPortFree(port: number, server: Server | null): Promise<boolean> {
    const checked = parseOrThrow(z.number().int().min(1).max(65_535), port, "port");
    const target = this.usableServer(server, "ready");
    const conn = await this.connection(target);
    let text = "";
    for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
      // A server without IPv6 has no tcp6 table; tcp is always there.
      const read = await conn.exec(["cat", file], {
        timeoutMs: this.opts.commandTimeoutMs ?? COMMAND_TIMEOUT_MS,
      });
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
    const argv = ["docker", "logs", "--timestamps", "--tail", String(count), latest];
    const result = await remote.must(argv, "docker logs", true);
    return mergeTimestamped(result.stdout, result.stderr, count);
  }

  async releases(projectId: string, server: Server | null): Promise<Release[]> {
    const remote = await this.open(server, projectId, "reachable");
    return (await remote.readReleases()).map((r) => remote.toRelease(r));
  }

  async prune(projectId: string, server: Server | null, keep: number): Promise<void> {
    const count = parseOrThrow(z.number().int().min(0), keep, "keep");
    await this.pruneReleases(await this.open(server, projectId, "reachable"), count);
  }

  async close(): Promise<void> {
    this.isClosed = true;
    const open = [...this.connections.values()];
    this.connections.clear();
    await Promise.allSettled(open.map(async (pending) => (await pending).close()));
  }

  /** Removes releases beyond the newest `keep` (never the current one), their images and stray layers. */
  private pruneReleases(remote: RemoteProject, keep: number): Promise<void> {
    const { projectId } = remote;
    return this.locks.run(`state:${projectId}`, async () => {
      const current = await remote.currentRelease();
      const doomed = (await remote.readReleases()).slice(keep).filter((r) => r.id !== current);
      for (const release of doomed) {
        await remote.must(["rm", "-rf", remote.layout.releaseDir(release.id)], "rm");
        const removed = await remote.docker(["docker", "image", "rm", release.image]);
        if (removed.code !== 0) {
          this.opts.logger.warn(
            { image: release.image, output: tail(removed.stderr) },
            "cannot remove image",
          );
        }
        this.opts.logger.info({ projectId, release: release.id }, "release pruned");
      }
      await remote.pruneDanglingImages();
    });
  }

  /** Reaches `projectId` on `server` (as `need` allows) over the server's pooled connection. */
  private async open(server: Server | null, projectId: string, need: ServerNeed): Promise<RemoteProject> {
    const target = this.usableServer(server, need);
    const layout = new RemoteLayout(this.remoteRoot, projectId);
    return new RemoteProject({
      server: target,
      conn: await this.connection(target),
      layout,
      dockerHost: this.opts.dockerHostFor?.(target) ?? null,
      commandTimeoutMs: this.opts.commandTimeoutMs ?? COMMAND_TIMEOUT_MS,
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

  /** The server's pooled connection, reopened when it has dropped. */
  private async connection(server: Server): Promise<SshConnection> {
    const pooled = this.connections.get(server.id);
    if (pooled) {
      const conn = await pooled.catch(() => null);
      if (conn && !conn.isClosed) return conn;
      if (this.connections.get(server.id) === pooled) this.connections.delete(server.id);
    }
    const opening = this.connector.connect(server);
    this.connections.set(server.id, opening);
    void opening.catch(() => {
      if (this.connections.get(server.id) === opening) this.connections.delete(server.id);
    });
    return opening;
  }

  /** How to run Compose on the server, detected once per server. */
  private compose(remote: RemoteProject): Promise<ComposeCommand> {
    const known = this.composeBy.get(remote.server.id);
    if (known) return known;
    const detecting = detectCompose(remote.conn, {
      dockerHost: remote.dockerEnv.DOCKER_HOST ?? null,
      timeoutMs: this.opts.commandTimeoutMs ?? COMMAND_TIMEOUT_MS,
    }).then((found) => {
      if (!found) {
        throw new AppError(
          "unavailable",
          "compose_missing",
          `server ${remote.server.handle} has no Docker Compose`,
          {
            details: [
              {
                path: "server",
                message: "install docker compose (v2) or docker-compose (v1), then check it",
              },
            ],
          },
        );
      }
      return found;
    });
    this.composeBy.set(remote.server.id, detecting);
    void detecting.catch(() => this.composeBy.delete(remote.server.id));
    return detecting;
  }
}
