import { ApiError } from "./api";
import type { ChatMessage, ConversationState } from "./contract";

/** One server-sent event: its name (`message` when none is given) and its data lines joined. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Turns the text of an event stream, in chunks cut anywhere, into events (the WHATWG rules we
 * need: `event` and `data` fields, comments, LF/CRLF/CR line ends, a blank line ends an event).
 */
export class SseParser {
  private buffer = "";
  private event = "";
  private data: string[] = [];

  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const events: SseEvent[] = [];
    for (;;) {
      const end = this.buffer.search(/\r\n|\r|\n/);
      // A lone CR at the end may be half of a CRLF still on its way.
      if (end < 0 || (this.buffer[end] === "\r" && end === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + (this.buffer.startsWith("\r\n", end) ? 2 : 1));
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | null {
    if (line === "") {
      const event =
        this.data.length > 0 ? { event: this.event || "message", data: this.data.join("\n") } : null;
      this.event = "";
      this.data = [];
      return event;
    }
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
    return null;
  }
}

/** What a conversation's stream reports to its reader. */
export interface StreamHandlers {
  /** A new message, or a known one again (same id) after an edit. */
  onMessage(message: ChatMessage): void;
  onState(state: ConversationState): void;
  /** The secrets the PO waits for, by name (none: empty). */
  onSecrets?(keys: string[]): void;
  /** The stream is open (true) or lost and being reopened (false). */
  onConnection(isConnected: boolean): void;
  /** The server refused the stream for good (token refused, no such conversation): no retry. */
  onFatal(error: ApiError): void;
}

export interface FollowOptions {
  url: (after: number) => string;
  /** Resume after this seq (the last message already shown). */
  after: number;
  handlers: StreamHandlers;
  /** First wait before reopening; it doubles per failed attempt up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A stream silent this long (the server pings every 15 s) is taken as dead and reopened. */
  idleTimeoutMs?: number;
}

/** Statuses that will not change by asking again. */
const FINAL_STATUSES = new Set([400, 401, 403, 404, 410]);

/**
 * Follows a conversation's event stream with `fetch` (to tell a refused session from a lost stream),
 * reopening it with backoff after any loss and resuming after the highest seq seen. Returns a
 * function that stops it.
 */
export function followConversation(options: FollowOptions): () => void {
  const { handlers } = options;
  const initialBackoffMs = options.initialBackoffMs ?? 500;
  const maxBackoffMs = options.maxBackoffMs ?? 15_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  const stopped = new AbortController();
  let after = options.after;

  const dispatch = (event: SseEvent) => {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    if (event.event === "message") {
      const message = data as ChatMessage;
      after = Math.max(after, message.seq);
      handlers.onMessage(message);
    } else if (event.event === "state") {
      handlers.onState((data as { state: ConversationState }).state);
    } else if (event.event === "secrets") {
      handlers.onSecrets?.((data as { keys: string[] }).keys);
    }
  };

  /** Reads one connection to its end; true when it got anything (the next wait starts short again). */
  const readOnce = async (): Promise<boolean> => {
    const connection = new AbortController();
    const abort = () => connection.abort();
    stopped.signal.addEventListener("abort", abort);
    let idle = setTimeout(abort, idleTimeoutMs);
    let isHealthy = false;
    try {
      const response = await fetch(options.url(after), {
        headers: { accept: "text/event-stream" },
        credentials: "same-origin",
        cache: "no-store",
        signal: connection.signal,
      });
      if (!response.ok) {
        const error = await ApiError.from(response);
        if (FINAL_STATUSES.has(response.status)) throw error;
        return false;
      }
      if (!response.body) return false;
      handlers.onConnection(true);
      const parser = new SseParser();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return isHealthy;
        isHealthy = true;
        clearTimeout(idle);
        idle = setTimeout(abort, idleTimeoutMs);
        for (const event of parser.push(value)) dispatch(event);
      }
    } catch (error) {
      if (error instanceof ApiError) throw error;
      return isHealthy;
    } finally {
      clearTimeout(idle);
      stopped.signal.removeEventListener("abort", abort);
    }
  };

  const run = async () => {
    let attempt = 0;
    while (!stopped.signal.aborted) {
      try {
        attempt = (await readOnce()) ? 0 : attempt + 1;
      } catch (error) {
        if (!stopped.signal.aborted) handlers.onFatal(error as ApiError);
        return;
      }
      if (stopped.signal.aborted) return;
      handlers.onConnection(false);
      await sleep(backoffMs(attempt, initialBackoffMs, maxBackoffMs), stopped.signal);
    }
  };
  void run();
  return () => stopped.abort();
}

/** The wait before attempt `attempt` (0 right after a healthy stream), with jitter so clients spread out. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** attempt);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
