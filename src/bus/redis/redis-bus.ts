import { Redis, ReplyError } from "ioredis";
import { AppError, type BusEnvelope } from "../../contracts/index.js";
import type {
  Bus,
  ConsumeOptions,
  DeadLetter,
  Delivery,
  GroupBacklog,
  StreamBacklog,
  Subscription,
  TailSubscription,
} from "../bus.js";
import { runConsumer } from "../consumer-loop.js";
import {
  type BusLogger,
  checkAge,
  DEFAULT_STOP_DEADLINE_MS,
  DEFAULT_STREAM_MAX_LEN,
  deadStreamOf,
  errorText,
  makeEnvelope,
  newReplyStream,
  type OutgoingMessage,
  pause,
  replyMessage,
  requestTimeout,
  resolvePolicy,
} from "../policy.js";
import { field, parseEnvelope, type RedisHandle, redisSource } from "./redis-source.js";
import { redisTail } from "./redis-tail.js";

/** Options of the Redis Streams bus. */
export interface RedisStreamsBusOptions {
  logger?: BusLogger;
  /** Streams and dead-letter streams are trimmed to about this many entries. */
  maxLen?: number;
  /** A smaller (or larger) length for named streams, e.g. one that carries large messages. */
  streamMaxLen?: Readonly<Record<string, number>>;
  /** How long the last error of a failing message is kept for its dead letter. */
  errorTtlMs?: number;
  /** A reply nobody reads (its requester gave up) expires after this long. */
  replyTtlMs?: number;
}

const DEFAULT_ERROR_TTL_MS = 7 * 24 * 60 * 60_000;
const DEFAULT_REPLY_TTL_MS = 60_000;
/** First and longest pause between two tries of a reply write or a reply read Redis was away for. */
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 2_000;

/**
 * True when `error` says Redis could not be reached (the client gave up queueing the command, or
 * the connection closed under it), not that Redis refused the command: only the first is worth
 * trying again once Redis is back.
 */
function isUnreachable(error: unknown): boolean {
  return !(error instanceof ReplyError);
}

const retryPauseMs = (attempt: number) => Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempt - 1));

/**
 * The bus on Redis Streams, for roles running as separate processes. Every process may die at
 * any moment: pending entries, delivery counters and last errors all live in Redis.
 */
export class RedisStreamsBus implements Bus {
  readonly #client: Redis;
  readonly #ownsClient: boolean;
  readonly #connections = new Set<Redis>();
  readonly #subscriptions = new Set<Subscription>();
  readonly #logger: BusLogger | undefined;
  readonly #maxLen: number;
  readonly #streamMaxLen: Readonly<Record<string, number>>;
  readonly #errorTtlMs: number;
  readonly #replyTtlMs: number;
  #closed = false;

  /** From a URL the bus owns its connection; a given client stays the caller's to quit. */
  constructor(urlOrClient: string | Redis, options: RedisStreamsBusOptions = {}) {
    this.#logger = options.logger;
    this.#maxLen = options.maxLen ?? DEFAULT_STREAM_MAX_LEN;
    this.#streamMaxLen = options.streamMaxLen ?? {};
    this.#errorTtlMs = options.errorTtlMs ?? DEFAULT_ERROR_TTL_MS;
    this.#replyTtlMs = options.replyTtlMs ?? DEFAULT_REPLY_TTL_MS;
    this.#ownsClient = typeof urlOrClient === "string";
    this.#client = typeof urlOrClient === "string" ? this.#watch(new Redis(urlOrClient)) : urlOrClient;
  }

