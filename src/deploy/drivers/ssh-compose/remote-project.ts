import {
  AppError,
  type ComposeCommand,
  type Server,
  type TemplateManifest,
} from "../../../contracts/index.js";
import type { Logger } from "../../../observability/index.js";
import type { Release } from "../../driver.js";
import type { ExecResult } from "../../ssh/index.js";
import { ComposeCommands, type RemoteCommand } from "./commands.js";
import type { CommandExecutor } from "./executor.js";
import { tail } from "./helpers.js";
import { composeFileText, envFileText } from "./remote-files.js";
import { ReleaseId, ReleaseRecord, type RemoteLayout } from "./remote-layout.js";

/** What the driver knows when it reaches one project on one server. */
export interface RemoteProjectOptions {
  server: Server;
  conn: CommandExecutor;
  layout: RemoteLayout;
  /** `DOCKER_HOST` for docker and Compose there, or null for the server's default engine. */
  dockerHost: string | null;
  commandTimeoutMs: number;
  logger: Logger;
}

/**
 * One project on one server through one executor: the small remote reads and commands the
 * driver's procedures are made of, each built as data by `ComposeCommands` first.
 */
export class RemoteProject {
  readonly server: Server;
  readonly conn: CommandExecutor;
  readonly layout: RemoteLayout;
  readonly dockerEnv: Record<string, string>;
  readonly commands: ComposeCommands;

  constructor(private readonly opts: RemoteProjectOptions) {
    this.server = opts.server;
    this.conn = opts.conn;
    this.layout = opts.layout;
    this.dockerEnv = opts.dockerHost ? { DOCKER_HOST: opts.dockerHost } : {};
    this.commands = new ComposeCommands(opts.layout, this.dockerEnv);
  }

  get projectId(): string {
    return this.layout.projectId;
  }

  /** Runs a command that must succeed; a failure is `unavailable` naming the step, with its output. */
  async must(command: RemoteCommand): Promise<ExecResult> {
    const result = await this.run(command);
    if (result.code !== 0) {
      throw new AppError(
        "unavailable",
        "remote_command_failed",
        `${command.step} failed on ${this.server.handle} (exit ${result.code ?? result.signal})`,
        { details: [{ path: command.step, message: tail(result.stderr || result.stdout) }] },
      );
    }
    return result;
  }

  /** Runs one command, its duration logged at debug (the program and its first words only); the exit code is the caller's to judge. */
  async run(command: RemoteCommand): Promise<ExecResult> {
    const started = performance.now();
    const result = await this.conn.exec(command, this.opts.commandTimeoutMs);
    this.opts.logger.debug(
      {
        server: this.server.handle,
        command: [command.program, ...command.args.slice(0, 2)].join(" "),
        code: result.code,
        ms: Math.round(performance.now() - started),
      },
      "remote command",
    );
    return result;
  }

  /** Writes one file on the server (bytes, or a local file by its path). */
  upload(path: string, data: Buffer | string, mode: number): Promise<void> {
    return this.conn.upload({ path, data, mode });
  }

  /** Uploads the Compose file, the app's `.env` (0600) and an empty `compose.env` for Compose itself. */
  async writeReleaseFiles(
    release: {
      id: string;
      commit: string;
      image: string;
      manifest: TemplateManifest;
      port: number | null;
      env: Record<string, string>;
      buildNetwork: string | null;
    },
    compose: ComposeCommand,
  ): Promise<void> {
    const envText = envFileText(release.env, compose.flavor);
    const composeText = composeFileText({
      projectId: this.projectId,
      releaseId: release.id,
      commit: release.commit,
      image: release.image,
      port: release.port,
      manifest: release.manifest,
      buildNetwork: release.buildNetwork,
    });
    await this.upload(this.layout.file(release.id, ".env"), Buffer.from(envText), 0o600);
    // Compose reads `.env` beside its file for its own settings (COMPOSE_*, DOCKER_HOST); the app's
    // variables must not steer it, so Compose gets this empty file instead.
    await this.upload(this.layout.file(release.id, "compose.env"), Buffer.alloc(0), 0o600);
    await this.upload(this.layout.file(release.id, "docker-compose.yml"), Buffer.from(composeText), 0o644);
  }

  /** Ids of the project's containers (running only, or all), newest first. */
  async containers(isRunningOnly: boolean): Promise<string[]> {
    const result = await this.must(this.commands.ps(isRunningOnly));
    return result.stdout.split("\n").filter((line) => /^[0-9a-f]{12,64}$/.test(line.trim()));
  }

  async hasImage(image: string): Promise<boolean> {
    return (await this.run(this.commands.inspectImage(image))).code === 0;
  }

  /** Removes the project's untagged images: layers of failed builds and of replaced releases. */
  async pruneDanglingImages(): Promise<void> {
    const result = await this.run(this.commands.pruneImages());
    if (result.code !== 0) {
      this.opts.logger.warn(
        { projectId: this.projectId, output: tail(result.stderr) },
        "cannot prune images",
      );
    }
  }

  /** The id of the release `current` points at, or null. */
  async currentRelease(): Promise<string | null> {
    const result = await this.run(this.commands.readCurrent());
    const id = result.code === 0 ? result.stdout.trim().replace(/^releases\//, "") : "";
    return ReleaseId.safeParse(id).success ? id : null;
  }

  /** A finished release's `release.json`, or null when the release is absent or half built. */
  async readRecord(id: string): Promise<ReleaseRecord | null> {
    const data = await this.conn.readFile(this.layout.file(id, "release.json"));
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

  /** Finished releases, newest first. */
  async readReleases(): Promise<ReleaseRecord[]> {
    const names = (await this.conn.list(this.layout.releasesDir)) ?? [];
    const records: ReleaseRecord[] = [];
    for (const name of names.filter((n) => ReleaseId.safeParse(n).success)) {
      const record = await this.readRecord(name);
      if (record) records.push(record);
    }
    return records.sort((a, b) => (a.builtAt < b.builtAt ? 1 : a.builtAt > b.builtAt ? -1 : 0));
  }

  toRelease(record: ReleaseRecord): Release {
    return {
      id: record.id,
      projectId: record.projectId,
      commit: record.commit,
      location: this.layout.releaseDir(record.id),
      builtAt: record.builtAt,
    };
  }
}
