/**
 * Request and reply across a Redis restart. The clients here give up on a queued command after one
 * failed reconnect, so a restart of a second and a half outlasts their patience as a longer outage
 * outlasts the default client's (about ten seconds of reconnects): what the bus does then is what
 * it does on any outage longer than its client waits.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type TestRedis } from "../../../test/support/redis.js";
import { eventually } from "../bus.conformance.js";
import { RedisStreamsBus } from "./redis-bus.js";

const DOWN_MS = 1_500;
/** Far longer than the restart: a call that lost its reply waits it out and fails. */
const REQUEST_TIMEOUT_MS = 15_000;

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A client that fails a queued command after one failed reconnect (see the file's comment). */
function impatientClient(): Redis {
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  client.on("error", () => undefined);
  cleanups.push(async () => {
    client.disconnect();
  });
  return client;
}

/** The test's own look at Redis, quiet about the restarts it lives through. */
function probeClient(): Redis {
  const client = new Redis(redis.url);
  client.on("error", () => undefined);
  cleanups.push(async () => {
    client.disconnect();
  });
  return client;
}

function busOn(client: Redis | string): RedisStreamsBus {
  const bus = new RedisStreamsBus(client);
  cleanups.push(() => bus.close());
  return bus;
}

const streamName = (what: string) => `${what}.${Math.random().toString(36).slice(2)}`;

describe("RedisStreamsBus across a Redis restart", () => {
  it("delivers a reply written while Redis is down once it is back, and handles the call once", async () => {
    const stream = streamName("reply-down");
    const server = busOn(impatientClient());
    const requester = busOn(redis.url);
    let calls = 0;
    let restarting: Promise<void> | null = null;
    server.consume(stream, { group: "rpc", consumer: "s1", maxDeliveries: 1 }, async ({ envelope }) => {
      calls++;
      restarting = redis.restart(DOWN_MS);
      // Redis is shut down within milliseconds; the reply is written well inside the outage.
      await sleep(DOWN_MS / 3);
      await server.reply(envelope, { type: "test.pong", payload: envelope.payload });
    });
    const reply = await requester.request(stream, { type: "test.ping", payload: 7 }, REQUEST_TIMEOUT_MS);
    expect(reply.payload).toBe(7);
    await restarting;
    expect(calls).toBe(1);
  });

  it("keeps waiting for its reply when the requester's read fails while Redis is down", async () => {
    const stream = streamName("read-down");
    const server = busOn(redis.url);
    const requester = busOn(impatientClient());
    let calls = 0;
    server.consume(stream, { group: "rpc", consumer: "s1", maxDeliveries: 1 }, async ({ envelope }) => {
      calls++;
      // The requester is blocked on its reply stream when Redis goes; the reply comes after.
      await redis.restart(DOWN_MS);
      await server.reply(envelope, { type: "test.pong", payload: envelope.payload });
    });
    const reply = await requester.request(stream, { type: "test.ping", payload: 8 }, REQUEST_TIMEOUT_MS);
    expect(reply.payload).toBe(8);
    expect(calls).toBe(1);
  });

  it("acknowledges a delivery whose handler ended while Redis was down, so it is not delivered again", async () => {
    const stream = streamName("ack-down");
    const consumer = busOn(impatientClient());
    let calls = 0;
    let restarting: Promise<void> | null = null;
    const sent = await consumer.publish(stream, { type: "test.once", payload: null });
    consumer.consume(stream, { group: "g", consumer: "c1", reclaimIdleMs: 60_000 }, async () => {
      calls++;
      restarting = redis.restart(DOWN_MS);
      await sleep(DOWN_MS / 3);
    });
    await eventually("the handler to run", () => restarting !== null);
    await restarting;
    const probe = probeClient();
    await eventually(
      `${sent.id} to be acknowledged`,
      async () => ((await probe.xpending(stream, "g")) as [number])[0] === 0,
      10_000,
    );
    expect(calls).toBe(1);
    expect(await consumer.deadLetters(stream)).toEqual([]);
  });

  it("still gives up on a reply that never comes, at its timeout", async () => {
    const stream = streamName("no-reply");
    const requester = busOn(impatientClient());
    const started = Date.now();
    const pending = requester.request(stream, { type: "test.ping", payload: 9 }, 2_500);
    const outcome = pending.then(
      () => "answered",
      (error: unknown) => error,
    );
    const probe = probeClient();
    // The call is out (Redis restarts under the wait for its reply, not under its sending).
    await eventually("the call to be sent", async () => (await probe.xlen(stream)) === 1);
    await redis.restart(DOWN_MS);
    await eventually(
      "the request to end",
      async () => (await Promise.race([outcome, sleep(10, null)])) !== null,
    );
    expect(await outcome).toMatchObject({ code: "bus_request_timeout" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
  });
});