  /**
   * Resolves once Redis answers; rejects after `timeoutMs` (ioredis would otherwise queue the
   * command until it reconnects), so start-up and `/health` fail fast on a wrong URL.
   */
  async ping(timeoutMs = 3000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new AppError("unavailable", "bus_unreachable", `Redis did not answer within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.#client.ping(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async publish(stream: string, message: OutgoingMessage): Promise<BusEnvelope> {
    this.#assertOpen();
    const envelope = makeEnvelope(message);
    const maxLen = this.#streamMaxLen[stream] ?? this.#maxLen;
    await this.#client.xadd(stream, "MAXLEN", "~", maxLen, "*", "envelope", JSON.stringify(envelope));
    return envelope;
  }

  consume(
    stream: string,
    options: ConsumeOptions,
    handler: (delivery: Delivery) => Promise<void>,
  ): Subscription {
    this.#assertOpen();
    const policy = resolvePolicy(options);
    const blocking = this.#connection();
    const subscription = runConsumer<RedisHandle>(
      stream,
      policy,
      (signal, isInFlight) =>
        redisSource(
          stream,
          policy,
          { client: this.#client, blocking, maxLen: this.#maxLen, errorTtlMs: this.#errorTtlMs },
          signal,
          isInFlight,
        ),
      handler,
      this.#logger,
    );
    this.#subscriptions.add(subscription);
    return {
      stop: async (deadlineMs) => {
        await subscription.stop(deadlineMs);
        this.#subscriptions.delete(subscription);
        this.#release(blocking);
      },
    };
  }

  tail(stream: string, handler: (envelope: BusEnvelope) => void | Promise<void>): TailSubscription {
    this.#assertOpen();
    // XREAD BLOCK holds its connection, so each tail reads on one of its own.
    const connection = this.#connection();
    const tail = redisTail(stream, connection, handler, this.#logger);
    const subscription: TailSubscription = {
      ready: tail.ready,
      stop: async (deadlineMs = DEFAULT_STOP_DEADLINE_MS) => {
        this.#subscriptions.delete(subscription);
        await tail.stop(deadlineMs);
        this.#release(connection);
      },
    };
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async request(
    stream: string,
    message: { type: string; payload: unknown },
    timeoutMs: number,
  ): Promise<BusEnvelope> {
    this.#assertOpen();
    const replyTo = newReplyStream();
    // XREAD BLOCK holds its connection, so each request waits on one of its own.
    const connection = this.#connection();
    let timer: NodeJS.Timeout | undefined;
    try {
      const sent = await this.publish(stream, { ...message, replyTo });
      const deadline = Date.now() + timeoutMs;
      const wait = async (): Promise<BusEnvelope> => {
        let failures = 0;
        for (;;) {
          const leftMs = deadline - Date.now();
          if (leftMs <= 0) throw requestTimeout(stream, sent.type, timeoutMs);
          let reply: [string, [string, string[]][]][] | null;
          try {
            reply = (await connection.call("XREAD", [
              "COUNT",
              1,
              "BLOCK",
              Math.ceil(leftMs),
              "STREAMS",
              replyTo,
              "0",
            ])) as [string, [string, string[]][]][] | null;
          } catch (error) {
            // Redis away longer than the client queues commands: the request is out and its reply
            // stream outlives the outage, so read it again once Redis is back, until the deadline.
            if (this.#closed || !isUnreachable(error)) throw error;
            failures++;
            await pause(Math.min(retryPauseMs(failures), Math.max(0, deadline - Date.now())));
            continue;
          }
          failures = 0;
          const entry = reply?.[0]?.[1]?.[0];
          if (!entry) continue;
          const envelope = parseEnvelope(field(entry[1], "envelope"));
          if (envelope) return envelope;
          throw new AppError("internal", "bus_bad_reply", `invalid reply envelope on ${replyTo}`);
        }
      };
      // A hard stop too: with Redis unreachable the BLOCK timeout alone would not fire.
      const hardStop = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(requestTimeout(stream, sent.type, timeoutMs)), timeoutMs + 50);
      });
      return await Promise.race([wait(), hardStop]);
    } finally {
      clearTimeout(timer);
      this.#release(connection);
      await this.#client.del(replyTo).catch((error: unknown) => {
        this.#logger?.warn({ stream: replyTo, err: errorText(error) }, "bus: could not delete reply stream");
      });
    }
  }

  async reply(request: BusEnvelope, message: { type: string; payload: unknown }): Promise<void> {
    this.#assertOpen();
    if (!request.replyTo) return;
    const envelope = makeEnvelope(replyMessage(request, message));
    const replyTo = request.replyTo;
    // A reply given up on is lost for good (a call is handled once): its requester would wait out
    // its whole window. So a write Redis was away for is tried again until the reply would have
    // expired anyway. Should a write land whose answer was lost, the second copy is never read:
    // the requester takes the first entry of its stream.
    const deadline = Date.now() + this.#replyTtlMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#client
          .multi()
          .xadd(replyTo, "*", "envelope", JSON.stringify(envelope))
          .pexpire(replyTo, this.#replyTtlMs)
          .exec();
        return;
      } catch (error) {
        if (this.#closed || !isUnreachable(error) || Date.now() >= deadline) throw error;
        if (attempt === 1) {
          this.#logger?.warn(
            { stream: replyTo, err: errorText(error) },
            "bus: Redis unreachable for a reply; trying again",
          );
        }
        await pause(Math.min(retryPauseMs(attempt), Math.max(0, deadline - Date.now())));
      }
    }
  }

  async deadLetters(stream: string, limit = 100): Promise<DeadLetter[]> {
    const entries = (await this.#client.call("XRANGE", [deadStreamOf(stream), "-", "+", "COUNT", limit])) as [
      string,
      string[],
    ][];
    const letters: DeadLetter[] = [];
    for (const [, fields] of entries) {
      const value = (name: string) => field(fields, name);
      const envelope = parseEnvelope(value("envelope"));
      if (!envelope) continue; // written by something other than this bus
      letters.push({
        envelope,
        stream,
        group: value("group") ?? "",
        error: value("error") ?? "",
        deliveryCount: Number(value("deliveryCount")),
      });
    }
    return letters;
  }

  async dropDeadLetters(stream: string, ageMs: number): Promise<number> {
    checkAge(ageMs);
    // Dead-letter entries get Redis's own ids, whose first part is the time they were added.
    const before = Math.max(0, Date.now() - ageMs);
    return Number(await this.#client.call("XTRIM", [deadStreamOf(stream), "MINID", String(before)]));
  }

  async backlog(stream: string): Promise<StreamBacklog> {
    let rows: unknown[][] = [];
    try {
      rows = (await this.#client.call("XINFO", ["GROUPS", stream])) as unknown[][];
    } catch (error) {
      // A stream nobody has published to or consumed yet does not exist in Redis: no groups.
      if (!/no such key/i.test(errorText(error))) throw error;
    }
    const groups: GroupBacklog[] = rows.map((row) => {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < row.length; i += 2) info.set(String(row[i]), row[i + 1]);
      // `lag` is null when Redis cannot count it (entries deleted between reads); Redis 7 or later.
      const lag = info.get("lag");
      return {
        group: String(info.get("name")),
        pending: Number(info.get("pending") ?? 0),
        lag: lag === null || lag === undefined ? null : Number(lag),
      };
    });
    groups.sort((a, b) => a.group.localeCompare(b.group));
    return { stream, groups, deadLetters: await this.#client.xlen(deadStreamOf(stream)) };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((s) => s.stop(DEFAULT_STOP_DEADLINE_MS)));
    for (const connection of this.#connections) connection.disconnect();
    this.#connections.clear();
    if (this.#ownsClient) {
      await this.#client.quit().catch(() => this.#client.disconnect());
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new AppError("unavailable", "bus_closed", "the bus is closed");
  }

  /** A dedicated connection with the main client's settings, closed with the bus. */
  #connection(): Redis {
    const connection = this.#watch(this.#client.duplicate());
    this.#connections.add(connection);
    return connection;
  }

  #release(connection: Redis): void {
    connection.disconnect();
    this.#connections.delete(connection);
  }

  /** ioredis prints unhandled connection errors to stderr; route them to our logger instead. */
  #watch(connection: Redis): Redis {
    connection.on("error", (error: unknown) => {
      this.#logger?.warn({ err: errorText(error) }, "bus: redis connection error");
    });
    return connection;
  }
}
