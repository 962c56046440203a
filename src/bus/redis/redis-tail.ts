import type { Redis } from "ioredis";
import type { BusEnvelope } from "../../contracts/index.js";
import { type BusLogger, errorText, pause, settleWithin } from "../policy.js";
import { TailQueue } from "../tail.js";
import { field, parseEnvelope } from "./redis-source.js";

/** A stream entry as Redis returns it: id and a flat field/value list. */
type RawEntry = [id: string, fields: string[]];

/** Longest single XREAD BLOCK; stop does not wait for it (it closes the connection). */
const TAIL_BLOCK_MS = 5_000;
/** Pause after a failed read before trying again (Redis restarting, network blip). */
const TAIL_RETRY_MS = 500;
/** Entries taken per read. */
const TAIL_BATCH = 500;

/** A running tail on Redis: positioned once `ready` resolves, ended by `stop`. */
export interface RedisTail {
  readonly ready: Promise<void>;
  stop(deadlineMs: number): Promise<void>;
}

/**
 * Broadcast read of one stream on its own connection: finds the stream's last id (so `ready` means
 * "everything published from now on"), then XREAD BLOCKs from the last id it saw. No group, no
 * ack: a tail that was down misses what was published meanwhile. `stop` closes the connection,
 * which ends a blocked read at once.
 */
export function redisTail(
  stream: string,
  connection: Redis,
  handler: (envelope: BusEnvelope) => void | Promise<void>,
  logger: BusLogger | undefined,
): RedisTail {
  const queue = new TailQueue(stream, handler, logger);
  const abort = new AbortController();
  let markReady = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  const loop = (async () => {
    let lastId: string | null = null;
    while (!abort.signal.aborted) {
      try {
        if (lastId === null) {
          const rows = (await connection.call("XREVRANGE", [stream, "+", "-", "COUNT", 1])) as RawEntry[];
          // An empty (or missing) stream: everything that appears in it is new to this tail.
          lastId = rows[0]?.[0] ?? "0-0";
          markReady();
          continue;
        }
        const reply = (await connection.call("XREAD", [
          "COUNT",
          TAIL_BATCH,
          "BLOCK",
          TAIL_BLOCK_MS,
          "STREAMS",
          stream,
          lastId,
        ])) as [string, RawEntry[]][] | null;
        for (const [id, fields] of reply?.[0]?.[1] ?? []) {
          lastId = id;
          const envelope = parseEnvelope(field(fields, "envelope"));
          if (envelope) queue.push(envelope);
        }
      } catch (error) {
        if (abort.signal.aborted) break;
        logger?.warn({ stream, err: errorText(error) }, "bus: tail read failed; retrying");
        await pause(TAIL_RETRY_MS, abort.signal);
      }
    }
    // A tail stopped before it was positioned must not leave anyone waiting on `ready`.
    markReady();
  })();

  return {
    ready,
    stop: async (deadlineMs) => {
      abort.abort();
      connection.disconnect();
      await settleWithin(Promise.all([loop, queue.stop()]), deadlineMs);
    },
  };
}
