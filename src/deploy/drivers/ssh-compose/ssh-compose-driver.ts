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
import { type ComposeCommand, detectCompose, ServerConnector } from "../../servers/index.js";
import type { ExecResult, SshConnection } from "../../ssh/index.js";
import {
  checkImageRef,
  composeFileText,
  DOCKERIGNORE,
  dockerfileText,
  envFileText,
  PROJECT_LABEL,
} from "./remote-files.js";
import { checkRemoteRoot, ReleaseId, ReleaseRecord, RemoteLayout, releaseIdFor } from "./remote-layout.js";
import { archiveCommit } from "./source-archive.js";

/** The production base image of every release (Node 20 on Debian bookworm, from Docker Hub). */
export const DEFAULT_BASE_IMAGE = "node:20-bookworm-slim";
/** Where projects live on a server. */
export const DEFAULT_REMOTE_ROOT = "/srv/orchestrator";
const BUILD_TIMEOUT_MS = 15 * 60_000;
const START_TIMEOUT_MS = 3 * 60_000;
const COMMAND_TIMEOUT_MS = 60_000;
const OUTPUT_TAIL_CHARS = 4_000;

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

/** One server reached for one call: its connection and the `DOCKER_HOST` of its engine. */
interface Target {
  server: Server;
  conn: SshConnection;
  dockerEnv: Record<string, string>;
}

/** Runs async sections one at a time per key, in call order; a failed section does not block the next. */
class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, section: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(section);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/** The Compose project (and image repository) of a project: `orch-<projectId>`. */
export function composeProjectName(projectId: string): string {
  return `orch-${parseOrThrow(Id, projectId, "project id")}`;
}

function tail(text: string): string {
  return text.trim().slice(-OUTPUT_TAIL_CHARS);
}

/** Removes every value of `env` (3+ characters) from `text`: command output must not carry secrets. */
function scrub(text: string, env: Readonly<Record<string, string>>): string {
  let out = text;
  for (const value of Object.values(env)) if (value.length >= 3) out = out.replaceAll(value, "[redacted]");
  return out;
}

/** `docker logs --timestamps` lines of both streams, in time order, without the timestamps. */
function mergeTimestamped(stdout: string, stderr: string, lines: number): string[] {
  const stamped = [...stdout.split("\n"), ...stderr.split("\n")]
    .filter((line) => line.length > 0)
    .map((line) => {
      const space = line.indexOf(" ");
      return space > 0 ? { at: line.slice(0, space), text: line.slice(space + 1) } : { at: "", text: line };
    });
  stamped.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return stamped.slice(-lines).map((l) => l.text);
}

