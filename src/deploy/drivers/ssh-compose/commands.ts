import type { ComposeCommand } from "../../../contracts/index.js";
import { composeProjectName, dataVolumeName, PROJECT_LABEL } from "./remote-files.js";
import type { RemoteLayout } from "./remote-layout.js";

/**
 * One remote step as data (Kamal's habit): a program and its arguments, never a shell string, so a
 * deploy can be shown, checked without a server and run by any `CommandExecutor`.
 */
export interface RemoteCommand {
  /** Names the step in errors and logs (`mkdir`, `compose up`, ...). */
  step: string;
  program: string;
  args: string[];
  /** Non-secret settings for the command (the engine's `DOCKER_HOST`). */
  env?: Record<string, string>;
  /** Written to the command's stdin. */
  stdin?: string;
  /** Bound on the command; the executor's default when absent. */
  timeoutMs?: number;
}

/** One file written on the server as data: its bytes (or the path of a local file), path and mode. */
export interface RemoteUpload {
  path: string;
  data: Buffer | string;
  mode: number;
}

const command = (step: string, argv: string[], env?: Record<string, string>): RemoteCommand => {
  const [program = "", ...args] = argv;
  return env && Object.keys(env).length > 0 ? { step, program, args, env } : { step, program, args };
};

/**
 * The builders of every remote step of the `ssh-compose` driver, for one project on one server:
 * docker and Compose commands carry the server's `DOCKER_HOST`.
 */
export class ComposeCommands {
  constructor(
    private readonly layout: RemoteLayout,
    private readonly dockerEnv: Record<string, string>,
  ) {}

  mkdir(path: string): RemoteCommand {
    return command("mkdir", ["mkdir", "-p", path]);
  }

  /** Unpacks the uploaded `git archive` of a release into its `app` folder. */
  extractSource(releaseId: string): RemoteCommand {
    const tar = this.layout.file(releaseId, "source.tar");
    return command("tar", [
      "tar",
      "-x",
      "--no-same-owner",
      "-f",
      tar,
      "-C",
      this.layout.file(releaseId, "app"),
    ]);
  }

  removeFile(path: string): RemoteCommand {
    return command("rm", ["rm", "-f", path]);
  }

  removeTree(path: string): RemoteCommand {
    return command("rm", ["rm", "-rf", path]);
  }

  /** Points `current` at a release. */
  linkCurrent(releaseId: string): RemoteCommand {
    return command("ln", ["ln", "-sfn", `releases/${releaseId}`, this.layout.currentLink]);
  }

  readCurrent(): RemoteCommand {
    return command("readlink", ["readlink", this.layout.currentLink]);
  }

  /** `<compose> --project-name orch-<id> --env-file <compose.env> --file <release compose file> ...args`. */
  compose(compose: ComposeCommand, releaseId: string, args: string[], timeoutMs?: number): RemoteCommand {
    const argv = [
      ...compose.argv,
      "--project-name",
      composeProjectName(this.layout.projectId),
      "--env-file",
      this.layout.file(releaseId, "compose.env"),
      "--file",
      this.layout.file(releaseId, "docker-compose.yml"),
      ...args,
    ];
    const built = command(`compose ${args[0] ?? ""}`.trim(), argv, this.dockerEnv);
    return timeoutMs === undefined ? built : { ...built, timeoutMs };
  }

  /** Builds a release's image; v1 drives the classic builder, which leaves a failed step's container unless told not to. */
  composeBuild(compose: ComposeCommand, releaseId: string, timeoutMs: number): RemoteCommand {
    return this.compose(
      compose,
      releaseId,
      compose.flavor === "v1" ? ["build", "--force-rm"] : ["build"],
      timeoutMs,
    );
  }

  composeUp(compose: ComposeCommand, releaseId: string, timeoutMs: number): RemoteCommand {
    return this.compose(compose, releaseId, ["up", "-d", "--no-build", "--remove-orphans"], timeoutMs);
  }

  composeDown(compose: ComposeCommand, releaseId: string, timeoutMs: number): RemoteCommand {
    return this.compose(compose, releaseId, ["down", "--remove-orphans"], timeoutMs);
  }

  /** Ids of the project's containers (running only, or all), newest first. */
  ps(isRunningOnly: boolean): RemoteCommand {
    const filter = ["--filter", `label=${PROJECT_LABEL}=${this.layout.projectId}`];
    const which = isRunningOnly ? ["--filter", "status=running"] : ["--all"];
    return command(
      "docker ps",
      ["docker", "ps", "--quiet", "--no-trunc", ...filter, ...which],
      this.dockerEnv,
    );
  }

  logs(container: string, lines: number): RemoteCommand {
    const argv = ["docker", "logs", "--timestamps", "--tail", String(lines), container];
    return command("docker logs", argv, this.dockerEnv);
  }

  removeContainers(ids: string[]): RemoteCommand {
    return command("docker rm", ["docker", "rm", "-f", ...ids], this.dockerEnv);
  }

  inspectImage(image: string): RemoteCommand {
    return command(
      "docker image inspect",
      ["docker", "image", "inspect", "--format", "{{.Id}}", image],
      this.dockerEnv,
    );
  }

  removeImage(image: string): RemoteCommand {
    return command("docker image rm", ["docker", "image", "rm", image], this.dockerEnv);
  }

  /** Removes the project's untagged images: layers of failed builds and of replaced releases. */
  pruneImages(): RemoteCommand {
    const filter = `label=${PROJECT_LABEL}=${this.layout.projectId}`;
    return command(
      "docker image prune",
      ["docker", "image", "prune", "--force", "--filter", filter],
      this.dockerEnv,
    );
  }

  /** Deletes the project's data volume (a teardown the person asked to delete data with); absent is fine. */
  removeDataVolume(): RemoteCommand {
    const volume = dataVolumeName(this.layout.projectId);
    return command("docker volume rm", ["docker", "volume", "rm", "--force", volume], this.dockerEnv);
  }

  /** Asks one Compose candidate (`docker compose` or `docker-compose`) for its version. */
  composeVersion(argv: string[]): RemoteCommand {
    return command("compose version", [...argv, "version", "--short"], this.dockerEnv);
  }
}

/** The kernel's TCP tables: what listens on the server (tcp6 may be absent without IPv6). */
export function readTcpTable(file: "/proc/net/tcp" | "/proc/net/tcp6"): RemoteCommand {
  return command("cat", ["cat", file]);
}
