import { useEffect, useRef } from "react";
import type { LiveTopic } from "./contract";

/** Several changes this close together cause one read, so a busy run does not flood the API. */
const COALESCE_MS = 300;
/** How long to wait before opening the stream again after the browser gave it up. */
const REOPEN_MS = 5_000;

type Listener = { topics: ReadonlySet<LiveTopic>; notify(): void };

/**
 * The one admin change stream of this tab (`/api/admin/events`), shared by every mounted page and
 * closed when the last one leaves. A `ready` after the first (the browser reconnected) tells every
 * page to read again: changes made while it was away were not announced.
 */
class ChangeStream {
  readonly #listeners = new Set<Listener>();
  #source: EventSource | null = null;
  #reopen: ReturnType<typeof setTimeout> | undefined;
  #wasReady = false;

  add(listener: Listener): () => void {
    this.#listeners.add(listener);
    if (!this.#source) this.#open();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#close();
    };
  }

  #open(): void {
    const source = new EventSource("/api/admin/events");
    this.#source = source;
    source.addEventListener("ready", () => {
      if (this.#wasReady) for (const listener of this.#listeners) listener.notify();
      this.#wasReady = true;
    });
    source.addEventListener("change", (event) => {
      const topics = parseTopics((event as MessageEvent<string>).data);
      for (const listener of this.#listeners)
        if (topics.some((topic) => listener.topics.has(topic))) listener.notify();
    });
    source.addEventListener("error", () => {
      // The browser retries by itself unless the answer was an error status (a session that
      // ended, a restart behind a proxy); then it is opened again after a pause.
      if (source.readyState !== EventSource.CLOSED) return;
      this.#source = null;
      clearTimeout(this.#reopen);
      this.#reopen = setTimeout(() => {
        if (this.#listeners.size > 0 && !this.#source) this.#open();
      }, REOPEN_MS);
    });
  }

  #close(): void {
    clearTimeout(this.#reopen);
    this.#source?.close();
    this.#source = null;
    this.#wasReady = false;
  }
}

function parseTopics(data: string): LiveTopic[] {
  try {
    const value = JSON.parse(data) as { topics?: unknown };
    return Array.isArray(value.topics) ? (value.topics as LiveTopic[]) : [];
  } catch {
    // Only the API writes this stream; a malformed event names nothing, and the next one counts.
    return [];
  }
}

const stream = new ChangeStream();

/**
 * Calls `onUpdate` when records of any of `topics` change (whoever changed them), at most once per
 * `COALESCE_MS`. Pass a `useResource`'s `reload` to keep a page current with no polling.
 */
export function useLiveUpdates(topics: readonly LiveTopic[], onUpdate: () => void): void {
  const latest = useRef(onUpdate);
  latest.current = onUpdate;
  const key = [...topics].sort().join(",");
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const remove = stream.add({
      topics: new Set(key.split(",") as LiveTopic[]),
      notify() {
        if (timer !== undefined) return;
        timer = setTimeout(() => {
          timer = undefined;
          latest.current();
        }, COALESCE_MS);
      },
    });
    return () => {
      clearTimeout(timer);
      remove();
    };
  }, [key]);
}