const BuildInput = z.object({ projectId: Id, commit: CommitSha, manifest: TemplateManifest });
const RunInput = z.object({
  release: z.object({ id: ReleaseId, projectId: Id, commit: CommitSha }),
  env: z.record(z.string(), z.string()),
  port: z.number().int().min(1).max(65_535).nullable(),
  manifest: TemplateManifest,
});

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
      const target = await this.target(spec.server);
      const layout = new RemoteLayout(this.remoteRoot, projectId);
      const existing = (await this.readReleases(target, layout)).find((r) => r.commit === commit);
      if (existing && (await this.hasImage(target, existing.image))) return this.toRelease(existing, layout);
      const id = releaseIdFor(commit, new Date());
      const image = `${composeProjectName(projectId)}:${id}`;
      const log = this.opts.logger.child({ projectId, release: id, server: target.server.handle });
      log.info("release build started");
      const scratch = await mkdtemp(join(tmpdir(), "orch-ssh-release-"));
      try {
        const archive = await archiveCommit(spec.source, commit, scratch);
        await this.must(target, ["mkdir", "-p", layout.file(id, "app")], "mkdir");
        await target.conn.upload(archive, layout.file(id, "source.tar"), 0o644);
        await this.must(
          target,
          ["tar", "-x", "--no-same-owner", "-f", layout.file(id, "source.tar"), "-C", layout.file(id, "app")],
          "tar",
        );
        await this.must(target, ["rm", "-f", layout.file(id, "source.tar")], "rm");
        const compose = await this.compose(target);
        await this.writeReleaseFiles(
          target,
          layout,
          { id, commit, image, manifest, port: null, env: {} },
          compose,
        );
        await target.conn.upload(
          Buffer.from(dockerfileText({ baseImage: this.baseImage, manifest, releaseId: id, commit })),
          layout.file(id, "Dockerfile"),
          0o644,
        );
        await target.conn.upload(Buffer.from(DOCKERIGNORE), layout.file(id, ".dockerignore"), 0o644);
        // v1 drives the classic builder, which leaves a failed step's container unless told not to.
        const buildCommand = compose.flavor === "v1" ? ["build", "--force-rm"] : ["build"];
        const built = await target.conn.exec(this.composeArgv(compose, layout, id, projectId, buildCommand), {
          timeoutMs: this.opts.buildTimeoutMs ?? BUILD_TIMEOUT_MS,
          env: target.dockerEnv,
        });
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
        await target.conn.upload(
          Buffer.from(`${JSON.stringify(record, null, 2)}\n`),
          layout.file(id, "release.json"),
          0o644,
        );
        log.info("release built");
        await this.pruneLocked(target, layout, RELEASES_KEPT);
        return this.toRelease(record, layout);
      } catch (error) {
        log.warn({ err: error }, "release build failed");
        await target.conn
          .exec(["rm", "-rf", layout.releaseDir(id)], { timeoutMs: this.commandTimeout() })
          .catch(() => undefined);
        throw error;
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    });
  }

  async run(spec: RunSpec): Promise<void> {
    const input = parseOrThrow(RunInput, spec, "run spec");
    const { id, projectId } = input.release;
    const target = await this.target(spec.server);
    const layout = new RemoteLayout(this.remoteRoot, projectId);
    await this.locks.run(`state:${projectId}`, async () => {
      const record = await this.readRecord(target, layout, id);
      if (!record) {
        throw new AppError(
          "not_found",
          "release_not_found",
          `release ${id} is not on ${target.server.handle}`,
          {
            details: [{ path: "release.id", message: "build it first" }],
          },
        );
      }
      const compose = await this.compose(target);
      await this.writeReleaseFiles(
        target,
        layout,
        {
          id,
          commit: record.commit,
          image: record.image,
          manifest: input.manifest,
          port: input.port,
          env: input.env,
        },
        compose,
      );
      const up = await target.conn.exec(
        this.composeArgv(compose, layout, id, projectId, ["up", "-d", "--no-build", "--remove-orphans"]),
        { timeoutMs: this.opts.startTimeoutMs ?? START_TIMEOUT_MS, env: target.dockerEnv },
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
      await this.must(target, ["ln", "-sfn", `releases/${id}`, layout.currentLink], "ln");
      this.opts.logger.info(
        { projectId, release: id, server: target.server.handle, port: input.port },
        "release started",
      );
    });
  }

  async stop(projectId: string, server: Server | null): Promise<void> {
    const target = await this.target(server);
    const layout = new RemoteLayout(this.remoteRoot, projectId);
    await this.locks.run(`state:${projectId}`, async () => {
      const current = await this.currentRelease(target, layout);
      if (current && (await this.readRecord(target, layout, current))) {
        const compose = await this.compose(target);
        const down = await target.conn.exec(
          this.composeArgv(compose, layout, current, projectId, ["down", "--remove-orphans"]),
          { timeoutMs: this.opts.startTimeoutMs ?? START_TIMEOUT_MS, env: target.dockerEnv },
        );
        if (down.code !== 0) {
          this.opts.logger.warn(
            { projectId, release: current, output: tail(down.stderr) },
            "compose down failed",
          );
        }
      }
      // Whatever compose did not remove (a lost folder, a failed down) goes by label.
      const ids = await this.containers(target, projectId, false);
      if (ids.length > 0)
        await this.must(target, ["docker", "rm", "-f", ...ids], "docker rm", target.dockerEnv);
      await this.must(target, ["rm", "-f", layout.currentLink], "rm");
      this.opts.logger.info({ projectId, server: target.server.handle }, "project stopped");
    });
  }

  async isRunning(projectId: string, server: Server | null): Promise<boolean> {
    const target = await this.target(server);
    return (await this.containers(target, projectId, true)).length > 0;
  }

  async logs(projectId: string, server: Server | null, lines: number): Promise<string[]> {
    const count = parseOrThrow(z.number().int().min(1).max(10_000), lines, "lines");
    const target = await this.target(server);
    const [latest] = await this.containers(target, projectId, false);
    if (!latest) return [];
    const result = await this.must(
      target,
      ["docker", "logs", "--timestamps", "--tail", String(count), latest],
      "docker logs",
      target.dockerEnv,
    );
    return mergeTimestamped(result.stdout, result.stderr, count);
  }

  async releases(projectId: string, server: Server | null): Promise<Release[]> {
    const target = await this.target(server);
    const layout = new RemoteLayout(this.remoteRoot, projectId);
    return (await this.readReleases(target, layout)).map((r) => this.toRelease(r, layout));
  }

  async prune(projectId: string, server: Server | null, keep: number): Promise<void> {
    const count = parseOrThrow(z.number().int().min(0), keep, "keep");
    const target = await this.target(server);
    const layout = new RemoteLayout(this.remoteRoot, projectId);
    await this.pruneLocked(target, layout, count);
  }

  async close(): Promise<void> {
    this.isClosed = true;
    const open = [...this.connections.values()];
    this.connections.clear();
    await Promise.allSettled(open.map(async (pending) => (await pending).close()));
  }

  /** Removes releases beyond the newest `keep` (never the current one) and their images. */
  private pruneLocked(target: Target, layout: RemoteLayout, keep: number): Promise<void> {
    const { projectId } = layout;
    return this.locks.run(`state:${projectId}`, async () => {
      const current = await this.currentRelease(target, layout);
      const doomed = (await this.readReleases(target, layout)).slice(keep).filter((r) => r.id !== current);
      for (const release of doomed) {
        await this.must(target, ["rm", "-rf", layout.releaseDir(release.id)], "rm");
        const removed = await target.conn.exec(["docker", "image", "rm", release.image], {
          timeoutMs: this.commandTimeout(),
          env: target.dockerEnv,
        });
        if (removed.code !== 0) {
          this.opts.logger.warn(
            { image: release.image, output: tail(removed.stderr) },
            "cannot remove release image",
          );
        }
        this.opts.logger.info({ projectId, release: release.id }, "release pruned");
      }
    });
  }

  /** Uploads the Compose file, the app's `.env` (0600) and an empty `compose.env` for Compose itself. */
  private async writeReleaseFiles(
    target: Target,
    layout: RemoteLayout,
    release: {
      id: string;
      commit: string;
      image: string;
      manifest: TemplateManifest;
      port: number | null;
      env: Record<string, string>;
    },
    compose: ComposeCommand,
  ): Promise<void> {
    const { projectId } = layout;
    const envText = envFileText(release.env, compose.flavor);
    const composeText = composeFileText({
      projectId,
      releaseId: release.id,
      commit: release.commit,
      image: release.image,
      port: release.port,
      manifest: release.manifest,
      buildNetwork: this.opts.buildNetwork ?? null,
    });
    await target.conn.upload(Buffer.from(envText), layout.file(release.id, ".env"), 0o600);
    // Compose reads `.env` beside its file for its own settings (COMPOSE_*, DOCKER_HOST); the app's
    // variables must not steer it, so Compose gets this empty file instead.
    await target.conn.upload(Buffer.alloc(0), layout.file(release.id, "compose.env"), 0o600);
    await target.conn.upload(Buffer.from(composeText), layout.file(release.id, "docker-compose.yml"), 0o644);
  }

  private composeArgv(
    compose: ComposeCommand,
    layout: RemoteLayout,
    id: string,
    projectId: string,
    command: string[],
  ): string[] {
    return [
      ...compose.argv,
      "--project-name",
      composeProjectName(projectId),
      "--env-file",
      layout.file(id, "compose.env"),
      "--file",
      layout.file(id, "docker-compose.yml"),
      ...command,
    ];
  }

  /** Ids of the project's containers (running only, or all), newest first. */
  private async containers(target: Target, projectId: string, isRunningOnly: boolean): Promise<string[]> {
    const argv = ["docker", "ps", "--quiet", "--no-trunc", "--filter", `label=${PROJECT_LABEL}=${projectId}`];
    if (isRunningOnly) argv.push("--filter", "status=running");
    else argv.push("--all");
    const result = await this.must(target, argv, "docker ps", target.dockerEnv);
    return result.stdout.split("\n").filter((line) => /^[0-9a-f]{12,64}$/.test(line.trim()));
  }

  private async hasImage(target: Target, image: string): Promise<boolean> {
    const result = await target.conn.exec(["docker", "image", "inspect", "--format", "{{.Id}}", image], {
      timeoutMs: this.commandTimeout(),
      env: target.dockerEnv,
    });
    return result.code === 0;
  }

  /** The id of the release `current` points at, or null. */
  private async currentRelease(target: Target, layout: RemoteLayout): Promise<string | null> {
    const result = await target.conn.exec(["readlink", layout.currentLink], {
      timeoutMs: this.commandTimeout(),
    });
    const id = result.code === 0 ? result.stdout.trim().replace(/^releases\//, "") : "";
    return ReleaseId.safeParse(id).success ? id : null;
  }

  private async readRecord(target: Target, layout: RemoteLayout, id: string): Promise<ReleaseRecord | null> {
    const data = await target.conn.readFile(layout.file(id, "release.json"));
    if (!data) return null;
    try {
      return ReleaseRecord.parse(JSON.parse(data.toString("utf8")));
    } catch (cause) {
      throw new AppError(
        "internal",
        "release_record_corrupt",
        `release ${id} has an unreadable release.json`,
        {
          cause,
        },
      );
    }
  }

  /** Finished releases (those with `release.json`), newest first. */
  private async readReleases(target: Target, layout: RemoteLayout): Promise<ReleaseRecord[]> {
    const names = (await target.conn.list(layout.releasesDir)) ?? [];
    const records: ReleaseRecord[] = [];
    for (const name of names.filter((n) => ReleaseId.safeParse(n).success)) {
      const record = await this.readRecord(target, layout, name);
      if (record) records.push(record);
    }
    return records.sort((a, b) => (a.builtAt < b.builtAt ? 1 : a.builtAt > b.builtAt ? -1 : 0));
  }

  private toRelease(record: ReleaseRecord, layout: RemoteLayout): Release {
    return {
      id: record.id,
      projectId: record.projectId,
      commit: record.commit,
      location: layout.releaseDir(record.id),
      builtAt: record.builtAt,
    };
  }

  /** Runs a command that must succeed; a failure is `unavailable` naming the step, with its output. */
  private async must(
    target: Target,
    argv: string[],
    step: string,
    env: Record<string, string> = {},
  ): Promise<ExecResult> {
    const result = await target.conn.exec(argv, { timeoutMs: this.commandTimeout(), env });
    if (result.code !== 0) {
      throw new AppError(
        "unavailable",
        "remote_command_failed",
        `${step} failed on ${target.server.handle} (exit ${result.code ?? result.signal})`,
        { details: [{ path: step, message: tail(result.stderr || result.stdout) }] },
      );
    }
    return result;
  }

  private commandTimeout(): number {
    return this.opts.commandTimeoutMs ?? COMMAND_TIMEOUT_MS;
  }

  private async target(server: Server | null): Promise<Target> {
    if (this.isClosed) throw new AppError("unavailable", "driver_closed", "the ssh-compose driver is closed");
    if (!server) {
      throw new AppError("invalid", "invalid_input", "the ssh-compose driver deploys to a server", {
        details: [{ path: "server", message: "required" }],
      });
    }
    if (server.status !== "ready") {
      throw new AppError(
        "conflict",
        "server_not_ready",
        `server ${server.handle} is ${server.status}, not ready`,
        {
          details: [{ path: "server.status", message: server.lastError ?? server.status }],
        },
      );
    }
    const host = this.opts.dockerHostFor?.(server) ?? null;
    return { server, conn: await this.connection(server), dockerEnv: host ? { DOCKER_HOST: host } : {} };
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

  /** How to run Compose on the target's server, detected once per server. */
  private compose(target: Target): Promise<ComposeCommand> {
    const known = this.composeBy.get(target.server.id);
    if (known) return known;
    const detecting = detectCompose(target.conn, {
      dockerHost: target.dockerEnv.DOCKER_HOST ?? null,
      timeoutMs: this.commandTimeout(),
    }).then((found) => {
      if (!found) {
        throw new AppError(
          "unavailable",
          "compose_missing",
          `server ${target.server.handle} has no Docker Compose`,
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
    this.composeBy.set(target.server.id, detecting);
    void detecting.catch(() => this.composeBy.delete(target.server.id));
    return detecting;
  }
}
