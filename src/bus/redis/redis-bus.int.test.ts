import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type TestRedis } from "../../../test/support/redis.js";
import { eventually, runBusConformance } from "../bus.conformance.js";
import type { Delivery } from "../bus.js";
import { RedisStreamsBus } from "./redis-bus.js";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

runBusConformance("RedisStreamsBus", async () => new RedisStreamsBus(redis.url));

const CHILD_SCRIPT = fileURLToPath(new URL("../../../test/support/bus-crash-consumer.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Runs the crash consumer with an allow-listed environment; resolves lines it prints. */
function startCrashConsumer(stream: string, group: string) {
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    BUS_REDIS_URL: redis.url,
    BUS_STREAM: stream,
    BUS_GROUP: group,
  };
  const child = spawn(process.execPath, ["--import", "tsx", CHILD_SCRIPT], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let stderr = "";
  let buffer = "";
  child.stdout?.on("data", (chunk) => {
    buffer += chunk.toString();
    const parts = buffer.split("\n");
    buffer = parts.pop() ?? "";
    lines.push(...parts);
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk.toString();
  });
  return { child, lines, stderr: () => stderr };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

describe("RedisStreamsBus across processes", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("reclaims a message whose consumer process was SIGKILLed mid-handler", async () => {
    const stream = `crash.${Math.random().toString(36).slice(2)}`;
    const bus = new RedisStreamsBus(redis.url);
    cleanups.push(() => bus.close());
    const sent = await bus.publish(stream, { type: "test.crash", payload: { n: 1 } });

    const crash = startCrashConsumer(stream, "workers");
    cleanups.push(async () => {
      crash.child.kill("SIGKILL");
      await exited(crash.child);
    });
    await eventually(
      `child took the message (stderr: ${crash.stderr()})`,
      () => crash.lines.includes(`got ${sent.id} 1`),
      20_000,
    );
    const killedAt = Date.now();
    expect(crash.child.pid).toBeDefined();
    process.kill(crash.child.pid ?? 0, "SIGKILL");
    await exited(crash.child);

    // Redis still holds the delivery as pending on the dead consumer.
    const probe = new Redis(redis.url);
    cleanups.push(async () => {
      await probe.quit();
    });
    const [pendingCount] = (await probe.xpending(stream, "workers")) as [number];
    expect(pendingCount).toBe(1);

    const reclaimIdleMs = 300;
    const got: Delivery[] = [];
    bus.consume(
      stream,
      { group: "workers", consumer: "survivor", reclaimIdleMs, retryBaseMs: 50 },
      async (d) => {
        got.push(d);
      },
    );
    await eventually("survivor reclaimed the message", () => got.length === 1, 5_000);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(reclaimIdleMs - 50);
    expect(got[0]?.envelope).toEqual(sent);
    expect(got[0]?.deliveryCount).toBe(2);
    await eventually("acked", async () => ((await probe.xpending(stream, "workers")) as [number])[0] === 0);
    expect(await bus.deadLetters(stream)).toEqual([]);
  });

  it("keeps the last error in Redis so another process dead-letters with it", async () => {
    const stream = `err.${Math.random().toString(36).slice(2)}`;
    const options = { group: "g", maxDeliveries: 2, retryBaseMs: 30, reclaimIdleMs: 200 };
    const first = new RedisStreamsBus(redis.url);
    const second = new RedisStreamsBus(redis.url);
    cleanups.push(
      () => first.close(),
      () => second.close(),
    );
    const sent = await first.publish(stream, { type: "test.poison", payload: null });
    let firstAttempts = 0;
    const sub = first.consume(stream, { ...options, consumer: "p1" }, async () => {
      firstAttempts++;
      throw new Error("first process failed");
    });
    await eventually("first attempt", () => firstAttempts === 1);
    await sub.stop(1_000);
    // The first process is gone; the second one makes the final attempt.
    second.consume(stream, { ...options, consumer: "p2" }, async () => {
      throw new Error("second process failed");
    });
    await eventually("dead letter", async () => (await second.deadLetters(stream)).length === 1);
    expect(await first.deadLetters(stream)).toEqual([
      { envelope: sent, stream, group: "g", error: "second process failed", deliveryCount: 2 },
    ]);
  });
});
