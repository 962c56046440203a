import type { Redis } from "ioredis";
import { BusEnvelope } from "../../contracts/index.js";
import type { MessageSource, Taken } from "../consumer-loop.js";
import { backoffMs, type ConsumePolicy, deadStreamOf, errorText, NOT_ACKED_ERROR } from "../policy.js";

/** A stream entry as Redis returns it: id and a flat field/value list. */
type RawEntry = [id: string, fields: string[]];

/** Pending entries looked at per XPENDING page, and the most pages one scan reads. */
const PENDING_PAGE = 100;
const PENDING_MAX_PAGES = 10;

/**
 * Settles a failed delivery atomically, and only if this consumer still holds that very delivery
 * (a handler that fails after its message was reclaimed must not touch the new holder's attempt).
 * mode "retry": remember the error with the delivery count, and reset the idle clock (XCLAIM to
 * itself, JUSTID keeps the counter) so the backoff runs from the failure. mode "dead": copy to the
 * dead-letter stream and ack, in one step so a crash cannot leave it in both or neither.
 */
const SETTLE_FAILURE = `
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1, ARGV[3])
if #p == 0 or tonumber(p[1][4]) ~= tonumber(ARGV[4]) then return 0 end
if ARGV[8] == 'dead' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[10], '*', 'envelope', ARGV[7], 'error', ARGV[5],
    'deliveryCount', ARGV[6], 'group', ARGV[1], 'sourceId', ARGV[2])
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  redis.call('DEL', KEYS[2])
  return 2
end
redis.call('HSET', KEYS[2], 'error', ARGV[5], 'count', ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[9])
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
return 1
`;

/** What a Redis delivery keeps to settle itself later. */
export interface RedisHandle {
  readonly id: string;
  readonly raw: string;
}

export interface RedisSourceDeps {
  /** Shared connection for non-blocking commands. */
  client: Redis;
  /** Dedicated connection for XREADGROUP BLOCK; disconnected when the subscription stops. */
  blocking: Redis;
  maxLen: number;
  errorTtlMs: number;
}

/** Key of the last error of one message in one group; outlives the process that failed it. */
export function errorKey(stream: string, group: string, id: string): string {
  return `bus:error:${stream}:${group}:${id}`;
}

