import { AppError, type BusEnvelope } from "../contracts/index.js";
import type {
  Bus,
  ConsumeOptions,
  DeadLetter,
  Delivery,
  StreamBacklog,
  Subscription,
  TailSubscription,
} from "./bus.js";
import { type MessageSource, runConsumer, type Taken } from "./consumer-loop.js";
import {
  type BusLogger,
  backoffMs,
  type ConsumePolicy,
  checkAge,
  DEFAULT_STOP_DEADLINE_MS,
  DEFAULT_STREAM_MAX_LEN,
  deadStreamOf,
  makeEnvelope,
  NOT_ACKED_ERROR,
  newReplyStream,
  type OutgoingMessage,
  pause,
  replyMessage,
  requestTimeout,
  resolvePolicy,
  settleWithin,
} from "./policy.js";
import { TailQueue } from "./tail.js";

/** One delivery of a message to a consumer that has not acked it yet (Redis' pending entry). */
interface PendingEntry {
  consumer: string;
  deliveryCount: number;
  deliveredAt: number;
  /** Set when the current delivery's handler threw; the retry is due after the backoff. */
  failed: { error: string; at: number } | null;
  lastError: string | null;
}

interface MemoryGroup {
  lastDeliveredSeq: number;
  /** Keyed by sequence number; insertion order is delivery order, like Redis' PEL. */
  pending: Map<number, PendingEntry>;
}

interface MemoryStream {
  entries: Map<number, BusEnvelope>;
  nextSeq: number;
  groups: Map<string, MemoryGroup>;
  /** Wakes consumers blocked waiting for new entries. */
  wakers: Set<() => void>;
  /** Live broadcast readers; each gets every message published while it is here. */
  tails: Set<TailQueue>;
}

/** Options of the in-process bus. */
export interface InProcessBusOptions {
  logger?: BusLogger;
  /** Oldest entries beyond this many are dropped from each stream and dead-letter list. */
  maxLen?: number;
  /** A smaller (or larger) length for named streams, e.g. one that carries large messages. */
  streamMaxLen?: Readonly<Record<string, number>>;
}

/**
 * The bus inside one process (embedded mode), with the Redis Streams semantics: append-only
 * streams, consumer groups, pending entries with delivery counts, retry with backoff, dead letters,
 * and reclaim of messages whose handler never finished. Nothing survives the process.
 */
export class InProcessBus implements Bus {
  readonly #streams = new Map<string, MemoryStream>();
  readonly #dead = new Map<string, DeadLetter[]>();
  /** When each dead letter was dead-lettered (`dropDeadLetters` goes by it). */
  readonly #deadAt = new WeakMap<DeadLetter, number>();
  readonly #replyWaiters = new Map<string, (envelope: BusEnvelope) => void>();
  readonly #subscriptions = new Set<Subscription>();
  readonly #logger: BusLogger | undefined;
  readonly #maxLen: number;
  readonly #streamMaxLen: Readonly<Record<string, number>>;
  #closed = false;

  constructor(options: InProcessBusOptions = {}) {
    this.#logger = options.logger;
    this.#maxLen = options.maxLen ?? DEFAULT_STREAM_MAX_LEN;
    this.#streamMaxLen = options.streamMaxLen ?? {};
  }

