/**
 * One bot's queue of updates, kept as Telegram keeps it: an update stays until the bot confirms it
 * (a getUpdates `offset` above its id, or a 2xx from the webhook), so it comes again after a crash or
 * an aborted poll. At most one long poll waits on the queue at a time, as on Telegram.
 */
import { type ApiAnswer, fail, ok } from "./protocol.js";

/** An update as the bot receives it: its id and one field named after its type. */
export type FakeUpdate = { update_id: number } & Record<string, unknown>;

/** What a getUpdates call asks for, already checked and clamped. */
export interface PollRequest {
  offset: number;
  limit: number;
  timeoutS: number;
}

/** Types Telegram leaves out while `allowed_updates` is empty or was never given. */
const OPT_IN_TYPES = new Set(["chat_member", "message_reaction", "message_reaction_count"]);

/** What the older of two concurrent getUpdates calls is told. */
export const CONFLICT_OTHER_POLL =
  "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";

interface WaitingPoll {
  wake(): void;
  end(answer: ApiAnswer): void;
}

/** A bot's unconfirmed updates and the one long poll waiting on them. */
export class UpdateQueue {
  #updates: FakeUpdate[] = [];
  #nextId = 1;
  /** Empty means Telegram's default set. */
  #allowedTypes: string[] = [];
  #poll: WaitingPoll | undefined;

  /** Updates not yet confirmed. */
  get pendingCount(): number {
    return this.#updates.length;
  }

  get isPolled(): boolean {
    return this.#poll !== undefined;
  }

  get allowedTypes(): readonly string[] {
    return this.#allowedTypes;
  }

  /** Remembers `allowed_updates` when given; like Telegram, an omitted list keeps the last one. */
  setAllowedTypes(types: unknown): void {
    if (Array.isArray(types)) this.#allowedTypes = types.map(String);
  }

  /**
   * Gives the update the next id and queues it, unless `allowed_updates` excludes its type (Telegram
   * never creates those). Returns the id either way. A waiting poll is answered on the next turn of
   * the event loop, so updates pushed together arrive in one batch.
   */
  push(build: (updateId: number) => FakeUpdate): number {
    const update = build(this.#nextId++);
    const type = Object.keys(update).find((key) => key !== "update_id") ?? "";
    const isAllowed =
      this.#allowedTypes.length === 0 ? !OPT_IN_TYPES.has(type) : this.#allowedTypes.includes(type);
    if (isAllowed) {
      this.#updates.push(update);
      setImmediate(() => this.#poll?.wake());
    }
    return update.update_id;
  }

  /** The oldest updates not yet confirmed. */
  peek(limit: number): FakeUpdate[] {
    return this.#updates.slice(0, limit);
  }

  /**
   * Forgets the updates an offset confirms: a positive one every update below it, a negative one
   * all but the last `-offset` (Telegram's way to skip a backlog).
   */
  confirm(offset: number): void {
    if (offset > 0) this.#updates = this.#updates.filter((u) => u.update_id >= offset);
    else if (offset < 0) this.#updates = this.#updates.slice(offset);
  }

  drop(): void {
    this.#updates = [];
  }

  /**
   * Answers a getUpdates call: at once when updates wait or `timeoutS` is 0, else when one arrives
   * or the timeout passes. A poll already waiting ends with 409 Conflict. When `signal` aborts (the
   * client went away) the poll stops waiting and nothing is lost: its updates stay unconfirmed.
   */
  poll(request: PollRequest, signal: AbortSignal): ApiAnswer | Promise<ApiAnswer> {
    this.confirm(request.offset);
    this.#poll?.end(fail(409, CONFLICT_OTHER_POLL));
    if (this.#updates.length > 0 || request.timeoutS === 0 || signal.aborted) {
      return ok(this.peek(request.limit));
    }
    return new Promise((resolve) => {
      const poll: WaitingPoll = {
        wake: () => poll.end(ok(this.peek(request.limit))),
        end: (answer) => {
          clearTimeout(timer);
          signal.removeEventListener("abort", poll.wake);
          if (this.#poll === poll) this.#poll = undefined;
          resolve(answer);
        },
      };
      const timer = setTimeout(poll.wake, request.timeoutS * 1000);
      signal.addEventListener("abort", poll.wake, { once: true });
      this.#poll = poll;
    });
  }

  /** Ends a waiting poll with `answer` (a 409 when a webhook takes over, an empty batch on close). */
  endPoll(answer: ApiAnswer): void {
    this.#poll?.end(answer);
  }
}
