import { AppError, type Server, type TemplateManifest } from "../../../contracts/index.js";
import type { Logger } from "../../../observability/index.js";
import type { Release } from "../../driver.js";
import type { ComposeCommand } from "../../servers/index.js";
import type { ExecResult, SshConnection } from "../../ssh/index.js";
import { tail } from "./helpers.js";
import { composeFileText, envFileText, PROJECT_LABEL } from "./remote-files.js";
import { ReleaseId, ReleaseRecord, type RemoteLayout } from "./remote-layout.js";

/** The Compose project (and image repository) of a project: `orch-<projectId>`. */
export function composeProjectName(projectId: string): string {
  return `orch-${projectId}`;
}

/** What the driver knows when it reaches one project on one server. */
export interface RemoteProjectOptions {
  server: Server;
  conn: SshConnection;
  layout: RemoteLayout;
  /** `DOCKER_HOST` for docker and Compose there, or null for the server's default engine. */
  dockerHost: string | null;
  commandTimeoutMs: number;
  logger: Logger;
}

/**
 * One project on one server over one SSH connection: the small remote reads and commands the
 * driver's procedures are made of (docker and Compose always get the server's `DOCKER_HOST`).
 */
export class RemoteProject {
  readonly server: Server;
  readonly conn: SshConnection;
  readonly layout: RemoteLayout;
  readonly dockerEnv: Record<string, string>;

  constructor(private readonly opts: RemoteProjectOptions) {
    this.server = opts.server;
    this.conn = opts.conn;
    this.layout = opts.layout;
    this.dockerEnv = opts.dockerHost ? { DOCKER_HOST: opts.dockerHost } : {};
  }

  get projectId(): string {
    return this.layout.projectId;
  }

  /** Runs a command that must succeed; a failure is `unavailable` naming the step, with its output. */
  async must(argv: string[], step: string, isDocker = false): Promise<ExecResult> {
    const result = await this.exec(argv, this.opts.commandTimeoutMs, isDocker ? this.dockerEnv : {});
    if (result.code !== 0) {
      throw new AppError(
        "unavailable",
        "remote_command_failed",
        `${step} failed on ${this.server.handle} (exit ${result.code ?? result.signal})`,
        { details: [{ path: step, message: tail(result.stderr || result.stdout) }] },
      );
    }
    return result;
  }

  /** Runs docker or Compose with the engine's `DOCKER_HOST`; the exit code is the caller's to judge. */
  docker(argv: string[], timeoutMs = this.opts.commandTimeoutMs): Promise<ExecResult> {
    return this.exec(argv, timeoutMs, this.dockerEnv);
  }

  /** One remote command, its duration logged at debug (the program and its first words only). */
  private async exec(argv: string[], timeoutMs: number, env: Record<string, string>): Promise<ExecResult> {
    const started = performance.now();
    const result = await this.conn.exec(argv, { timeoutMs, env });
    this.opts.logger.debug(
      {
        server: this.server.handle,
        command: argv.slice(0, 3).join(" "),
        code: result.code,
        ms: Math.round(performance.now() - started),
      },
      "remote command",
    );
    return result;
  }

  /** `<compose> --project-name orch-<id> --env-file <compose.env> --file <release compose file> ...command`. */
  composeArgv(compose: ComposeCommand, releaseId: string, command: string[]): string[] {
    return [
      ...compose.argv,
      "--project-name",
      composeProjectName(this.projectId),
      "--env-file",
      this.layout.file(releaseId, "compose.env"),
      "--file",
      this.layout.file(releaseId, "docker-compose.yml"),
      ...command,
    ];
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
    await this.conn.upload(Buffer.from(envText), this.layout.file(release.id, ".env"), 0o600);
    // Compose reads `.env` beside its file for its own settings (COMPOSE_*, DOCKER_HOST); the app's
    // variables must not steer it, so Compose gets this empty file instead.
    await this.conn.upload(Buffer.alloc(0), this.layout.file(release.id, "compose.env"), 0o600);
    await this.conn.upload(
      Buffer.from(composeText),
      this.layout.file(release.id, "docker-compose.yml"),
      0o644,
    );
  }

  /** Ids of the project's containers (running only, or all), newest first. */
  async containers(isRunningOnly: boolean): Promise<string[]> {
    const argv = [
      "docker",
      "ps",
      "--quiet",
      "--no-trunc",
      "--filter",
      `label=${PROJECT_LABEL}=${this.projectId}`,
    ];
    argv.push(...(isRunningOnly ? ["--filter", "status=running"] : ["--all"]));
    const result = await this.must(argv, "docker ps", true);
    return result.stdout.split("\n").filter((line) => /^[0-9a-f]{12,64}$/.test(line.trim()));
  }

  async hasImage(image: string): Promise<boolean> {
    return (await this.docker(["docker", "image", "inspect", "--format", "{{.Id}}", image])).code === 0;
  }

  /** Removes the project's untagged images: layers of failed builds and of replaced releases. */
  async pruneDanglingImages(): Promise<void> {
    const result = await this.docker([
      "docker",
      "image",
      "prune",
      "--force",
      "--filter",
      `label=${PROJECT_LABEL}=${this.projectId}`,
    ]);
    if (result.code !== 0) {
      this.opts.logger.warn(
        { projectId: this.projectId, output: tail(result.stderr) },
        "cannot prune images",
      );
    }
  }

  /** The id of the release `current` points at, or null. */
  async currentRelease(): Promise<string | null> {
    const result = await this.conn.exec(["readlink", this.layout.currentLink], {
      timeoutMs: this.opts.commandTimeoutMs,
    });
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
