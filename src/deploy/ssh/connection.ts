import { createHash, randomBytes } from "node:crypto";
import { posix } from "node:path";
import ssh2, { type ClientChannel, type SFTPWrapper } from "ssh2";
import { AppError } from "../../contracts/index.js";
import { checkPrivateKey } from "./private-key.js";
import { shellCommand } from "./quote.js";

const DEFAULT_READY_TIMEOUT_MS = 20_000;
const CLOSE_DEADLINE_MS = 5_000;
const KEEPALIVE_INTERVAL_MS = 15_000;
const KEEPALIVE_COUNT_MAX = 4;
/** Output kept per stream of one command (the tail survives; a build log can be long). */
const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
/** Seconds the remote `timeout` waits after its polite signal before it kills the command. */
const REMOTE_KILL_AFTER_S = 5;
/** SFTP status code for a missing file. */
const SFTP_NO_SUCH_FILE = 2;

/** Where to connect and how to prove who we are; `hostKey` pins the server (null: accept and report). */
export interface SshTarget {
  host: string;
  port: number;
  user: string;
  /** OpenSSH or PEM private key text. Never logged, never put into an error. */
  privateKey: string;
  /** Expected host key fingerprint (`SHA256:...`); null trusts the first key seen (read `hostKey` after). */
  hostKey: string | null;
  readyTimeoutMs?: number;
}

export interface ExecOptions {
  /** Written to the command's stdin, which is then closed (a secret may travel this way). */
  stdin?: string | Buffer;
  /** The command is killed and the call fails with `ssh_command_timeout` after this long. */
  timeoutMs: number;
  /** Non-secret settings for the command (`env NAME=value` on the command line), e.g. `DOCKER_HOST`. */
  env?: Record<string, string>;
  maxOutputBytes?: number;
}

export interface ExecResult {
  /** Exit code; null when the command died of a signal. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** `SHA256:<base64 without padding>` of a public key blob, as `ssh-keygen -l` prints it. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** Keeps the last `max` bytes of a stream. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.max && this.chunks.length > 1) {
      this.size -= (this.chunks.shift() as Buffer).length;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString("utf8");
  }
}

/**
 * One SSH connection (ssh2) to a server: commands as argument arrays (quoted for the remote shell,
 * never built from unquoted text), file transfer over SFTP, and a pinned host key (trust on first
 * use: with `hostKey` null the key is accepted and exposed as `hostKey` for the caller to record;
 * with a pin a different key fails with `conflict` `host_key_changed`). The private key never
 * appears in an error or a log line.
 */
export class SshConnection {
  private sftpSession: Promise<SFTPWrapper> | null = null;
  private isClosedFlag = false;
  private readonly closed: Promise<void>;

  private constructor(
    private readonly client: ssh2.Client,
    /** The fingerprint of the key the server presented (`SHA256:...`). */
    readonly hostKey: string,
    /** `user@host:port`, for messages. */
    readonly label: string,
  ) {
    this.closed = new Promise((resolve) => client.once("close", () => resolve()));
    client.on("close", () => {
      this.isClosedFlag = true;
    });
    // After the handshake, errors surface through the calls that were in flight; keep the process alive.
    client.on("error", () => undefined);
  }

  /** True once the connection has ended (closed here, by the server, or by a network failure). */
  get isClosed(): boolean {
    return this.isClosedFlag;
  }

