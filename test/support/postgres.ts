/**
 * A throwaway PostgreSQL server for integration suites: a fresh cluster in a temporary directory on
 * a free 127.0.0.1 port, trust auth, fsync off. Each suite starts its own and stops it afterwards,
 * so no test ever depends on a server that happens to be running.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./ports.js";

const run = promisify(execFile);

/** Where Debian puts the server binaries; `PG_BIN` overrides. */
const PG_ROOT = "/usr/lib/postgresql";
const PREFERRED_MAJOR = "15";
const START_TIMEOUT_S = 30;
const START_ATTEMPTS = 3;
/** initdb refuses to run as root, so as root the cluster belongs to this OS user. */
const PG_OS_USER = "postgres";

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/test` */
  url: string;
  /** Creates another empty database on the same server and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /**
   * Stops the server (fast shutdown: clients are disconnected, as on an operator's restart), stays
   * down `downMs`, then starts it again on the same port with the same data.
   */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function binDir(): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv) return fromEnv;
  const preferred = join(PG_ROOT, PREFERRED_MAJOR, "bin");
  if (existsSync(join(preferred, "initdb"))) return preferred;
  const majors = existsSync(PG_ROOT) ? readdirSync(PG_ROOT).sort((a, b) => Number(b) - Number(a)) : [];
  for (const major of majors) {
    const dir = join(PG_ROOT, major, "bin");
    if (existsSync(join(dir, "initdb"))) return dir;
  }
  throw new Error(`PostgreSQL server binaries not found under ${PG_ROOT} (install Debian's postgresql)`);
}

/** Runs a server binary, as the `postgres` OS user when we are root. Arguments, never a shell string. */
function runPg(isRoot: boolean, program: string, args: string[]) {
  const [file, argv] = isRoot ? ["runuser", ["-u", PG_OS_USER, "--", program, ...args]] : [program, args];
  return run(file, argv, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C" } });
}

async function osUserIds(name: string): Promise<{ uid: number; gid: number }> {
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
    run("id", ["-u", name]),
    run("id", ["-g", name]),
  ]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/** Starts a fresh PostgreSQL with an empty `test` database. */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = binDir();
  const isRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), "orch-pg-"));
  const dataDir = join(dir, "data");
  const logFile = join(dir, "server.log");
  const pgCtl = join(bin, "pg_ctl");
  try {
    if (isRoot) {
      const { uid, gid } = await osUserIds(PG_OS_USER);
      await chown(dir, uid, gid);
    }
    await runPg(isRoot, join(bin, "initdb"), [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "-A",
      "trust",
      "--no-sync",
      "-E",
      "UTF8",
    ]);
    let port = 0;
    let options = "";
    const start = () =>
      runPg(isRoot, pgCtl, [
        "start",
        "-D",
        dataDir,
        "-l",
        logFile,
        "-w",
        "-t",
        String(START_TIMEOUT_S),
        "-o",
        options,
      ]);
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      options = [
        `-p ${port}`,
        "-c listen_addresses=127.0.0.1",
        `-c unix_socket_directories=${dir}`,
        "-c fsync=off",
        "-c synchronous_commit=off",
        "-c full_page_writes=off",
        "-c max_connections=100",
      ].join(" ");
      try {
        await start();
        break;
      } catch (error) {
        // Another process may have taken the port between probing and binding: try a new one.
        if (attempt >= START_ATTEMPTS) throw error;
      }
    }
    const base = `postgres://postgres@127.0.0.1:${port}`;
    const createDatabase = async (name: string) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      const client = new pg.Client({ connectionString: `${base}/postgres` });
      await client.connect();
      try {
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      return `${base}/${name}`;
    };
    const url = await createDatabase("test");
    let stopped: Promise<void> | null = null;
    return {
      url,
      createDatabase,
      async restart(downMs = 0) {
        await runPg(isRoot, pgCtl, ["stop", "-D", dataDir, "-m", "fast", "-w"]);
        if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
        await start();
      },
      stop() {
        stopped ??= (async () => {
          await runPg(isRoot, pgCtl, ["stop", "-D", dataDir, "-m", "immediate", "-w"]).catch(() => undefined);
          await rm(dir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  } catch (error) {
    await runPg(isRoot, pgCtl, ["stop", "-D", dataDir, "-m", "immediate"]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
