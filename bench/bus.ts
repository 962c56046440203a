// bench/bus: messages per second through our Redis Streams bus (src/bus/redis/), publish and
// consume in a group with acks, against the floor measured in the same rounds on the same
// throwaway Redis: raw XADD / XREADGROUP / XACK from Node with the client library the bus uses
// (ioredis), the same payload sizes, as many messages in flight. The in-process bus runs the same
// workload for reference. Rounds alternate bus and floor; the ratio is the median of per-round ratios.
//   npm run bench:bus -- [--messages N] [--rounds N] [--sizes 128,4096]
import { Redis } from "ioredis";
import { type Bus, InProcessBus, RedisStreamsBus } from "../src/bus/index.js";
import { startRedis } from "../test/support/redis.js";
import { percentile, printTable } from "./stats.js";
import { recordSummary, type SummaryRow } from "./summary.js";

/** Publishes awaited at once (both sides), and messages a consumer handles at once (both sides). */
const PUBLISH_IN_FLIGHT = 64;
const CONSUME_BATCH = 16;
const GROUP = "bench";
const DRAIN_DEADLINE_MS = 120_000;

interface Options {
  messages: number;
  rounds: number;
  sizes: number[];
}

function optionsFromArgs(argv: string[]): Options {
  const options: Options = { messages: 10_000, rounds: 3, sizes: [128, 4_096] };
  const usage = "usage: tsx bench/bus.ts [--messages N] [--rounds N] [--sizes 128,4096]";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes("=") ? arg.split("=", 2) : [arg, undefined];
    const value = inline ?? argv[++i] ?? "";
    const numbers = value.split(",").map(Number);
    if (!numbers.every((n) => Number.isInteger(n) && n >= 1)) {
      throw new Error(`${flag} takes positive integers, not ${JSON.stringify(value)}; ${usage}`);
    }
    if (flag === "--messages") options.messages = numbers[0] as number;
    else if (flag === "--rounds") options.rounds = numbers[0] as number;
    else if (flag === "--sizes") options.sizes = numbers;
    else throw new Error(`unknown argument ${arg}; ${usage}`);
  }
  return options;
}

/** Calls `publish(i)` for i in [0, n) with at most PUBLISH_IN_FLIGHT awaited at once. */
async function publishAll(n: number, publish: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await publish(next++);
  };
  await Promise.all(Array.from({ length: Math.min(PUBLISH_IN_FLIGHT, n) }, lane));
}

