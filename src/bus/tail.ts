import type { BusEnvelope } from "../contracts/index.js";
import { type BusLogger, errorText } from "./policy.js";

/**
 * Hands one tail's messages to its handler one at a time, in arrival order, so a slow async handler
 * never sees two messages at once; a throwing handler loses only that message (tails do not retry).
 */
export class TailQueue {
  readonly #queue: BusEnvelope[] = [];
  /** The current (or last) drain; `#running` says whether it is still going. */
  #draining: Promise<void> = Promise.resolve();
  #running = false;
  #stopped = false;

  constructor(
    private readonly stream: string,
    private readonly handler: (envelope: BusEnvelope) => void | Promise<void>,
    private readonly logger: BusLogger | undefined,
  ) {}

  push(envelope: BusEnvelope): void {
    if (this.#stopped) return;
    this.#queue.push(envelope);
    if (this.#running) return;
    // Set before the call: a drain whose handlers all finish synchronously clears it before returning.
    this.#running = true;
    this.#draining = this.#drain();
  }

  /** Drops what is still queued; resolves when the message being handled (if any) is done. */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#queue.length = 0;
    return this.#draining;
  }

  async #drain(): Promise<void> {
    for (let envelope = this.#queue.shift(); envelope; envelope = this.#queue.shift()) {
      try {
        await this.handler(envelope);
      } catch (error) {
        this.logger?.warn(
          { stream: this.stream, type: envelope.type, err: errorText(error) },
          "bus: tail handler failed; message skipped for this tail",
        );
      }
    }
    this.#running = false;
  }
}
