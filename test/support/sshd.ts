/**
 * A throwaway OpenSSH server for integration suites: Debian's `sshd` on 127.0.0.1 and a free port,
 * with its own host key, one freshly generated ed25519 client key allowed to log in as root, and
 * everything (config, keys, pid file) in a temporary directory that `stop()` removes.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.js";
import { terminate } from "./processes.js";

const run = promisify(execFile);
const SSHD = "/usr/sbin/sshd";
const START_DEADLINE_MS = 15_000;
const STOP_DEADLINE_MS = 5_000;
/** sshd's privilege separation directory; Debian creates it at boot, a container may not have it. */
const PRIVSEP_DIR = "/run/sshd";
/**
 * Debian's bash sources `~/.bashrc` for commands run by sshd unless it is a nested shell; a root
 * `.bashrc` that does slow work (e.g. `pyenv init`) then costs seconds per command. `SHLVL=1`
 * makes the session's bash level 2, which skips it; programs and quoting are unaffected.
 */
const DEFAULT_SESSION_ENV: Record<string, string> = { SHLVL: "1" };

export interface TestSshd {
  readonly host: string;
  readonly port: number;
  readonly user: "root";
  /** The client's private key (OpenSSH format) that the server accepts. */
  readonly privateKey: string;
  /** The client's public key line (`ssh-ed25519 AAAA... comment`). */
  readonly publicKey: string;
  /** The server's host key fingerprint as `ssh-keygen -l` prints it (`SHA256:...`). */
  readonly hostKeyFingerprint: string;
  /** What sshd wrote to stderr so far (`-e`), for diagnosing a failed login. */
  log(): string;
  stop(): Promise<void>;
}

export interface StartSshdOptions {
  /** Listen on this port (e.g. to restart "the same server" with a new host key); a free one otherwise. */
  port?: number;
  /** Variables sshd sets in every session (`SetEnv`; sshd sets PATH itself, so not PATH). */
  sessionEnv?: Record<string, string>;
  /**
   * Runs every command with this PATH (e.g. a folder without docker, to play a server lacking it),
   * through `ForceCommand`; SFTP is then unavailable.
   */
  sessionPath?: string;
  /** Reuse this client key pair instead of generating one. */
  clientKey?: { privateKey: string; publicKey: string };
}

/** Resolves when something accepts TCP connections on host:port. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function keygen(path: string, comment: string): Promise<{ privateKey: string; publicKey: string }> {
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path]);
  return {
    privateKey: await readFile(path, "utf8"),
    publicKey: (await readFile(`${path}.pub`, "utf8")).trim(),
  };
}

/** Starts sshd and waits until it accepts connections; rejects with its log if it exits first. */
export async function startSshd(options: StartSshdOptions = {}): Promise<TestSshd> {
  await mkdir(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(join(tmpdir(), "orch-sshd-"));
  let child: ChildProcess | null = null;
  let stderr = "";
  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      if (child) await terminate(child, STOP_DEADLINE_MS);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    const host = "127.0.0.1";
    const port = options.port ?? (await freePort());
    const hostKeyPath = join(dir, "ssh_host_ed25519_key");
    await keygen(hostKeyPath, "orchestrator-test-host");
    const { stdout: fingerprintLine } = await run("ssh-keygen", ["-l", "-E", "sha256", "-f", hostKeyPath]);
    const hostKeyFingerprint = fingerprintLine.split(" ")[1] ?? "";
    const client = options.clientKey ?? (await keygen(join(dir, "client_ed25519"), "orchestrator-test"));
    const authorizedKeys = join(dir, "authorized_keys");
    await writeFile(authorizedKeys, `${client.publicKey}\n`, { mode: 0o600 });
    const config = join(dir, "sshd_config");
    const lines = [
      `Port ${port}`,
      `ListenAddress ${host}`,
      `HostKey ${hostKeyPath}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      "PermitRootLogin prohibit-password",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "MaxSessions 32",
      "MaxStartups 32:30:64",
      "Subsystem sftp internal-sftp",
      "LogLevel INFO",
      ...(options.sessionPath
        ? [`ForceCommand PATH='${options.sessionPath}' exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"`]
        : []),
      // One line: like most sshd keywords, only the first `SetEnv` line counts.
      `SetEnv ${Object.entries({ ...DEFAULT_SESSION_ENV, ...options.sessionEnv })
        .map(([name, value]) => `${name}="${value}"`)
        .join(" ")}`,
    ];
    await writeFile(config, `${lines.join("\n")}\n`);
    const sshd = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    child = sshd;
    sshd.stderr?.setEncoding("utf8");
    sshd.stderr?.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-64 * 1024);
    });
    const deadline = Date.now() + START_DEADLINE_MS;
    while (!(await accepts(host, port))) {
      if (sshd.exitCode !== null || sshd.signalCode !== null) {
        throw new Error(`sshd exited (${sshd.exitCode ?? sshd.signalCode}):\n${stderr}`);
      }
      if (Date.now() > deadline)
        throw new Error(`sshd did not listen in ${START_DEADLINE_MS} ms:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return {
      host,
      port,
      user: "root",
      privateKey: client.privateKey,
      publicKey: client.publicKey,
      hostKeyFingerprint,
      log: () => stderr,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