  async publish(stream: string, message: OutgoingMessage): Promise<BusEnvelope> {
    this.#assertOpen();
    const envelope = makeEnvelope(message);
    const state = this.#stream(stream);
    state.entries.set(state.nextSeq++, envelope);
    if (state.entries.size > (this.#streamMaxLen[stream] ?? this.#maxLen)) {
      const oldest = state.entries.keys().next().value;
      if (oldest !== undefined) state.entries.delete(oldest);
    }
    for (const wake of [...state.wakers]) wake();
    for (const tail of state.tails) tail.push(envelope);
    return envelope;
  }

  consume(
    stream: string,
    options: ConsumeOptions,
    handler: (delivery: Delivery) => Promise<void>,
  ): Subscription {
    this.#assertOpen();
    const policy = resolvePolicy(options);
    const state = this.#stream(stream);
    let group = state.groups.get(policy.group);
    if (!group) {
      // A new group starts at the beginning of the stream, like `XGROUP CREATE ... 0`.
      group = { lastDeliveredSeq: 0, pending: new Map() };
      state.groups.set(policy.group, group);
    }
    const subscription = runConsumer<number>(
      stream,
      policy,
      (signal, isInFlight) => this.#source(stream, state, group, policy, signal, isInFlight),
      handler,
      this.#logger,
    );
    this.#subscriptions.add(subscription);
    return {
      stop: async (deadlineMs) => {
        await subscription.stop(deadlineMs);
        this.#subscriptions.delete(subscription);
      },
    };
  }

  tail(stream: string, handler: (envelope: BusEnvelope) => void | Promise<void>): TailSubscription {
    this.#assertOpen();
    const state = this.#stream(stream);
    const queue = new TailQueue(stream, handler, this.#logger);
    state.tails.add(queue);
    const subscription: TailSubscription = {
      ready: Promise.resolve(),
      stop: async (deadlineMs = DEFAULT_STOP_DEADLINE_MS) => {
        state.tails.delete(queue);
        this.#subscriptions.delete(subscription);
        await settleWithin(queue.stop(), deadlineMs);
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
    return new Promise<BusEnvelope>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        this.#replyWaiters.delete(replyTo);
      };
      const timer = setTimeout(() => {
        finish();
        reject(requestTimeout(stream, message.type, timeoutMs));
      }, timeoutMs);
      this.#replyWaiters.set(replyTo, (envelope) => {
        finish();
        resolve(envelope);
      });
      this.publish(stream, { ...message, replyTo }).catch((error: unknown) => {
        finish();
        reject(error);
      });
    });
  }

  async reply(request: BusEnvelope, message: { type: string; payload: unknown }): Promise<void> {
    this.#assertOpen();
    if (!request.replyTo) return;
    const envelope = makeEnvelope(replyMessage(request, message));
    // No waiter means the requester timed out: the reply is dropped, as Redis lets it expire.
    this.#replyWaiters.get(request.replyTo)?.(envelope);
  }

  async deadLetters(stream: string, limit = 100): Promise<DeadLetter[]> {
    return (this.#dead.get(deadStreamOf(stream)) ?? []).slice(0, limit);
  }

  async dropDeadLetters(stream: string, ageMs: number): Promise<number> {
    checkAge(ageMs);
    const list = this.#dead.get(deadStreamOf(stream)) ?? [];
    const before = Date.now() - ageMs;
    const kept = list.filter((letter) => (this.#deadAt.get(letter) ?? 0) >= before);
    this.#dead.set(deadStreamOf(stream), kept);
    return list.length - kept.length;
  }

  async backlog(stream: string): Promise<StreamBacklog> {
    const state = this.#streams.get(stream);
    const groups = [...(state?.groups ?? new Map<string, MemoryGroup>())]
      .map(([group, g]) => {
        let lag = 0;
        // Entries are kept in sequence order: count those after the group's last delivery.
        for (const seq of state?.entries.keys() ?? []) if (seq > g.lastDeliveredSeq) lag++;
        return { group, pending: g.pending.size, lag };
      })
      .sort((a, b) => a.group.localeCompare(b.group));
    return { stream, groups, deadLetters: this.#dead.get(deadStreamOf(stream))?.length ?? 0 };
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new Error("bus closed");
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((s) => s.stop(DEFAULT_STOP_DEADLINE_MS)));
  }

  #assertOpen(): void {
    if (this.#closed) throw new AppError("unavailable", "bus_closed", "the bus is closed");
  }

  #stream(name: string): MemoryStream {
    let state = this.#streams.get(name);
    if (!state) {
      state = { entries: new Map(), nextSeq: 1, groups: new Map(), wakers: new Set(), tails: new Set() };
      this.#streams.set(name, state);
    }
    return state;
  }

  #deadLetter(
    stream: string,
    group: MemoryGroup,
    groupName: string,
    seq: number,
    error: string,
    count: number,
  ) {
    const envelope = this.#streams.get(stream)?.entries.get(seq);
    group.pending.delete(seq);
    if (!envelope) return;
    const list = this.#dead.get(deadStreamOf(stream)) ?? [];
    const letter: DeadLetter = { envelope, stream, group: groupName, error, deliveryCount: count };
    this.#deadAt.set(letter, Date.now());
    list.push(letter);
    if (list.length > this.#maxLen) list.shift();
    this.#dead.set(deadStreamOf(stream), list);
  }

  #source(
    stream: string,
    state: MemoryStream,
    group: MemoryGroup,
    policy: ConsumePolicy,
    signal: AbortSignal,
    isInFlight: (seq: number) => boolean,
  ): MessageSource<number> {
    const me = policy.consumer;
    const taken = (seq: number, envelope: BusEnvelope, deliveryCount: number): Taken<number> => ({
      delivery: { envelope, stream, deliveryCount },
      handle: seq,
    });

    const takeNew = (max: number): Taken<number>[] => {
      const out: Taken<number>[] = [];
      for (let seq = group.lastDeliveredSeq + 1; seq < state.nextSeq && out.length < max; seq++) {
        group.lastDeliveredSeq = seq;
        const envelope = state.entries.get(seq);
        if (!envelope) continue; // trimmed before anyone read it
        group.pending.set(seq, {
          consumer: me,
          deliveryCount: 1,
          deliveredAt: Date.now(),
          failed: null,
          lastError: null,
        });
        out.push(taken(seq, envelope, 1));
      }
      return out;
    };

    return {
      claimDue: async (max) => {
        const now = Date.now();
        const out: Taken<number>[] = [];
        for (const [seq, entry] of group.pending) {
          if (out.length >= max) break;
          const envelope = state.entries.get(seq);
          if (!envelope) {
            group.pending.delete(seq);
            continue;
          }
          if (entry.consumer === me && isInFlight(seq)) continue;
          const dueAfter = entry.failed ? backoffMs(policy, entry.deliveryCount) : policy.reclaimIdleMs;
          const since = entry.failed ? entry.failed.at : entry.deliveredAt;
          if (now - since < dueAfter) continue;
          const lastError = entry.failed?.error ?? entry.lastError;
          if (entry.deliveryCount >= policy.maxDeliveries) {
            this.#deadLetter(
              stream,
              group,
              policy.group,
              seq,
              lastError ?? NOT_ACKED_ERROR,
              entry.deliveryCount,
            );
            continue;
          }
          Object.assign(entry, {
            consumer: me,
            deliveryCount: entry.deliveryCount + 1,
            deliveredAt: now,
            failed: null,
            lastError,
          });
          out.push(taken(seq, envelope, entry.deliveryCount));
        }
        return out;
      },
      readNew: async (max, waitMs) => {
        const fresh = takeNew(max);
        if (fresh.length > 0 || waitMs <= 0) return fresh;
        await pause(waitMs, signal, (wake) => {
          state.wakers.add(wake);
          return () => state.wakers.delete(wake);
        });
        return signal.aborted ? [] : takeNew(max);
      },
      ack: async ({ handle }) => {
        // Acked by whoever finishes first: a late ack from a reclaimed holder means it did the work.
        group.pending.delete(handle);
      },
      fail: async ({ handle, delivery }, error) => {
        const entry = group.pending.get(handle);
        // A stale failure (the message was reclaimed meanwhile) must not disturb the current holder.
        if (!entry || entry.consumer !== me || entry.deliveryCount !== delivery.deliveryCount) return;
        if (entry.deliveryCount >= policy.maxDeliveries) {
          this.#deadLetter(stream, group, policy.group, handle, error, entry.deliveryCount);
        } else {
          entry.failed = { error, at: Date.now() };
          entry.lastError = error;
        }
      },
      close: async () => {},
    };
  }
}
