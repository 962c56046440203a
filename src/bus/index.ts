import type { Bus } from "./bus.js";
import { InProcessBus } from "./memory-bus.js";
import type { BusLogger } from "./policy.js";
import { RedisStreamsBus } from "./redis/redis-bus.js";

export type {
  Bus,
  ConsumeOptions,
  DeadLetter,
  Delivery,
  GroupBacklog,
  StreamBacklog,
  Subscription,
  TailSubscription,
} from "./bus.js";
export { InProcessBus, type InProcessBusOptions } from "./memory-bus.js";
export { type BusLogger, backoffMs, deadStreamOf } from "./policy.js";
export { RedisStreamsBus, type RedisStreamsBusOptions } from "./redis/redis-bus.js";

/** Settings the composition root passes to pick a bus. */
export interface OpenBusOptions {
  /** Redis URL for the distributed mode; absent or null means the in-process bus (embedded mode). */
  redisUrl?: string | null;
  logger?: BusLogger;
  /** Per-stream lengths, for streams whose messages are large or only needed while fresh. */
  streamMaxLen?: Readonly<Record<string, number>>;
}

/**
 * Picks the bus: Redis Streams when a URL is given, otherwise the in-process bus. Synchronous (the
 * Redis connection is made lazily); call `RedisStreamsBus.ping()` to fail fast on a wrong URL.
 */
export function openBus(options: OpenBusOptions): Bus {
  const { logger, streamMaxLen } = options;
  if (options.redisUrl) return new RedisStreamsBus(options.redisUrl, { logger, streamMaxLen });
  return new InProcessBus({ logger, streamMaxLen });
}
