/**
 * The Logs page's feed: lines a logger writes are published on the bus (masked, info and up) and
 * land in the API's ring, which filters them; a failing or absent bus never blocks a logger nor
 * makes the publisher publish its own failures.
 */
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { Bus } from "../bus/index.js";
import { InProcessBus } from "../bus/index.js";
import type { LogEntry } from "../contracts/index.js";
import { entryOfLine, LOG_STREAM, LogPublisher } from "./log-publisher.js";
import { followLogs, LogRing, matchesLog } from "./log-ring.js";
import { componentLogger, createLogger } from "./logger.js";
import { SecretRedactor } from "./redaction.js";

const PROJECT = "0b6f4b36-5f59-4b6a-9d53-0a4c1f1e2a01";
const RUN = "5d7c1d2e-8a40-4d4e-9a1a-6b0b5a4f3c02";

const entry = (over: Partial<LogEntry> = {}): LogEntry => ({
  time: new Date().toISOString(),
  level: "info",
  component: "engine",
  msg: "hello",
  projectId: null,
  runId: null,
  workerId: null,
  node: null,
  detail: null,
  ...over,
});

const sink = () =>
  new Writable({
    write(_chunk, _enc, done) {
      done();
    },
  });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("LogRing", () => {
  it("keeps the latest entries up to its capacity, numbered in arrival order", () => {
    const ring = new LogRing(3);
    for (const msg of ["a", "b", "c", "d", "e"]) ring.push(entry({ msg }));
    const recent = ring.recent({}, 10);
    expect(recent.map((e) => [e.seq, e.msg])).toEqual([
      [3, "c"],
      [4, "d"],
      [5, "e"],
    ]);
    expect(ring.recent({}, 2).map((e) => e.msg)).toEqual(["d", "e"]);
    expect(ring.recent({}, 10, 4).map((e) => e.msg)).toEqual(["e"]);
  });

  it("filters by component, minimum level, project and run", () => {
    const ring = new LogRing(100);
    ring.push(entry({ msg: "engine info", projectId: PROJECT }));
    ring.push(entry({ msg: "engine warn", level: "warn", projectId: PROJECT, runId: RUN }));
    ring.push(entry({ msg: "api error", level: "error", component: "api" }));
    ring.push(entry({ msg: "debug", level: "debug" }));
    const msgs = (filter: Parameters<LogRing["recent"]>[0]) => ring.recent(filter, 100).map((e) => e.msg);
    expect(msgs({ component: "engine" })).toEqual(["engine info", "engine warn", "debug"]);
    expect(msgs({ level: "warn" })).toEqual(["engine warn", "api error"]);
    expect(msgs({ projectId: PROJECT })).toEqual(["engine info", "engine warn"]);
    expect(msgs({ runId: RUN, level: "info" })).toEqual(["engine warn"]);
    expect(msgs({ component: "api", level: "fatal" })).toEqual([]);
    expect(ring.components()).toEqual(["api", "engine"]);
    expect(matchesLog(entry({ level: "fatal" }), { level: "error" })).toBe(true);
  });

  it("tells listeners each new entry, and forgets a listener that stopped", () => {
    const ring = new LogRing(10);
    const heard: number[] = [];
    const stop = ring.subscribe((e) => heard.push(e.seq));
    ring.subscribe(() => {
      throw new Error("a broken reader");
    });
    ring.push(entry());
    stop();
    ring.push(entry());
    expect(heard).toEqual([1]);
  });
});

describe("entryOfLine", () => {
  it("takes the level, component, correlation ids and the other fields of a pino line", () => {
    const line = JSON.stringify({
      level: 40,
      time: "2026-12-04T05:00:00.000Z",
      service: "orchestrator",
      component: "deploy",
      projectId: PROJECT,
      runId: "not-a-uuid",
      msg: "health gate failed",
      attempt: 3,
    });
    expect(entryOfLine(line, 30)).toEqual({
      time: "2026-12-04T05:00:00.000Z",
      level: "warn",
      component: "deploy",
      msg: "health gate failed",
      projectId: PROJECT,
      runId: null,
      workerId: null,
      node: null,
      detail: JSON.stringify({ attempt: 3 }),
    });
    expect(entryOfLine(JSON.stringify({ level: 20, msg: "debug" }), 30)).toBeNull();
    expect(entryOfLine("not json", 30)).toBeNull();
  });
});