  /** Connects and authenticates; fails with `host_key_changed`, `ssh_auth_failed`, `ssh_timeout` or `ssh_unreachable`. */
  static open(target: SshTarget): Promise<SshConnection> {
    checkPrivateKey(target.privateKey, "privateKey");
    const label = `${target.user}@${target.host}:${target.port}`;
    const client = new ssh2.Client();
    let seen: string | null = null;
    let isMismatch = false;
    return new Promise((resolve, reject) => {
      client.once("ready", () => {
        client.removeAllListeners("error");
        resolve(new SshConnection(client, seen ?? "", label));
      });
      client.once("error", (error: Error & { level?: string; code?: string }) => {
        client.end();
        if (isMismatch) {
          reject(
            new AppError(
              "conflict",
              "host_key_changed",
              `the SSH host key of ${label} changed (expected ${target.hostKey}, got ${seen}); if the server was reinstalled, register it again`,
              { details: [{ path: "hostKey", message: `server presented ${seen}` }] },
            ),
          );
          return;
        }
        reject(connectError(label, error));
      });
      try {
        client.connect({
          host: target.host,
          port: target.port,
          username: target.user,
          privateKey: target.privateKey,
          readyTimeout: target.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
          keepaliveInterval: KEEPALIVE_INTERVAL_MS,
          keepaliveCountMax: KEEPALIVE_COUNT_MAX,
          hostVerifier: (key: Buffer) => {
            seen = hostKeyFingerprint(key);
            isMismatch = target.hostKey !== null && target.hostKey !== seen;
            return !isMismatch;
          },
        });
      } catch (cause) {
        // ssh2 throws synchronously on a config it cannot use; its message never holds the key.
        reject(new AppError("invalid", "ssh_config_invalid", `cannot connect to ${label}`, { cause }));
      }
    });
  }

