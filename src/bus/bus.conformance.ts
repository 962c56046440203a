import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BusEnvelope } from "../contracts/index.js";
import type { Bus, ConsumeOptions, Delivery } from "./bus.js";

/** Short timings so the whole suite runs in seconds on both implementations. */
const FAST: Omit<ConsumeOptions, "group" | "consumer"> = {
  maxDeliveries: 3,
  retryBaseMs: 40,
  retryMaxMs: 200,
  reclaimIdleMs: 300,
};

/** Polls `check` until it holds, failing the test with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A promise with its resolver outside, to hold a handler open and let it finish late. */
function deferred() {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * The one behavioural suite every `Bus` implementation must pass. `open` gives a fresh bus per
 * test; each test uses its own stream names so implementations may share a server.
 */
export function runBusConformance(name: string, open: () => Promise<Bus>): void {
  describe(`Bus conformance: ${name}`, () => {
    let bus: Bus;
    let stream: string;
    const releases: (() => void)[] = [];

    beforeEach(async () => {
      bus = await open();
      stream = `test.${Math.random().toString(36).slice(2)}`;
    });
    afterEach(async () => {
      for (const release of releases.splice(0)) release();
      await bus.close();
    });

    it("publishes a validated envelope and delivers it to a consumer", async () => {
      const got: Delivery[] = [];
      bus.consume(stream, { ...FAST, group: "g", consumer: "c1" }, async (d) => {
        got.push(d);
      });
      const sent = await bus.publish(stream, { type: "test.ping", payload: { n: 1, at: new Date(0) } });
      await eventually("delivery", () => got.length === 1);
      expect(got[0]?.stream).toBe(stream);
      expect(got[0]?.deliveryCount).toBe(1);
      expect(got[0]?.envelope).toEqual({ ...sent, payload: { n: 1, at: "1970-01-01T00:00:00.000Z" } });
      expect(sent).toMatchObject({ type: "test.ping", correlationId: null, replyTo: null });
      await expect(bus.publish(stream, { type: "Not A Type", payload: null })).rejects.toMatchObject({
        code: "invalid_input",
      });
    });

    it("gives every message to each of two groups", async () => {
      const seen: Record<string, string[]> = { a: [], b: [] };
      for (const group of ["a", "b"]) {
        bus.consume(stream, { ...FAST, group, consumer: "c1" }, async (d) => {
          seen[group]?.push(d.envelope.id);
        });
      }
      const ids = [];
      for (let n = 0; n < 5; n++) ids.push((await bus.publish(stream, { type: "test.n", payload: n })).id);
      await eventually("both groups", () => seen.a?.length === 5 && seen.b?.length === 5);
      expect(seen.a).toEqual(ids);
      expect(seen.b).toEqual(ids);
    });

    it("hands each message to exactly one consumer of a group", async () => {
      const handledBy = new Map<string, string[]>();
      for (const consumer of ["c1", "c2"]) {
        bus.consume(stream, { ...FAST, group: "g", consumer, concurrency: 2 }, async (d) => {
          handledBy.set(d.envelope.id, [...(handledBy.get(d.envelope.id) ?? []), consumer]);
          await sleep(2);
        });
      }
      const ids = [];
      for (let n = 0; n < 20; n++) ids.push((await bus.publish(stream, { type: "test.n", payload: n })).id);
      await eventually("all handled", () => handledBy.size === 20);
      await sleep(FAST.retryBaseMs ?? 0);
      expect([...handledBy.keys()].sort()).toEqual([...ids].sort());
      for (const consumers of handledBy.values()) expect(consumers).toHaveLength(1);
    });

    it("redelivers after a throw (at least once), then stops once acked", async () => {
      const counts: number[] = [];
      bus.consume(stream, { ...FAST, group: "g", consumer: "c1" }, async (d) => {
        counts.push(d.deliveryCount);
        if (d.deliveryCount === 1) throw new Error("transient");
      });
      await bus.publish(stream, { type: "test.flaky", payload: null });
      await eventually("second delivery", () => counts.length === 2);
      await sleep((FAST.retryMaxMs ?? 0) + 50);
      expect(counts).toEqual([1, 2]);
      expect(await bus.deadLetters(stream)).toEqual([]);
    });

    it("waits the exponential backoff between deliveries", async () => {
      const base = FAST.retryBaseMs ?? 0;
      const times: number[] = [];
      bus.consume(stream, { ...FAST, group: "g", consumer: "c1" }, async (d) => {
        times.push(Date.now());
        if (d.deliveryCount < 3) throw new Error("not yet");
      });
      await bus.publish(stream, { type: "test.slow", payload: null });
      await eventually("third delivery", () => times.length === 3);
      const [t1 = 0, t2 = 0, t3 = 0] = times;
      expect(t2 - t1).toBeGreaterThanOrEqual(base);
      expect(t3 - t2).toBeGreaterThanOrEqual(base * 2);
    });

    it("dead-letters a poison message after exactly maxDeliveries attempts with its last error", async () => {
      let attempts = 0;
      bus.consume(stream, { ...FAST, group: "g", consumer: "c1" }, async (d) => {
        attempts++;
        throw new Error(`boom #${d.deliveryCount}`);
      });
      const sent = await bus.publish(stream, { type: "test.poison", payload: { x: 1 } });
      await eventually("dead letter", async () => (await bus.deadLetters(stream)).length === 1);
      await sleep((FAST.retryMaxMs ?? 0) + 50);
      expect(attempts).toBe(FAST.maxDeliveries);
      expect(await bus.deadLetters(stream)).toEqual([
        {
          envelope: sent,
          stream,
          group: "g",
          error: `boom #${FAST.maxDeliveries}`,
          deliveryCount: FAST.maxDeliveries,
        },
      ]);
    });

    it("reclaims messages from a consumer that never finishes, losing none of 50", async () => {
      const reclaimIdleMs = FAST.reclaimIdleMs ?? 0;
      const stuck = deferred();
      releases.push(stuck.resolve);
      const takenByDead = new Map<string, number>();
      const dead = bus.consume(
        stream,
        { ...FAST, group: "g", consumer: "dying", concurrency: 3 },
        async (d) => {
          takenByDead.set(d.envelope.id, Date.now());
          await stuck.promise; // never finishes until the test lets it, long after the reclaim
        },
      );
      const ids: string[] = [];
      for (let n = 0; n < 3; n++) ids.push((await bus.publish(stream, { type: "test.n", payload: n })).id);
      await eventually("dying consumer holds 3", () => takenByDead.size === 3);

      const healthy = new Map<string, Delivery[]>();
      const receivedAt = new Map<string, number>();
      bus.consume(stream, { ...FAST, group: "g", consumer: "healthy", concurrency: 4 }, async (d) => {
        healthy.set(d.envelope.id, [...(healthy.get(d.envelope.id) ?? []), d]);
        receivedAt.set(d.envelope.id, Date.now());
      });
      for (let n = 3; n < 50; n++) ids.push((await bus.publish(stream, { type: "test.n", payload: n })).id);
      await eventually("all 50 handled by the healthy consumer", () => healthy.size === 50, 10_000);
      for (const [id, takenAt] of takenByDead) {
        expect(healthy.get(id)?.[0]?.deliveryCount).toBe(2);
        // The bus stamps the delivery before the handler runs and reads its clock, so the idle
        // time seen here can be a little short of the real one; a reclaim that ignored the idle
        // time would show about 0 ms.
        expect((receivedAt.get(id) ?? 0) - takenAt).toBeGreaterThanOrEqual(reclaimIdleMs - 50);
      }
      // The dead consumer wakes up and acks late: harmless, and nothing is delivered again.
      stuck.resolve();
      await dead.stop(1_000);
      await sleep(reclaimIdleMs + 100);
      expect([...healthy.keys()].sort()).toEqual([...ids].sort());
      for (const deliveries of healthy.values()) expect(deliveries).toHaveLength(1);
      expect(await bus.deadLetters(stream)).toEqual([]);
    });

    it("dead-letters a message whose holder hung on its last allowed delivery", async () => {
      const hung = deferred();
      releases.push(hung.resolve);
      const options = { ...FAST, maxDeliveries: 2 };
      const taken: string[] = [];
      const hang = (consumer: string) => async () => {
        taken.push(consumer);
        await hung.promise;
      };
      bus.consume(stream, { ...options, group: "g", consumer: "c1" }, hang("c1"));
      const sent = await bus.publish(stream, { type: "test.crashy", payload: null });
      await eventually("c1 holds it", () => taken.length === 1);
      bus.consume(stream, { ...options, group: "g", consumer: "c2" }, hang("c2"));
      await eventually("c2 reclaimed it", () => taken.length === 2);
      const handled: Delivery[] = [];
      bus.consume(stream, { ...options, group: "g", consumer: "c3" }, async (d) => {
        handled.push(d);
      });
      await eventually("dead letter", async () => (await bus.deadLetters(stream)).length === 1);
      const [letter] = await bus.deadLetters(stream);
      expect(letter).toMatchObject({ envelope: sent, group: "g", deliveryCount: 2 });
      expect(letter?.error).toMatch(/not acknowledged/);
      expect(taken).toEqual(["c1", "c2"]);
      expect(handled).toEqual([]);
    });

    it("backlog: counts each group's pending and undelivered messages, and the dead letters", async () => {
      expect(await bus.backlog(stream)).toEqual({ stream, groups: [], deadLetters: 0 });
      const hold = deferred();
      releases.push(hold.resolve);
      const held: string[] = [];
      const slow = bus.consume(
        stream,
        { ...FAST, group: "slow", consumer: "c1", concurrency: 1 },
        async (d) => {
          held.push(d.envelope.id);
          await hold.promise;
        },
      );
      for (let n = 0; n < 3; n++) await bus.publish(stream, { type: "test.n", payload: n });
      await eventually("the slow group holds one", () => held.length === 1);
      expect(await bus.backlog(stream)).toEqual({
        stream,
        groups: [{ group: "slow", pending: 1, lag: 2 }],
        deadLetters: 0,
      });

      bus.consume(stream, { ...FAST, maxDeliveries: 1, group: "poison", consumer: "c1" }, async () => {
        throw new Error("boom");
      });
      await eventually("three dead letters", async () => (await bus.backlog(stream)).deadLetters === 3);
      hold.resolve();
      const drained = async () => {
        const { groups } = await bus.backlog(stream);
        return groups.every((g) => g.pending === 0 && g.lag === 0) && groups.length === 2;
      };
      await eventually("both groups drained", drained);
      expect(await bus.backlog(stream)).toEqual({
        stream,
        groups: [
          { group: "poison", pending: 0, lag: 0 },
          { group: "slow", pending: 0, lag: 0 },
        ],
        deadLetters: 3,
      });
      await slow.stop();
    });

    it("drops only the dead letters older than an age, and refuses an age that is not one", async () => {
      bus.consume(stream, { ...FAST, maxDeliveries: 1, group: "poison", consumer: "c1" }, async () => {
        throw new Error("boom");
      });
      await bus.publish(stream, { type: "test.old", payload: 1 });
      await eventually("the old one dead", async () => (await bus.deadLetters(stream)).length === 1);
      await new Promise((resolve) => setTimeout(resolve, 60));
      await bus.publish(stream, { type: "test.new", payload: 2 });
      await eventually("the new one dead", async () => (await bus.deadLetters(stream)).length === 2);
      // Dead for at least 60 ms: the old one; the new one has just been dead-lettered.
      expect(await bus.dropDeadLetters(stream, 50)).toBe(1);
      expect((await bus.deadLetters(stream)).map((letter) => letter.envelope.type)).toEqual(["test.new"]);
      expect(await bus.dropDeadLetters(stream, 3_600_000)).toBe(0);
      expect(await bus.dropDeadLetters(`${stream}.never`, 0)).toBe(0);
      await expect(bus.dropDeadLetters(stream, -1)).rejects.toMatchObject({ code: "invalid_input" });
      await expect(bus.dropDeadLetters(stream, 1.5)).rejects.toMatchObject({ code: "invalid_input" });
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await bus.dropDeadLetters(stream, 0)).toBe(1);
      expect(await bus.backlog(stream)).toMatchObject({ deadLetters: 0 });
    });

    it("answers a request on a private reply stream", async () => {
      bus.consume(stream, { ...FAST, group: "responders", consumer: "r1" }, async (d) => {
        await bus.reply(d.envelope, {
          type: "test.pong",
          payload: { doubled: (d.envelope.payload as number) * 2 },
        });
      });
      const reply: BusEnvelope = await bus.request(stream, { type: "test.ping", payload: 21 }, 2_000);
      expect(reply).toMatchObject({ type: "test.pong", payload: { doubled: 42 } });
      expect(reply.correlationId).toBeTruthy();
    });

    it("rejects a request nobody answers after its timeout", async () => {
      const startedAt = Date.now();
      await expect(bus.request(stream, { type: "test.ping", payload: 1 }, 100)).rejects.toMatchObject({
        code: "bus_request_timeout",
      });
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(95);
    });

    it("stop() waits for in-flight handlers and they are acked", async () => {
      let finished = false;
      let started = false;
      const sub = bus.consume(stream, { ...FAST, group: "g", consumer: "c1" }, async () => {
        started = true;
        await sleep(150);
        finished = true;
      });
      await bus.publish(stream, { type: "test.slow", payload: null });
      await eventually("handler started", () => started);
      await sub.stop(2_000);
      expect(finished).toBe(true);
      const again: Delivery[] = [];
      bus.consume(stream, { ...FAST, group: "g", consumer: "c2" }, async (d) => {
        again.push(d);
      });
      await sleep((FAST.reclaimIdleMs ?? 0) + 100);
      expect(again).toEqual([]);
    });

    it("tail: every tail gets every message published after it is ready, in order", async () => {
      const before = await bus.publish(stream, { type: "test.before", payload: 0 });
      const a: string[] = [];
      const b: string[] = [];
      const tailA = bus.tail(stream, (e) => {
        a.push(e.id);
      });
      const tailB = bus.tail(stream, async (e) => {
        await sleep(1);
        b.push(e.id);
      });
      await Promise.all([tailA.ready, tailB.ready]);
      const ids: string[] = [];
      for (let n = 1; n <= 10; n++) ids.push((await bus.publish(stream, { type: "test.n", payload: n })).id);
      await eventually("both tails got 10", () => a.length === 10 && b.length === 10);
      expect(a).toEqual(ids);
      expect(b).toEqual(ids);
      expect(a).not.toContain(before.id);
      // A consumer group on the same stream is not disturbed: it still sees all 11 from the start.
      const grouped: string[] = [];
      bus.consume(stream, { ...FAST, group: "g", consumer: "c1" }, async (d) => {
        grouped.push(d.envelope.id);
      });
      await eventually("group saw all", () => grouped.length === 11);
    });

    it("tail: a late tail misses earlier messages, a stopped tail gets nothing more", async () => {
      const early: string[] = [];
      const first = bus.tail(stream, (e) => {
        early.push(e.id);
      });
      await first.ready;
      const one = await bus.publish(stream, { type: "test.n", payload: 1 });
      await eventually("first tail got one", () => early.length === 1);
      const late: string[] = [];
      const second = bus.tail(stream, (e) => {
        late.push(e.id);
      });
      await second.ready;
      const stopAt = Date.now();
      await first.stop(1_000);
      expect(Date.now() - stopAt).toBeLessThan(1_000);
      const two = await bus.publish(stream, { type: "test.n", payload: 2 });
      await eventually("late tail got two", () => late.length === 1);
      await sleep(50);
      expect(early).toEqual([one.id]);
      expect(late).toEqual([two.id]);
      await second.stop(1_000);
    });

    it("tail: a throwing handler loses only that message", async () => {
      const got: unknown[] = [];
      const sub = bus.tail(stream, (e) => {
        if (e.payload === 1) throw new Error("bad one");
        got.push(e.payload);
      });
      await sub.ready;
      for (let n = 0; n < 3; n++) await bus.publish(stream, { type: "test.n", payload: n });
      await eventually("two handled", () => got.length === 2);
      expect(got).toEqual([0, 2]);
    });

    it("stop() gives up on a hung handler at its deadline", async () => {
      const hung = deferred();
      releases.push(hung.resolve);
      let started = false;
      const sub = bus.consume(stream, { ...FAST, group: "g", consumer: "c1" }, async () => {
        started = true;
        await hung.promise;
      });
      await bus.publish(stream, { type: "test.hang", payload: null });
      await eventually("handler started", () => started);
      const stopAt = Date.now();
      await sub.stop(100);
      expect(Date.now() - stopAt).toBeLessThan(1_000);
    });
  });
}
