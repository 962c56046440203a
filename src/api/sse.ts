import type { FastifyReply, FastifyRequest } from "fastify";
import { type RunEvent, RunStatusMachine } from "../contracts/index.js";
import type { Store } from "../store/index.js";
import type { RunEventFeed, RunEventListener } from "./run-event-feed.js";

/** Events read from the store per page while replaying. */
const REPLAY_PAGE = 500;

/**
 * How often a live stream says it is still there (proxies close silent connections) and looks in
 * the store for what the bus did not bring: an event whose publish was lost, or the run's end.
 * Delivery itself is pushed; this only repairs.
 */
export const SSE_REPAIR_INTERVAL_MS = 15_000;

/**
 * Takes the reply over as a server-sent event stream (no buffering by proxies) and writes its
 * opening comment; answers the raw response to write events to.
 */
export function openEventStream(reply: FastifyReply, comment: string): FastifyReply["raw"] {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  raw.write(`: ${comment}\n\n`);
  return raw;
}

/** What a run event stream needs: the store (history), the live feed and the run. */
export interface RunEventStreamOptions {
  store: Store;
  /** Live events from the bus the run journals publish on (in a split deployment, Redis). */
  feed: RunEventFeed;
  runId: string;
  afterSeq: number;
  /** Close functions of open streams, so server shutdown never waits on a client. */
  openStreams: Set<() => void>;
  /** `SSE_REPAIR_INTERVAL_MS` unless given. */
  repairIntervalMs?: number;
}

/**
 * Server-sent events of one run, pushed with no polling: a tail on the run-events stream starts
 * first (its events are held), the store replays events after `afterSeq`, then held and live
 * events follow, each sent once. An event whose publish came late or never (two writers of one
 * run, a process that died between write and publish) is sent by the next repair, even after a
 * later one: the repair reads again from the last seq sent two repairs ago. The stream ends (event
 * `end` with the status) after a terminal `run.status_changed`, right after the replay when the run
 * had already finished, or when the client leaves. Events are redacted as they are written, like every other answer of the API.
 */
export function streamRunEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  opts: RunEventStreamOptions,
): void {
  // A hijacked reply skips the API's answer hook: each event is masked here.
  const { redactor } = request.server;
  const raw = openEventStream(reply, "stream of run events");

  /** Every event at or below it was sent (or settled before the stream). */
  let floorSeq = opts.afterSeq;
  /** The highest seq sent, and what was sent above the floor. */
  let sentSeq = opts.afterSeq;
  const sent = new Set<number>();
  let closed = false;
  let live = false;
  const held: RunEvent[] = [];
  let tail: RunEventListener | null = null;
  let repair: NodeJS.Timeout | undefined;

  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(repair);
    opts.openStreams.delete(close);
    void tail?.stop().catch((error: unknown) => {
      request.log.warn({ err: error, runId: opts.runId }, "run event tail did not stop cleanly");
    });
    raw.end();
  };
  request.raw.on("close", close);
  opts.openStreams.add(close);

  const end = (status: string) => {
    if (closed) return;
    raw.write(`event: end\ndata: ${JSON.stringify({ status })}\n\n`);
    close();
  };
  /** Writes one event unless it was already sent; true when it ended the run. */
  const send = (event: RunEvent): boolean => {
    if (closed || event.seq <= floorSeq || sent.has(event.seq)) return false;
    const data = JSON.stringify(redactor.redactValue(event));
    raw.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${data}\n\n`);
    sent.add(event.seq);
    sentSeq = Math.max(sentSeq, event.seq);
    if (event.type === "run.status_changed" && RunStatusMachine.isTerminal(event.data.to)) {
      end(event.data.to);
      return true;
    }
    return false;
  };

  tail = opts.feed.follow(opts.runId, (event) => {
    if (closed) return;
    if (live) send(event);
    else held.push(event);
  });

  /** Sends the stored events after `afterSeq` not sent yet; true when one of them ended the run. */
  const replay = async (afterSeq: number): Promise<boolean> => {
    for (let from = afterSeq; ; ) {
      if (closed) return true;
      const page = await opts.store.runEvents.list(opts.runId, { afterSeq: from, limit: REPLAY_PAGE });
      for (const event of page) if (send(event)) return true;
      if (page.length < REPLAY_PAGE) return false;
      from = page.at(-1)?.seq ?? from;
    }
  };
  const fail = (error: unknown) => {
    if (closed) return;
    request.log.error({ err: error, runId: opts.runId }, "run event stream failed");
    raw.write(`event: error\ndata: ${JSON.stringify({ message: "stream interrupted" })}\n\n`);
    close();
  };

  const start = async () => {
    await tail?.ready;
    // Whether the run had finished before the replay: then the replay holds its last events.
    const finishedBefore = (await opts.store.runs.get(opts.runId)).finishedAt !== null;
    if (await replay(floorSeq)) return;
    held.sort((a, b) => a.seq - b.seq);
    for (const event of held.splice(0)) if (send(event)) return;
    live = true;
    if (finishedBefore) {
      const run = await opts.store.runs.get(opts.runId);
      end(run.status);
      return;
    }
    // What was sent up to the last repair: an event below it still unsent is taken as never coming.
    let settledSeq = sentSeq;
    repair = setInterval(() => {
      if (closed) return;
      raw.write(": still here\n\n");
      const check = async () => {
        if (await replay(floorSeq)) return;
        floorSeq = settledSeq;
        settledSeq = sentSeq;
        for (const seq of sent) if (seq <= floorSeq) sent.delete(seq);
        const run = await opts.store.runs.get(opts.runId);
        if (run.finishedAt !== null) end(run.status);
      };
      check().catch(fail);
    }, opts.repairIntervalMs ?? SSE_REPAIR_INTERVAL_MS);
  };
  start().catch(fail);
}
