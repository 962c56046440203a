/** The supervisor of the local driver with real child processes (node scripts) and short backoffs. */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isGone } from "../../../../test/support/processes.js";
import { AppError } from "../../../contracts/index.js";
import { createLogger, SecretRedactor } from "../../../observability/index.js";
import { LineRing } from "./line-ring.js";
import {
  DEFAULT_RESTART_POLICY,
  type RestartPolicy,
  restartDelayMs,
  SupervisedProcess,
} from "./process-supervisor.js";

const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
const FAST: RestartPolicy = { initialDelayMs: 20, maxDelayMs: 80, resetAfterMs: 60_000, maxRestarts: 3 };

let dir = "";
const started: SupervisedProcess[] = [];

function supervise(
  script: string,
  opts: { policy?: RestartPolicy; stopGraceMs?: number; onSpawn?: (pid: number) => void } = {},
) {
  const proc = new SupervisedProcess({
    argv: [process.execPath, "-e", script],
    cwd: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", GREETING: "hello from env" },
    logFile: join(dir, `${started.length}.log`),
    policy: opts.policy ?? FAST,
    stopGraceMs: opts.stopGraceMs ?? 5_000,
    outputLines: 100,
    logger,
    ...(opts.onSpawn ? { onSpawn: opts.onSpawn } : {}),
  });
  started.push(proc);
  return { proc, logFile: join(dir, `${started.length - 1}.log`) };
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i += 1) {
    if (await condition()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "supervisor-"));
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((proc) => proc.stop()));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("restartDelayMs", () => {
  it("doubles from 1 s and caps at 30 s", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 12].map((n) => restartDelayMs(n, DEFAULT_RESTART_POLICY));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });
});

describe("LineRing", () => {
  it("joins lines split across chunks per stream and keeps the newest", () => {
    const ring = new LineRing(3);
    ring.write("out", "a\nb");
    ring.write("err", "x");
    ring.write("out", "c\nd\n");
    ring.flush("err");
    expect(ring.tail(10)).toEqual(["bc", "d", "x"]);
    expect(ring.tail(2)).toEqual(["d", "x"]);
  });
});

describe("SupervisedProcess", () => {
  it("runs with exactly the given environment and captures output into the ring and the log", async () => {
    const { proc, logFile } = supervise(
      "console.log(process.env.GREETING); console.error(Object.keys(process.env).sort().join(',')); setInterval(() => {}, 1000)",
    );
    await proc.start();
    expect(proc.isAlive).toBe(true);
    await until(() => proc.output.tail(10).length >= 2, "output");
    expect(proc.output.tail(10)).toEqual(expect.arrayContaining(["hello from env", "GREETING,PATH"]));
    await proc.stop();
    const log = await readFile(logFile, "utf8");
    expect(log).toContain("hello from env\n");
    expect(log).toContain("exited (signal SIGTERM)");
  });

  it("restarts a crashing command with backoff and gives up after maxRestarts in a row", async () => {
    const pids: number[] = [];
    const { proc, logFile } = supervise("console.log('booting'); process.exit(3)", {
      onSpawn: (pid) => pids.push(pid),
    });
    await proc.start();
    await until(() => proc.state === "crashed", "the supervisor to give up");
    expect(proc.crashes).toBe(FAST.maxRestarts + 1);
    expect(pids).toHaveLength(FAST.maxRestarts + 1);
    expect(new Set(pids).size).toBe(pids.length);
    expect(proc.isAlive).toBe(false);
    const lines = proc.output.tail(100);
    expect(lines.filter((line) => line === "booting")).toHaveLength(4);
    expect(lines.filter((line) => / restart \d in \d+ ms$/.test(line))).toHaveLength(3);
    expect(lines.at(-1)).toMatch(/gave up after 3 restarts in a row$/);
    await proc.stop();
    expect((await readFile(logFile, "utf8")).match(/^booting$/gm)).toHaveLength(4);
  });

  it("forgives past exits after enough uptime, so a long-lived service is never given up on", async () => {
    const policy: RestartPolicy = { initialDelayMs: 20, maxDelayMs: 20, resetAfterMs: 200, maxRestarts: 1 };
    const { proc } = supervise("setTimeout(() => process.exit(1), 300)", { policy });
    await proc.start();
    await until(() => proc.crashes >= 3, "three exits");
    expect(proc.state).not.toBe("crashed");
  });

  it("brings a killed process back", async () => {
    const { proc } = supervise("setInterval(() => {}, 1000)");
    await proc.start();
    const first = proc.pid;
    expect(first).not.toBeNull();
    process.kill(first as number, "SIGKILL");
    await until(() => proc.pid !== null && proc.pid !== first, "a new process");
    expect(proc.crashes).toBe(1);
    expect(proc.state).toBe("running");
  });

  it("stop ends the whole process group, escalating to SIGKILL when SIGTERM is ignored", async () => {
    const script = `
      const { spawn } = require("node:child_process");
      const child = spawn(process.execPath, ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: "ignore" });
      process.on("SIGTERM", () => {});
      console.log("grandchild " + child.pid);
      setInterval(() => {}, 1000);`;
    const { proc } = supervise(script, { stopGraceMs: 300 });
    await proc.start();
    const leader = proc.pid as number;
    await until(() => proc.output.tail(1)[0]?.startsWith("grandchild ") ?? false, "the grandchild");
    const grandchild = Number(proc.output.tail(1)[0]?.split(" ")[1]);
    await proc.stop();
    expect(proc.state).toBe("stopped");
    expect(proc.isAlive).toBe(false);
    await until(async () => (await isGone(leader)) && (await isGone(grandchild)), "the group to be gone");
    expect(proc.crashes).toBe(0);
  });

  it("a program that cannot start is start_failed and leaves nothing running", async () => {
    const proc = new SupervisedProcess({
      argv: ["/nonexistent/program"],
      cwd: dir,
      env: {},
      logFile: join(dir, "missing.log"),
      policy: FAST,
      stopGraceMs: 100,
      outputLines: 10,
      logger,
    });
    const error = await proc.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("start_failed");
    expect(proc.state).toBe("stopped");
    await sleep(100);
    expect(proc.crashes).toBe(0);
  });
});