  /**
   * Runs `argv` on the server and resolves with its exit code and output (a non-zero code is a
   * result, not an error). Fails with `ssh_command_timeout` when it outlives `timeoutMs` (the
   * command is ended on the server too) and `ssh_connection_lost` when the connection drops first.
   */
  exec(argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
    // sshd does not end a command when its channel closes, so the server's own `timeout` (coreutils
    // or busybox) bounds it too: it signals the command's whole process group, then kills it.
    const seconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
    const command = shellCommand(
      ["timeout", "-k", String(REMOTE_KILL_AFTER_S), String(seconds), ...argv],
      options.env,
    );
    const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, channel) => {
        if (error) {
          reject(this.lost(argv, error));
          return;
        }
        const stdout = new TailBuffer(max);
        const stderr = new TailBuffer(max);
        let exit: { code: number | null; signal: string | null } | null = null;
        let isTimedOut = false;
        const timer = setTimeout(() => {
          isTimedOut = true;
          killChannel(channel);
          // sshd closes a channel only once its command exits, so do not wait for that.
          reject(
            new AppError(
              "unavailable",
              "ssh_command_timeout",
              `${argv[0]} on ${this.label} did not finish in ${options.timeoutMs} ms`,
              { details: [{ path: "argv", message: stderr.text().slice(-2000) }] },
            ),
          );
        }, options.timeoutMs);
        channel.on("data", (chunk: Buffer) => stdout.push(chunk));
        channel.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
        channel.on("exit", (code: number | null, signal?: string) => {
          exit = { code: typeof code === "number" ? code : null, signal: signal ?? null };
        });
        channel.once("close", () => {
          clearTimeout(timer);
          if (isTimedOut) return;
          if (exit === null) {
            reject(this.lost(argv, null));
          } else {
            resolve({ ...exit, stdout: stdout.text(), stderr: stderr.text() });
          }
        });
        if (options.stdin !== undefined) channel.end(options.stdin);
        else channel.end();
      });
    });
  }

  /**
   * Writes a local file (by path) or a buffer to `remotePath` with exactly `mode`: into a fresh
   * temporary file created with that mode (so the content is never more readable than asked), then
   * renamed over the target. The folder must exist.
   */
  async upload(source: string | Buffer, remotePath: string, mode: number): Promise<void> {
    const sftp = await this.sftp();
    const temporary = posix.join(
      posix.dirname(remotePath),
      `.${posix.basename(remotePath)}.${randomBytes(6).toString("hex")}.tmp`,
    );
    try {
      await new Promise<void>((resolve, reject) => {
        const done = (error?: Error | null) => (error ? reject(error) : resolve());
        if (typeof source === "string") sftp.fastPut(source, temporary, { mode }, done);
        else sftp.writeFile(temporary, source, { mode, flag: "wx" }, done);
      });
      // The server's umask may have narrowed the mode at creation; chmod sets it exactly.
      await new Promise<void>((resolve, reject) =>
        sftp.chmod(temporary, mode, (error) => (error ? reject(error) : resolve())),
      );
      await new Promise<void>((resolve, reject) =>
        sftp.ext_openssh_rename(temporary, remotePath, (error) => (error ? reject(error) : resolve())),
      );
    } catch (cause) {
      await new Promise<void>((resolve) => sftp.unlink(temporary, () => resolve()));
      throw new AppError("unavailable", "ssh_upload_failed", `cannot write ${remotePath} on ${this.label}`, {
        cause,
        details: [{ path: "remotePath", message: (cause as Error).message }],
      });
    }
  }

  /** A remote file's content, or null when it does not exist. */
  async readFile(remotePath: string): Promise<Buffer | null> {
    const sftp = await this.sftp();
    return new Promise((resolve, reject) => {
      sftp.readFile(remotePath, (error: (Error & { code?: number }) | undefined, data: Buffer) => {
        if (!error) resolve(data);
        else if (error.code === SFTP_NO_SUCH_FILE) resolve(null);
        else
          reject(
            new AppError("unavailable", "ssh_read_failed", `cannot read ${remotePath}`, { cause: error }),
          );
      });
    });
  }

  /** Names in a remote folder (without `.` and `..`), or null when the folder does not exist. */
  async list(remoteDir: string): Promise<string[] | null> {
    const sftp = await this.sftp();
    return new Promise((resolve, reject) => {
      sftp.readdir(remoteDir, (error: (Error & { code?: number }) | undefined, entries) => {
        if (!error) resolve(entries.map((e) => e.filename).filter((n) => n !== "." && n !== ".."));
        else if (error.code === SFTP_NO_SUCH_FILE) resolve(null);
        else
          reject(
            new AppError("unavailable", "ssh_read_failed", `cannot list ${remoteDir}`, { cause: error }),
          );
      });
    });
  }

  /** Ends the connection (idempotent); waits for it to close, then drops the socket after a deadline. */
  async close(): Promise<void> {
    if (this.isClosedFlag) return;
    this.client.end();
    const timer = new Promise<"late">((resolve) =>
      setTimeout(() => resolve("late"), CLOSE_DEADLINE_MS).unref(),
    );
    if ((await Promise.race([this.closed, timer])) === "late") this.client.destroy();
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise<SFTPWrapper>((resolve, reject) => {
      this.client.sftp((error, sftp) => {
        if (error) {
          this.sftpSession = null;
          reject(
            new AppError("unavailable", "ssh_sftp_unavailable", `no SFTP on ${this.label}`, { cause: error }),
          );
          return;
        }
        sftp.once("close", () => {
          this.sftpSession = null;
        });
        resolve(sftp);
      });
    });
    return this.sftpSession;
  }

  private lost(argv: readonly string[], cause: Error | null): AppError {
    return new AppError(
      "unavailable",
      "ssh_connection_lost",
      `the connection to ${this.label} ended while running ${argv[0]}`,
      { cause },
    );
  }
}

function killChannel(channel: ClientChannel): void {
  try {
    channel.signal("KILL");
  } catch {
    // Servers may refuse signals; closing the channel ends the session either way.
  }
  channel.close();
}

/** Maps an ssh2 connection failure to an `unavailable` error saying what failed (never the key). */
function connectError(label: string, error: Error & { level?: string; code?: string }): AppError {
  if (error.level === "client-authentication") {
    return new AppError("unavailable", "ssh_auth_failed", `${label} did not accept the SSH key`, {
      cause: error,
      details: [{ path: "privateKey", message: "authentication failed" }],
    });
  }
  if (error.level === "client-timeout") {
    return new AppError("unavailable", "ssh_timeout", `${label} did not complete the SSH handshake in time`, {
      cause: error,
    });
  }
  return new AppError("unavailable", "ssh_unreachable", `cannot reach ${label}: ${error.message}`, {
    cause: error,
    details: [{ path: "host", message: error.code ?? error.message }],
  });
}
