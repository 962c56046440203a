import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";

/** A throwaway Redis server for one test file. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Saves, shuts the server down, stays down `downMs`, then starts it again on the same port and data. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const START_DEADLINE_MS = 10_000;
const STOP_DEADLINE_MS = 5_000;

/** True when a RESP PING on the port answers PONG. */
function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let answer = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.on("data", (chunk) => {
      answer += chunk.toString();
      if (answer.includes("\r\n")) done(answer.startsWith("+PONG"));
    });
    socket.connect(port, "127.0.0.1", () => socket.write("PING\r\n"));
  });
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts `redis-server` (Debian package) on a free port in a temp dir and waits until it answers
 * PING. Nothing is saved on its own (no snapshots, no append-only file): only `restart` saves, so
 * a restarted server comes back with its data. `stop` shuts it down (SIGTERM, then SIGKILL) and
 * removes the dir.
 */
export async function startRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), "bus-redis-"));
  const port = await freePort();
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
  ];
  let child: ChildProcess;
  let stderr = "";
  const spawnServer = () => {
    stderr = "";
    child = spawn("redis-server", args, { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.on("data", (chunk) => {
      stderr += chunk.toString();
    });
  };
  const halt = async () => {
    child.kill("SIGTERM");
    if (!(await exited(child, STOP_DEADLINE_MS))) {
      child.kill("SIGKILL");
      await exited(child, STOP_DEADLINE_MS);
    }
  };
  const stop = async () => {
    await halt();
    await rm(dir, { recursive: true, force: true });
  };
  const answering = async () => {
    const deadline = Date.now() + START_DEADLINE_MS;
    while (!(await pingOnce(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(
          `redis-server did not start on port ${port}: ${stderr.trim() || "no answer to PING"}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const restart = async (downMs = 0) => {
    // SHUTDOWN SAVE writes dump.rdb in `dir` although no save points are set; the new server loads it.
    await command(port, "SHUTDOWN SAVE");
    if (!(await exited(child, STOP_DEADLINE_MS))) await halt();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    spawnServer();
    await answering();
  };
  spawnServer();
  await answering();
  return { url: `redis://127.0.0.1:${port}`, port, restart, stop };
}

/** Sends one inline command and waits for the server to answer or close the connection. */
function command(port: number, line: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.setTimeout(STOP_DEADLINE_MS, done);
    socket.once("error", done);
    socket.once("close", done);
    socket.once("data", done);
    socket.connect(port, "127.0.0.1", () => socket.write(`${line}\r\n`));
  });
}