/** Resolves when `count()` reaches `n`, checking on every turn of the event loop. */
async function reached(n: number, count: () => number, what: string): Promise<void> {
  const end = Date.now() + DRAIN_DEADLINE_MS;
  while (count() < n) {
    if (Date.now() > end) throw new Error(`bench/bus: ${what}: ${count()} of ${n} within the deadline`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Our bus: publish N envelopes carrying `payload` while one consumer of the group handles them
 * (concurrency CONSUME_BATCH) and acks; done when every message was handled and nothing is pending.
 */
async function busRate(bus: Bus, stream: string, n: number, payload: string): Promise<number> {
  let handled = 0;
  const started = performance.now();
  const subscription = bus.consume(
    stream,
    { group: GROUP, consumer: "c1", concurrency: CONSUME_BATCH },
    async () => {
      handled++;
    },
  );
  try {
    await publishAll(n, () => bus.publish(stream, { type: "bench.message", payload }));
    await reached(n, () => handled, "messages handled");
    // The ack follows the handler: wait until the group holds nothing pending.
    const end = Date.now() + DRAIN_DEADLINE_MS;
    for (;;) {
      const backlog = await bus.backlog(stream);
      const group = backlog.groups.find((g) => g.group === GROUP);
      if (group && group.pending === 0 && (group.lag ?? 0) === 0) break;
      if (Date.now() > end) throw new Error(`bench/bus: ${stream} still has pending messages`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return n / ((performance.now() - started) / 1000);
  } finally {
    await subscription.stop();
  }
}

/**
 * The floor: the same N messages with raw commands. One connection publishes (XADD of the payload),
 * another reads the group (XREADGROUP COUNT CONSUME_BATCH, BLOCK) and acks each message (XACK).
 */
async function rawRate(url: string, stream: string, n: number, payload: string): Promise<number> {
  const publisher = new Redis(url);
  const reader = new Redis(url);
  try {
    await reader.call("XGROUP", ["CREATE", stream, GROUP, "0", "MKSTREAM"]);
    let acked = 0;
    let stopped = false;
    const started = performance.now();
    const consumer = (async () => {
      while (!stopped && acked < n) {
        const reply = (await reader.call("XREADGROUP", [
          "GROUP",
          GROUP,
          "c1",
          "COUNT",
          CONSUME_BATCH,
          "BLOCK",
          100,
          "STREAMS",
          stream,
          ">",
        ])) as [string, [string, string[]][]][] | null;
        const entries = reply?.[0]?.[1] ?? [];
        await Promise.all(
          entries.map(async ([id]) => {
            await publisher.xack(stream, GROUP, id);
            acked++;
          }),
        );
      }
    })();
    await publishAll(n, () => publisher.xadd(stream, "*", "payload", payload));
    try {
      await reached(n, () => acked, "raw messages acked");
    } finally {
      stopped = true;
      await consumer;
    }
    return n / ((performance.now() - started) / 1000);
  } finally {
    publisher.disconnect();
    reader.disconnect();
  }
}

async function main(): Promise<void> {
  const opts = optionsFromArgs(process.argv.slice(2));
  const redis = await startRedis();
  const redisBus = new RedisStreamsBus(redis.url);
  const memoryBus = new InProcessBus();
  const table: (string | number)[][] = [];
  const summary: SummaryRow[] = [];
  try {
    await redisBus.ping();
    // One small warm-up of each path (connections, JIT) outside the measured rounds.
    await busRate(redisBus, "bench.warmup.bus", 500, "w");
    await rawRate(redis.url, "bench.warmup.raw", 500, "w");
    await busRate(memoryBus, "bench.warmup.memory", 500, "w");
    for (const size of opts.sizes) {
      const payload = "x".repeat(size);
      const rounds: { bus: number; raw: number; memory: number }[] = [];
      for (let r = 1; r <= opts.rounds; r++) {
        const raw = await rawRate(redis.url, `bench.raw.${size}.${r}`, opts.messages, payload);
        const bus = await busRate(redisBus, `bench.bus.${size}.${r}`, opts.messages, payload);
        const memory = await busRate(memoryBus, `bench.memory.${size}.${r}`, opts.messages, payload);
        rounds.push({ bus, raw, memory });
        console.error(
          `size ${size} B round ${r}/${opts.rounds}: bus ${bus.toFixed(0)} msg/s, raw ${raw.toFixed(0)} msg/s, in-process ${memory.toFixed(0)} msg/s`,
        );
      }
      const median = (pick: (x: (typeof rounds)[number]) => number) => percentile(rounds.map(pick), 50);
      const ratio = median((x) => x.bus / x.raw);
      table.push([`${size} B`, median((x) => x.bus), median((x) => x.raw), ratio, median((x) => x.memory)]);
      summary.push({
        bench: "bus",
        measure: `Redis bus publish+consume+ack, ${size} B payload`,
        unit: "msg/s",
        value: median((x) => x.bus),
        baselineLabel: "raw XADD/XREADGROUP/XACK (ioredis)",
        baseline: median((x) => x.raw),
        ratio,
      });
    }
  } finally {
    await redisBus.close();
    await memoryBus.close();
    await redis.stop();
  }
  console.log(
    `\nbench/bus: ${opts.messages} messages per round, ${opts.rounds} round(s) per size, published with ` +
      `${PUBLISH_IN_FLIGHT} in flight while one consumer of a group handles ${CONSUME_BATCH} at once and acks ` +
      "each;\nrates in messages/s from the first publish to the last ack (medians over rounds)\n",
  );
  printTable(
    [
      "payload",
      "Redis bus msg/s",
      "raw Redis msg/s (floor)",
      "ratio bus/raw (median of rounds)",
      "in-process bus msg/s",
    ],
    table,
  );
  console.log(
    "\nfloor: XADD of the payload alone; XREADGROUP COUNT 16 BLOCK 100 and one XACK per message, on the" +
      "\nsame Redis. The bus also wraps each payload in a checked envelope (id, type, time, trace), keeps" +
      "\nthe stream trimmed, scans for messages due for retry or reclaim, and clears each message's error key" +
      "\nwith its ack\n",
  );
  await recordSummary(summary);
}

await main();
