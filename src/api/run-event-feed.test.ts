import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "../../test/support/until.js";
import { type Bus, InProcessBus } from "../bus/index.js";
import type { RunEvent } from "../contracts/index.js";
import { RUN_EVENTS_STREAM } from "../events/index.js";
import { RunEventFeed } from "./run-event-feed.js";

/** An in-process bus whose tails are counted while they run. */
function countingBus(): { bus: Bus; running: () => number; started: () => number } {
  const bus = new InProcessBus();
  let running = 0;
  let started = 0;
  const tail = bus.tail.bind(bus);
  bus.tail = (stream, handler) => {
    const sub = tail(stream, handler);
    running++;
    started++;
    return {
      ready: sub.ready,
      stop: async (deadlineMs) => {
        running--;
        await sub.stop(deadlineMs);
      },
    };
  };
  return { bus, running: () => running, started: () => started };
}

const logOf = (runId: string, seq: number) => ({
  seq,
  runId,
  at: new Date().toISOString(),
  type: "run.log",
  data: { message: `event ${seq}` },
});

let buses: Bus[] = [];
afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.close();
});

describe("RunEventFeed", () => {
  it("shares one tail between followers, gives each only its run's events, stops with the last", async () => {
    const counting = countingBus();
    buses = [counting.bus];
    const feed = new RunEventFeed(counting.bus);
    const runA = randomUUID();
    const runB = randomUUID();
    const got: Record<string, number[]> = { a1: [], a2: [], b: [] };
    const follower = (name: string) => (event: RunEvent) => got[name]?.push(event.seq);
    const a1 = feed.follow(runA, follower("a1"));
    const a2 = feed.follow(runA, follower("a2"));
    const b = feed.follow(runB, follower("b"));
    await Promise.all([a1.ready, a2.ready, b.ready]);
    expect(counting.running()).toBe(1);

    await counting.bus.publish(RUN_EVENTS_STREAM, { type: "run.log", payload: logOf(runA, 1) });
    await counting.bus.publish(RUN_EVENTS_STREAM, { type: "run.log", payload: logOf(runB, 2) });
    // Not a run event: ignored.
    await counting.bus.publish(RUN_EVENTS_STREAM, { type: "run.log", payload: { runId: runA, seq: "x" } });
    await counting.bus.publish(RUN_EVENTS_STREAM, { type: "run.log", payload: logOf(runA, 3) });
    await until(
      "all delivered",
      5_000,
      async () => (got.a2?.length === 2 && got.b?.length === 1 ? true : null),
      5,
    );
    expect(got).toEqual({ a1: [1, 3], a2: [1, 3], b: [2] });

    await a1.stop();
    await b.stop();
    expect(counting.running()).toBe(1);
    await a2.stop();
    expect(counting.running()).toBe(0);

    // A later follower starts a new tail.
    const again = feed.follow(runA, follower("a1"));
    await again.ready;
    expect(counting.started()).toBe(2);
    await feed.close();
    expect(counting.running()).toBe(0);
  });
});