/** The value of `name` in a flat field/value list. */
export function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Parses an envelope kept as JSON; null when it is not JSON or breaks the contract. */
export function parseEnvelope(raw: string | undefined): BusEnvelope | null {
  if (raw === undefined) return null;
  try {
    const parsed = BusEnvelope.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * The consumer side of one subscription on Redis Streams. Delivery counts are Redis' own
 * times-delivered counters, so they survive the death of any process.
 */
export function redisSource(
  stream: string,
  policy: ConsumePolicy,
  deps: RedisSourceDeps,
  signal: AbortSignal,
  isInFlight: (handle: RedisHandle) => boolean,
): MessageSource<RedisHandle> {
  const { client, blocking } = deps;
  const me = policy.consumer;
  // Handles are compared by identity in the loop; keep one object per id while it is held.
  const held = new Map<string, RedisHandle>();
  let groupReady: Promise<void> | null = null;

  const ensureGroup = () => {
    groupReady ??= (async () => {
      try {
        // From the start of the stream: messages published before the first consumer are not lost.
        await client.call("XGROUP", ["CREATE", stream, policy.group, "0", "MKSTREAM"]);
      } catch (error) {
        if (!errorText(error).includes("BUSYGROUP")) {
          groupReady = null;
          throw error;
        }
      }
    })();
    return groupReady;
  };
  const onAbort = () => blocking.disconnect();
  signal.addEventListener("abort", onAbort, { once: true });

  const settleFailure = async (
    handle: RedisHandle,
    mode: "retry" | "dead",
    expectedCount: number,
    reportedCount: number,
    error: string,
  ) => {
    await client.eval(
      SETTLE_FAILURE,
      3,
      stream,
      errorKey(stream, policy.group, handle.id),
      deadStreamOf(stream),
      policy.group,
      handle.id,
      me,
      expectedCount,
      error,
      reportedCount,
      handle.raw,
      mode,
      deps.errorTtlMs,
      deps.maxLen,
    );
  };

  /** Turns a claimed or read entry into a delivery; broken envelopes go straight to dead letters. */
  const accept = async (entry: RawEntry, deliveryCount: number): Promise<Taken<RedisHandle> | null> => {
    const [id, fields] = entry;
    const raw = field(fields, "envelope") ?? "";
    const handle: RedisHandle = { id, raw };
    const envelope = parseEnvelope(raw);
    if (!envelope) {
      const stub = {
        id,
        type: "bus.invalid_envelope",
        payload: raw,
        correlationId: null,
        replyTo: null,
        traceparent: null,
      };
      const wrapped = JSON.stringify({ ...stub, createdAt: new Date().toISOString() });
      await settleFailure({ id, raw: wrapped }, "dead", deliveryCount, deliveryCount, "invalid envelope");
      return null;
    }
    held.set(id, handle);
    return { delivery: { envelope, stream, deliveryCount }, handle };
  };

  const claimDue = async (max: number): Promise<Taken<RedisHandle>[]> => {
    await ensureGroup();
    const out: Taken<RedisHandle>[] = [];
    const minIdle = Math.min(policy.retryBaseMs, policy.reclaimIdleMs);
    let start = "-";
    for (let page = 0; page < PENDING_MAX_PAGES && out.length < max; page++) {
      const rows = (await client.call("XPENDING", [
        stream,
        policy.group,
        "IDLE",
        minIdle,
        start,
        "+",
        PENDING_PAGE,
      ])) as [string, string, number, number][];
      if (rows.length === 0) break;
      const failures = await Promise.all(
        rows.map(([id]) => client.hgetall(errorKey(stream, policy.group, id))),
      );
      for (const [i, [id, owner, idleMs, count]] of rows.entries()) {
        if (out.length >= max) break;
        const heldHandle = held.get(id);
        if (owner === me && heldHandle && isInFlight(heldHandle)) continue;
        const failure = failures[i] ?? {};
        // A stored error for this very delivery means it failed and waits out its backoff;
        // otherwise its holder is still on it (or dead), which only reclaimIdleMs can tell.
        const hasFailed = Number(failure.count) === count;
        const dueAfter = hasFailed ? backoffMs(policy, count) : policy.reclaimIdleMs;
        if (idleMs < dueAfter) continue;
        const claimed = (await client.call("XCLAIM", [stream, policy.group, me, dueAfter, id])) as RawEntry[];
        const entry = claimed[0];
        if (!entry) continue; // another consumer won the claim, or the entry was trimmed
        if (count >= policy.maxDeliveries) {
          const handle = { id, raw: field(entry[1], "envelope") ?? "" };
          await settleFailure(handle, "dead", count + 1, count, failure.error ?? NOT_ACKED_ERROR);
          continue;
        }
        const taken = await accept(entry, count + 1);
        if (taken) out.push(taken);
      }
      if (rows.length < PENDING_PAGE) break;
      start = `(${rows[rows.length - 1]?.[0]}`;
    }
    return out;
  };

  const readNew = async (max: number, waitMs: number): Promise<Taken<RedisHandle>[]> => {
    await ensureGroup();
    const block = waitMs > 0 ? ["BLOCK", Math.ceil(waitMs)] : [];
    let reply: [string, RawEntry[]][] | null;
    try {
      reply = (await blocking.call("XREADGROUP", [
        "GROUP",
        policy.group,
        me,
        "COUNT",
        max,
        ...block,
        "STREAMS",
        stream,
        ">",
      ])) as [string, RawEntry[]][] | null;
    } catch (error) {
      if (signal.aborted) return [];
      // The stream (and so its group) was deleted: create both again on the next round.
      if (errorText(error).includes("NOGROUP")) groupReady = null;
      throw error;
    }
    const out: Taken<RedisHandle>[] = [];
    for (const entry of reply?.[0]?.[1] ?? []) {
      const taken = await accept(entry, 1);
      if (taken) out.push(taken);
    }
    return out;
  };

  return {
    claimDue,
    readNew,
    ack: async ({ handle }) => {
      held.delete(handle.id);
      // Acked whoever holds it now: a late ack from a reclaimed holder means the work was done.
      await client
        .multi()
        .xack(stream, policy.group, handle.id)
        .del(errorKey(stream, policy.group, handle.id))
        .exec();
    },
    fail: async ({ handle, delivery }, error) => {
      held.delete(handle.id);
      const mode = delivery.deliveryCount >= policy.maxDeliveries ? "dead" : "retry";
      await settleFailure(handle, mode, delivery.deliveryCount, delivery.deliveryCount, error);
    },
    close: async () => {
      signal.removeEventListener("abort", onAbort);
      blocking.disconnect();
    },
  };
}
