import { request } from "node:http";

/** One server-sent event as the client reads it; `data` is the raw text after `data: `. */
export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/**
 * An SSE response read as it arrives: `events` grows (and `onEvent` sees each), `done` resolves
 * when the server ends it, `waitFor` resolves once a matching event is in, `close` leaves early.
 */
export function openEventStream(
  url: string,
  headers: Record<string, string>,
  onEvent: (event: SseEvent) => void = () => {},
) {
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let status = 0;
  let leave = () => {};
  const done = new Promise<{ status: number; events: SseEvent[] }>((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      status = res.statusCode ?? 0;
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        const blocks = buffer.split("\n\n");
        buffer = blocks.pop() ?? "";
        for (const block of blocks) {
          if (!block || block.startsWith(":")) continue;
          const fields = block
            .split("\n")
            .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]);
          const event: SseEvent = Object.fromEntries(fields);
          events.push(event);
          onEvent(event);
        }
        for (const wake of waiters) wake();
      });
      res.on("end", () => resolve({ status, events }));
      res.on("close", () => resolve({ status, events }));
    });
    req.on("error", reject);
    req.end();
    leave = () => req.destroy();
  });
  /** Resolves once an event matching `match` has arrived (rejects if the stream ends first). */
  const waitFor = (match: (e: SseEvent) => boolean) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (events.some(match)) {
          waiters.delete(check);
          resolve();
        }
      };
      waiters.add(check);
      check();
      done.then(() => {
        check();
        reject(new Error(`stream ended without the awaited event: ${JSON.stringify(events)}`));
      }, reject);
    });
  return { events, done, waitFor, close: () => leave() };
}
