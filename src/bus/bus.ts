import type { BusEnvelope } from "../contracts/index.js";

/** What a handler receives: the envelope plus how many times it has been delivered (1 = first). */
export interface Delivery {
  readonly envelope: BusEnvelope;
  readonly stream: string;
  readonly deliveryCount: number;
}

/** Retry and dead-letter policy of one consumer group. */
export interface ConsumeOptions {
  /** Consumer group: each message goes to one consumer of the group; groups each see every message. */
  group: string;
  /** This consumer's name inside the group (unique per process). */
  consumer: string;
  /** After this many failed deliveries the message moves to `<stream>.dead` with its last error. */
  maxDeliveries?: number;
  /** Delay before redelivering a failed message: `retryBaseMs * 2^(deliveryCount-1)`, capped. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** A message pending this long with a consumer that has not acked it is reclaimed by another. */
  reclaimIdleMs?: number;
  /** Messages handled at once by this consumer. */
  concurrency?: number;
}

/** A running consumer; `stop` waits for in-flight handlers up to the deadline. */
export interface Subscription {
  stop(deadlineMs?: number): Promise<void>;
}

/**
 * A running broadcast read. `ready` resolves once the tail is positioned: every message published
 * after that is delivered to it (a caller that replays history from elsewhere waits for it first).
 */
export interface TailSubscription extends Subscription {
  readonly ready: Promise<void>;
}

/** A message that exhausted its deliveries, kept with the error of its last attempt. */
export interface DeadLetter {
  readonly envelope: BusEnvelope;
  readonly stream: string;
  /** The consumer group whose deliveries were exhausted (each group dead-letters on its own). */
  readonly group: string;
  readonly error: string;
  readonly deliveryCount: number;
}

/** How far one consumer group of a stream is behind. */
export interface GroupBacklog {
  readonly group: string;
  /** Delivered to a consumer and not acknowledged yet: in a handler, or failed and waiting for its retry. */
  readonly pending: number;
  /** In the stream and not delivered to any consumer of the group yet; null when the bus cannot tell. */
  readonly lag: number | null;
}

/** The backlog of one stream: each consumer group's, and the messages dead-lettered from it. */
export interface StreamBacklog {
  readonly stream: string;
  /** One entry per consumer group, by group name; empty for a stream nobody consumes in a group. */
  readonly groups: readonly GroupBacklog[];
  /** Messages in the stream's dead-letter stream (every group's, kept up to the stream length). */
  readonly deadLetters: number;
}

/**
 * The message bus: carries triggers between roles with at-least-once delivery. A handler that
 * resolves acknowledges the message; one that throws gets it redelivered with backoff, and after
 * `maxDeliveries` it lands in the dead-letter stream. Handlers must be idempotent.
 */
export interface Bus {
  publish(
    stream: string,
    message: { type: string; payload: unknown; correlationId?: string | null; replyTo?: string | null },
  ): Promise<BusEnvelope>;
  consume(
    stream: string,
    options: ConsumeOptions,
    handler: (delivery: Delivery) => Promise<void>,
  ): Subscription;
  /**
   * Broadcast read for live views: every tail gets every message published after it is `ready`,
   * in order, with no consumer group, no ack and no replay. A throwing handler only loses that
   * message for this tail. Durable reactions use `consume` instead.
   */
  tail(stream: string, handler: (envelope: BusEnvelope) => void | Promise<void>): TailSubscription;
  /** Publishes and waits for a reply published to a private reply stream, or rejects after `timeoutMs`. */
  request(
    stream: string,
    message: { type: string; payload: unknown },
    timeoutMs: number,
  ): Promise<BusEnvelope>;
  /** Answers a request envelope (no-op when it has no `replyTo`). */
  reply(request: BusEnvelope, message: { type: string; payload: unknown }): Promise<void>;
  /** Oldest first, at most `limit` (default 100), read from `<stream>.dead`. */
  deadLetters(stream: string, limit?: number): Promise<DeadLetter[]>;
  /** Deletes the stream's dead letters dead-lettered more than `ageMs` ago; returns how many. */
  dropDeadLetters(stream: string, ageMs: number): Promise<number>;
  /** Counts only, read without taking anything (for metrics and the admin dashboard). */
  backlog(stream: string): Promise<StreamBacklog>;
  /** Resolves when the bus can carry messages (used at start-up and by `/health`). */
  ping(): Promise<void>;
  /** Stops every subscription (waiting for in-flight handlers up to a default deadline), then disconnects. */
  close(): Promise<void>;
}
