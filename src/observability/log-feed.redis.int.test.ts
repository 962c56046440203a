/**
 * The log feed across processes: an engine's logger publishes on Redis, the API's ring (another
 * connection, as another process would hold) receives the line; the stream stays capped.
 */
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startRedis, type TestRedis } from "../../test/support/redis.js";
import { RedisStreamsBus } from "../bus/index.js";
import { LOG_STREAM, LogPublisher } from "./log-publisher.js";
import { followLogs, LogRing } from "./log-ring.js";
import { componentLogger, createLogger } from "./logger.js";
import { SecretRedactor } from "./redaction.js";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => redis.stop());

it("carries an engine process's log line to the API process's ring over Redis, on a capped stream", async () => {
  const maxLen = 5;
  const apiBus = new RedisStreamsBus(redis.url);
  const engineBus = new RedisStreamsBus(redis.url, { streamMaxLen: { [LOG_STREAM]: maxLen } });
  const ring = new LogRing();
  const tail = followLogs({ bus: apiBus, ring });
  await tail.ready;
  const publisher = new LogPublisher({ flushDelayMs: 1, batchSize: 1 });
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  const logger = createLogger({
    level: "info",
    redactor: new SecretRedactor(),
    destination: sink,
    feed: publisher,
  });
  publisher.attach(engineBus, { node: "engine-7" });
  try {
    componentLogger(logger, "engine").warn("stage developer started");
    await expect
      .poll(() => ring.recent({ component: "engine" }, 10).map((e) => e.msg))
      .toEqual(["stage developer started"]);
    expect(ring.recent({}, 10)[0]?.node).toBe("engine-7");
    // Many more lines than the cap: the stream is trimmed (approximately, as MAXLEN ~ does).
    for (let i = 0; i < 300; i++) logger.info(`line ${i}`);
    await expect.poll(() => ring.recent({}, 1)[0]?.msg, { timeout: 20_000 }).toBe("line 299");
    const client = new Redis(redis.url);
    const length = await client.xlen(LOG_STREAM).finally(() => client.disconnect());
    expect(length).toBeLessThan(300);
  } finally {
    await publisher.stop();
    await tail.stop();
    await engineBus.close();
    await apiBus.close();
  }
});
