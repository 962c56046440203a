import type { Server } from "../../../contracts/index.js";
import type { ExecResult, SshConnection } from "../../ssh/index.js";
import type { RemoteCommand, RemoteUpload } from "./commands.js";

/**
 * Runs remote steps built as data on one server: commands, uploads and the few reads the driver
 * makes. `SshExecutor` does it over SSH; `RecordingExecutor` records them for tests.
 */
export interface CommandExecutor {
  /** Runs `command`; the exit code is the caller's to judge. */
  exec(command: RemoteCommand, defaultTimeoutMs: number): Promise<ExecResult>;
  upload(file: RemoteUpload): Promise<void>;
  /** A file's bytes, or null when it is absent. */
  readFile(path: string): Promise<Buffer | null>;
  /** A folder's entry names, or null when it is absent. */
  list(path: string): Promise<string[] | null>;
  readonly isClosed: boolean;
  close(): Promise<void>;
}

/**
 * How the `ssh-compose` driver reaches a server: built by the composition root (from the servers'
 * stored keys), so the driver never sees the store or the vault.
 */
export interface DeployConnector {
  connect(server: Server): Promise<CommandExecutor>;
}

/** Executes commands over one SSH connection (argument arrays quoted for the remote shell). */
export class SshExecutor implements CommandExecutor {
  constructor(private readonly conn: SshConnection) {}

  exec(command: RemoteCommand, defaultTimeoutMs: number): Promise<ExecResult> {
    return this.conn.exec([command.program, ...command.args], {
      timeoutMs: command.timeoutMs ?? defaultTimeoutMs,
      ...(command.env ? { env: command.env } : {}),
      ...(command.stdin !== undefined ? { stdin: command.stdin } : {}),
    });
  }

  upload(file: RemoteUpload): Promise<void> {
    return this.conn.upload(file.data, file.path, file.mode);
  }

  readFile(path: string): Promise<Buffer | null> {
    return this.conn.readFile(path);
  }

  list(path: string): Promise<string[] | null> {
    return this.conn.list(path);
  }

  get isClosed(): boolean {
    return this.conn.isClosed;
  }

  close(): Promise<void> {
    return this.conn.close();
  }
}

/** A connector over SSH from anything that opens a server's connection (the servers' `ServerConnector`). */
export function sshDeployConnector(ssh: {
  connect(server: Server): Promise<SshConnection>;
}): DeployConnector {
  return { connect: async (server) => new SshExecutor(await ssh.connect(server)) };
}

/** What `RecordingExecutor` answers a command with (exit 0 and no output when no rule matches). */
export type CommandReply = (command: RemoteCommand) => Partial<ExecResult> | undefined;

/**
 * A server on paper: records every command and upload in order, keeps uploaded files so they can
 * be read back, and answers commands from `reply`. The deploy a driver would run, as data.
 */
export class RecordingExecutor implements CommandExecutor {
  readonly commands: RemoteCommand[] = [];
  readonly uploads: RemoteUpload[] = [];
  /** Uploaded bytes by remote path (a local file's upload holds its path's bytes as text). */
  readonly files = new Map<string, Buffer>();
  isClosed = false;

  constructor(private readonly reply: CommandReply = () => undefined) {}

  /** Each command as the argument array a shell would see. */
  get argvs(): string[][] {
    return this.commands.map((c) => [c.program, ...c.args]);
  }

  async exec(command: RemoteCommand): Promise<ExecResult> {
    this.commands.push(command);
    return { code: 0, signal: null, stdout: "", stderr: "", ...this.reply(command) };
  }

  async upload(file: RemoteUpload): Promise<void> {
    this.uploads.push(file);
    this.files.set(file.path, typeof file.data === "string" ? Buffer.from(file.data) : file.data);
  }

  async readFile(path: string): Promise<Buffer | null> {
    return this.files.get(path) ?? null;
  }

  async list(path: string): Promise<string[] | null> {
    const prefix = `${path.replace(/\/$/, "")}/`;
    const names = [...this.files.keys()]
      .filter((p) => p.startsWith(prefix))
      .map((p) => p.slice(prefix.length).split("/")[0] ?? "");
    return names.length > 0 ? [...new Set(names)] : null;
  }

  async close(): Promise<void> {
    this.isClosed = true;
  }
}