describe("LogPublisher", () => {
  it("carries a line logged by one process's logger to another's ring through the bus, masked", async () => {
    const bus = new InProcessBus();
    const ring = new LogRing();
    const tail = followLogs({ bus, ring });
    await tail.ready;
    const redactor = new SecretRedactor();
    redactor.add("sk-very-secret-value-1234", "MODEL_KEY");
    const publisher = new LogPublisher({ flushDelayMs: 5 });
    const logger = createLogger({ level: "debug", redactor, destination: sink(), feed: publisher });
    publisher.attach(bus, { node: "engine-1" });
    cleanups.push(async () => {
      await publisher.stop();
      await tail.stop();
      await bus.close();
    });

    const runLog = componentLogger(logger, "engine", { projectId: PROJECT, runId: RUN });
    runLog.debug("too chatty to ship");
    runLog.info({ note: "sk-very-secret-value-1234" }, "called the model");
    componentLogger(logger, "api").warn("slow answer");
    await expect.poll(() => ring.recent({}, 10).length).toBe(2);

    const [first, second] = ring.recent({}, 10);
    expect(first).toMatchObject({
      seq: 1,
      level: "info",
      component: "engine",
      msg: "called the model",
      projectId: PROJECT,
      runId: RUN,
      node: "engine-1",
    });
    expect(first?.detail).not.toContain("sk-very-secret-value-1234");
    expect(first?.detail).toContain("REDACTED");
    expect(second).toMatchObject({ level: "warn", component: "api", msg: "slow answer" });
    expect(publisher.stats()).toMatchObject({ published: 2, dropped: 0, failedPublishes: 0 });
  });

  it("holds lines until a bus is attached, dropping the oldest beyond its queue", async () => {
    const bus = new InProcessBus();
    const ring = new LogRing();
    const tail = followLogs({ bus, ring });
    await tail.ready;
    const publisher = new LogPublisher({ maxQueued: 3, flushDelayMs: 5 });
    const logger = createLogger({
      level: "info",
      redactor: new SecretRedactor(),
      destination: sink(),
      feed: publisher,
    });
    cleanups.push(async () => {
      await publisher.stop();
      await tail.stop();
      await bus.close();
    });
    for (let i = 1; i <= 5; i++) logger.info(`line ${i}`);
    expect(publisher.stats()).toMatchObject({ queued: 3, dropped: 2 });
    publisher.attach(bus, { node: null });
    await expect.poll(() => ring.recent({}, 10).map((e) => e.msg)).toEqual(["line 3", "line 4", "line 5"]);
  });

  it("never publishes a failure the bus logs about its own publish, and keeps logging while the bus fails", async () => {
    const lines: string[] = [];
    const publisher = new LogPublisher({ flushDelayMs: 1 });
    const logger = createLogger({
      level: "info",
      redactor: new SecretRedactor(),
      destination: new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
      feed: publisher,
    });
    const busLog = componentLogger(logger, "bus");
    const otherLog = componentLogger(logger, "journal");
    let publishes = 0;
    // A bus that logs each failed publish twice: through its own logger later, and synchronously
    // through another component's while the publish is being made.
    const failing: Pick<Bus, "publish"> = {
      publish(stream) {
        publishes++;
        expect(stream).toBe(LOG_STREAM);
        otherLog.error("publish failed (logged during the publish)");
        return new Promise((_, reject) =>
          setTimeout(() => {
            busLog.error("bus: publish failed");
            reject(new Error("redis is down"));
          }, 1),
        );
      },
    };
    publisher.attach(failing, { node: null });
    cleanups.push(() => publisher.stop());
    logger.info("the one line an operator wrote");
    await expect.poll(() => publisher.stats().failedPublishes).toBe(1);
    // Waits past the first backoff: nothing logged by the failure was queued to publish again.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(publishes).toBe(1);
    expect(publisher.stats()).toMatchObject({ queued: 0, published: 0, dropped: 1 });
    // Every line still reached the process's own output.
    expect(lines.join("")).toContain("publish failed (logged during the publish)");
    expect(lines.join("")).toContain("bus: publish failed");
  });

  it("gives up on a publish that never answers (a bus waiting to reconnect) without blocking the logger", async () => {
    const publisher = new LogPublisher({ flushDelayMs: 1, publishTimeoutMs: 20, maxQueued: 50 });
    const logger = createLogger({
      level: "info",
      redactor: new SecretRedactor(),
      destination: sink(),
      feed: publisher,
    });
    publisher.attach({ publish: () => new Promise(() => {}) }, { node: null });
    cleanups.push(() => publisher.stop());
    logger.info("first");
    await expect.poll(() => publisher.stats().failedPublishes).toBe(1);
    for (let i = 0; i < 200; i++) logger.info(`while down ${i}`);
    expect(publisher.stats().queued).toBe(50);
    expect(publisher.stats().dropped).toBe(1 + 150);
  });
});
