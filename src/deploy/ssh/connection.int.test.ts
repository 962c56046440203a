import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../test/support/ports.js";
import { startSshd, type TestSshd } from "../../../test/support/sshd.js";
import { AppError } from "../../contracts/index.js";
import { SshConnection, type SshTarget } from "./connection.js";

let sshd: TestSshd;
let conn: SshConnection;
const scratch = mkdtempSync(join(tmpdir(), "orch-ssh-test-"));

function target(over: Partial<SshTarget> = {}): SshTarget {
  return {
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    privateKey: sshd.privateKey,
    hostKey: null,
    ...over,
  };
}

/** How many processes on this machine (the "server") have exactly this command line. */
function processesRunning(cmdline: string): number {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8") === `${cmdline}\u0000`;
      } catch {
        return false;
      }
    }).length;
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

beforeAll(async () => {
  sshd = await startSshd();
  conn = await SshConnection.open(target());
});

afterAll(async () => {
  await conn?.close();
  await sshd?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("SshConnection against a real sshd", () => {
  it("reports the host key it trusted on first use, as ssh-keygen prints it", () => {
    expect(conn.hostKey).toBe(sshd.hostKeyFingerprint);
  });

  it("passes every argument to the remote program exactly, with exit code, stdin and env", async () => {
    const hostile = ["it's", "$(id)", "`id`", "a b", "", "x\ny", "*", "\\", '"q"'];
    const echoed = await conn.exec(["sh", "-c", 'printf "%s\\0" "$@"', "sh", ...hostile], {
      timeoutMs: 10_000,
    });
    expect(echoed.code).toBe(0);
    expect(echoed.stdout.split("\0").slice(0, -1)).toEqual(hostile);

    const failed = await conn.exec(["sh", "-c", "echo oops >&2; exit 3"], { timeoutMs: 10_000 });
    expect(failed).toMatchObject({ code: 3, stdout: "", stderr: "oops\n" });

    const piped = await conn.exec(["cat"], { stdin: "from stdin", timeoutMs: 10_000 });
    expect(piped.stdout).toBe("from stdin");

    const withEnv = await conn.exec(["sh", "-c", 'printf "%s" "$DOCKER_HOST"'], {
      timeoutMs: 10_000,
      env: { DOCKER_HOST: "unix:///tmp/it's.sock" },
    });
    expect(withEnv.stdout).toBe("unix:///tmp/it's.sock");
  });

  it("kills a command that outlives its timeout and stays usable", async () => {
    const error = await failure(conn.exec(["sleep", "37"], { timeoutMs: 300 }));
    expect(error.code).toBe("ssh_command_timeout");
    await expect.poll(() => processesRunning("sleep\u000037"), { timeout: 10_000 }).toBe(0);
    expect((await conn.exec(["true"], { timeoutMs: 10_000 })).code).toBe(0);
  });

  it("uploads files and buffers with exactly the mode asked, replacing what was there", async () => {
    const remote = join(scratch, "remote");
    execFileSync("mkdir", ["-p", remote]);
    const local = join(scratch, "local.txt");
    writeFileSync(local, "from a file");
    await conn.upload(local, join(remote, "file.txt"), 0o644);
    await conn.upload(Buffer.from("SECRET=1\n"), join(remote, ".env"), 0o600);
    await conn.upload(Buffer.from("SECRET=2\n"), join(remote, ".env"), 0o600);
    expect(readFileSync(join(remote, "file.txt"), "utf8")).toBe("from a file");
    expect(readFileSync(join(remote, ".env"), "utf8")).toBe("SECRET=2\n");
    expect(statSync(join(remote, ".env")).mode & 0o777).toBe(0o600);
    expect(statSync(join(remote, "file.txt")).mode & 0o777).toBe(0o644);
    expect((await conn.readFile(join(remote, ".env")))?.toString()).toBe("SECRET=2\n");
    expect(await conn.readFile(join(remote, "missing"))).toBeNull();
    expect((await conn.list(remote))?.sort()).toEqual([".env", "file.txt"]);
    expect(await conn.list(join(remote, "nope"))).toBeNull();
  });

  it("refuses a server whose host key differs from the pinned one", async () => {
    const error = await failure(
      SshConnection.open(target({ hostKey: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" })),
    );
    expect(error.kind).toBe("conflict");
    expect(error.code).toBe("host_key_changed");
    expect(error.message).toContain(sshd.hostKeyFingerprint);
    const pinned = await SshConnection.open(target({ hostKey: sshd.hostKeyFingerprint }));
    await pinned.close();
    expect(pinned.isClosed).toBe(true);
  });

  it("says when the key is refused or the host is unreachable, never showing the key", async () => {
    const other = join(scratch, "other");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    const otherKey = readFileSync(other, "utf8");
    const refused = await failure(SshConnection.open(target({ privateKey: otherKey })));
    expect(refused.code).toBe("ssh_auth_failed");
    const unreachable = await failure(SshConnection.open(target({ port: await freePort() })));
    expect(unreachable.code).toBe("ssh_unreachable");
    for (const error of [refused, unreachable]) {
      const shown = JSON.stringify({
        message: error.message,
        details: error.details,
        cause: String(error.cause),
      });
      for (const key of [otherKey, sshd.privateKey]) {
        for (const line of key.split("\n").filter((l) => l.length > 20)) expect(shown).not.toContain(line);
      }
    }
  });
});
