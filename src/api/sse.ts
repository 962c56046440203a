import type { FastifyReply, FastifyRequest } from "fastify";
import type { Store } from "../store/store.js";

/**
 * Server-sent events of one run: replays events after `afterSeq`, then polls the store for new
 * ones. The store is the source of truth, so this works when another process writes the events.
 * The stream ends after the run is terminal and its last events are sent, or when the client leaves.
 * Events are redacted as they are written, like every other answer of the API.
 */
export function streamRunEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  opts: { store: Store; runId: string; afterSeq: number; pollMs: number; openStreams: Set<() => void> },
): void {
  reply.hijack();
  // A hijacked reply skips the API's answer hook: each event is masked here.
  const { redactor } = request.server;
  const raw = reply.raw;
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  raw.write(": stream of run events\n\n");
  let afterSeq = opts.afterSeq;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const close = () => {
    if (closed) return;
    closed = true;
    if (timer) clearTimeout(timer);
    opts.openStreams.delete(close);
    raw.end();
  };
  request.raw.on("close", close);
  opts.openStreams.add(close);

  const tick = async () => {
    if (closed) return;
    try {
      const events = await opts.store.runEvents.list(opts.runId, { afterSeq, limit: 500 });
      for (const event of events) {
        const data = JSON.stringify(redactor.redactValue(event));
        raw.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${data}\n\n`);
        afterSeq = event.seq;
      }
      if (events.length === 0) {
        const run = await opts.store.runs.get(opts.runId);
        if (run.finishedAt !== null) {
          raw.write(`event: end\ndata: ${JSON.stringify({ status: run.status })}\n\n`);
          close();
          return;
        }
      }
    } catch (error) {
      request.log.error({ err: error, runId: opts.runId }, "run event stream failed");
      raw.write(`event: error\ndata: ${JSON.stringify({ message: "stream interrupted" })}\n\n`);
      close();
      return;
    }
    timer = setTimeout(() => void tick(), opts.pollMs);
  };
  void tick();
}
