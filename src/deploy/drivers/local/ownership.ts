import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "../../../contracts/index.js";
import type { Logger } from "../../../observability/index.js";
import type { OwnerRef, ReleaseOwner, Store } from "../../../store/index.js";
import { STOP_GRACE_MS } from "./child-command.js";
import { isReleaseProcess } from "./orphans.js";

/** Reads of the record while a live previous owner stops its copy. */
const HANDOVER_POLL_MS = 200;
/** Lost compare-and-sets tolerated in one `take` before it gives up as `conflict`. */
const CLAIM_ATTEMPTS = 8;

export interface ReleaseOwnershipOptions {
  store: Pick<Store, "releaseOwners" | "instances">;
  /** This engine as others know it: its heartbeat's instance id and incarnation. */
  self: OwnerRef;
  /**
   * This engine's heartbeat lease. An owner notices a takeover within a third of its own lease (its
   * periodic check), so a takeover waits two of the owner's leases and a stop's grace before giving
   * up; this one stands in when the owner's heartbeat cannot be read.
   */
  leaseTtlMs: number;
  logger: Logger;
  /** The machine name recorded beside a pid (default: this one's). */
  host?: string;
  /** How often the record is read while waiting for a handover (default 200 ms). */
  pollMs?: number;
  /** Fixed bound on waiting for a live owner to stop its copy (default: from the owner's lease). */
  handoverDeadlineMs?: number;
  /** What a stopping release is given over the owner's two leases (default: a stop's grace). */
  handoverGraceMs?: number;
}

/** What taking a project leaves for the taker to do: a process a dead holder may have left running. */
export interface Taken {
  /** The pid of the previous holder's release on this machine when that holder is gone, else null. */
  leftoverPid: number | null;
}

/** Whether two references name the same incarnation of the same process. */
function isSameOwner(a: OwnerRef | null, b: OwnerRef | null): boolean {
  return a !== null && b !== null && a.id === b.id && a.incarnation === b.incarnation;
}

/**
 * This engine's side of the store's release ownership (`ReleaseOwnerRepository`), for the `local`
 * driver when several engines share one data directory:
 * - a release belongs to the engine that started it; a process owned by a live engine is never
 *   signalled by another;
 * - a deploy, rollback or teardown takes the project whoever holds it. From a live owner this is a
 *   handover through the store: the record names the old owner in `handover`; that engine's
 *   periodic check sees it no longer owns the project, stops its copy and clears the mark; only
 *   then does the taker start its own (or, when the old owner dies meanwhile, end what it left);
 * - a release whose owner is gone (lease expired, restarted under a new incarnation, or stopped
 *   cleanly and gave it up) is adopted by compare-and-set from the record as read, so a deploy on a
 *   live engine in the meantime wins over an adoption.
 */
export class ReleaseOwnership {
  readonly self: OwnerRef;
  readonly host: string;
  private readonly pollMs: number;

  constructor(private readonly opts: ReleaseOwnershipOptions) {
    this.self = { id: opts.self.id, incarnation: opts.self.incarnation };
    this.host = opts.host ?? hostname();
    this.pollMs = opts.pollMs ?? HANDOVER_POLL_MS;
  }

  isSelf(ref: OwnerRef | null): boolean {
    return isSameOwner(ref, this.self);
  }

  get(projectId: string): Promise<ReleaseOwner | null> {
    return this.opts.store.releaseOwners.get(projectId);
  }

  records(): Promise<ReleaseOwner[]> {
    return this.opts.store.releaseOwners.list();
  }

  /** Alive means: its heartbeat has not expired and it is still the incarnation that held the thing. */
  async isAlive(ref: OwnerRef | null): Promise<boolean> {
    if (ref === null) return false;
    if (this.isSelf(ref)) return true;
    const instance = await this.opts.store.instances.get(ref.id);
    return instance?.alive === true && instance.incarnation === ref.incarnation;
  }

  /**
   * Makes this engine the project's owner with `want` (release null: nothing should run), whoever
   * held it; waits for a live previous owner to stop its copy. Throws `unavailable`
   * `handover_timeout` when a live owner does not within the deadline, and `conflict`
   * `release_taken_over` when yet another engine takes the project meanwhile.
   */
  async take(projectId: string, want: { release: string | null; port: number | null }): Promise<Taken> {
    const startedAt = Date.now();
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const seen = await this.get(projectId);
      // One handover at a time: an earlier takeover still waiting for a live engine finishes first.
      const pending = seen?.handover ?? null;
      if (pending && !this.isSelf(pending) && (await this.isAlive(pending))) {
        await this.awaitHandover(projectId, pending, startedAt, false);
        continue;
      }
      const previous = seen?.owner && !this.isSelf(seen.owner) ? seen.owner : null;
      const isPreviousAlive = await this.isAlive(previous);
      const claimed = await this.opts.store.releaseOwners.claim(projectId, seen, {
        owner: this.self,
        host: this.host,
        release: want.release,
        port: want.port,
        handover: isPreviousAlive ? previous : null,
      });
      if (!claimed) continue;
      if (previous && isPreviousAlive) {
        this.opts.logger.info(
          { projectId, from: previous.id },
          "took the release over from a live engine: waiting for it to stop its copy",
        );
        if ((await this.awaitHandover(projectId, previous, startedAt, true)) === "stopped") {
          return { leftoverPid: null };
        }
      }
      return { leftoverPid: previous ? this.leftoverOf(seen) : null };
    }
    throw new AppError(
      "conflict",
      "release_contended",
      `the release of project ${projectId} changed hands ${CLAIM_ATTEMPTS} times while this engine took it`,
      { details: [{ path: "projectId", message: "other engines keep taking this project; try again" }] },
    );
  }

  /**
   * Takes a project whose owner is gone, only from the record the caller judged (`seen`; null: a
   * release no engine ever claimed). Null when another engine changed the record first.
   */
  async adopt(
    projectId: string,
    seen: ReleaseOwner | null,
    want: { release: string; port: number | null },
  ): Promise<Taken | null> {
    const claimed = await this.opts.store.releaseOwners.claim(projectId, seen, {
      owner: this.self,
      host: this.host,
      release: want.release,
      port: want.port,
      handover: null,
    });
    return claimed ? { leftoverPid: this.leftoverOf(seen) } : null;
  }

  /** Records the pid of a (re)started release; a false answer means another engine took it. */
  async recordPid(projectId: string, pid: number | null): Promise<void> {
    const isOwner = await this.opts.store.releaseOwners.setPid(projectId, this.self, pid);
    if (!isOwner) {
      this.opts.logger.info(
        { projectId, pid },
        "another engine owns this release now: this engine's copy stops at its next ownership check",
      );
    }
  }

  /** Tells the engine that took the project over that this engine's copy is stopped. */
  async acknowledge(projectId: string): Promise<boolean> {
    return this.opts.store.releaseOwners.ackHandover(projectId, this.self);
  }

  /** Gives one project up (after a teardown: nothing runs and nobody needs to adopt it). */
  async relinquish(projectId: string): Promise<void> {
    await this.opts.store.releaseOwners.relinquish(projectId, this.self);
  }

  /**
   * A clean stop, after this engine's releases were stopped: gives up every project it owns so a
   * live engine adopts them at once, and acknowledges every handover still waiting on it. A store
   * failure is logged: the releases then wait for this engine's lease to expire.
   */
  async giveUpAll(): Promise<string[]> {
    const given: string[] = [];
    try {
      for (const record of await this.records()) {
        if (this.isSelf(record.handover)) await this.acknowledge(record.projectId);
        if (
          this.isSelf(record.owner) &&
          (await this.opts.store.releaseOwners.relinquish(record.projectId, this.self))
        ) {
          given.push(record.projectId);
        }
      }
    } catch (error) {
      this.opts.logger.warn(
        { err: error, given },
        "could not give up this engine's releases: other engines adopt them when its lease expires",
      );
    }
    if (given.length > 0)
      this.opts.logger.info({ projects: given }, "gave up releases for other engines to adopt");
    return given;
  }

  /**
   * Projects this engine must yield (see `LocalDriver.yieldLost`): those it supervises (`supervised`)
   * that another engine now holds or whose record is gone, and those whose handover names it.
   */
  async toYield(supervised: string[]): Promise<string[]> {
    const records = await this.records();
    const owners = new Map(records.map((r) => [r.projectId, r.owner]));
    return [
      ...new Set([
        ...supervised.filter((id) => !this.isSelf(owners.get(id) ?? null)),
        ...records.filter((r) => this.isSelf(r.handover)).map((r) => r.projectId),
      ]),
    ];
  }

  /**
   * Whether another live engine runs the project now: its recorded process is a release process
   * here (on this machine), or trusted from its record (on another one).
   */
  async isRunningElsewhere(projectId: string, releasesDir: string): Promise<boolean> {
    const record = await this.get(projectId);
    if (!record?.owner || record.pid === null || this.isSelf(record.owner)) return false;
    if (!(await this.isAlive(record.owner))) return false;
    return record.host === this.host ? isReleaseProcess(record.pid, releasesDir) : true;
  }

  /**
   * Records a live engine does not hold and this engine may adopt: a release should run, its owner
   * is gone (or gave it up), and no live engine is still stopping a copy of it. From `records`
   * when the caller has just read them.
   */
  async adoptable(records?: ReleaseOwner[]): Promise<ReleaseOwner[]> {
    const candidates = (records ?? (await this.records())).filter(
      (r) => r.release !== null && !this.isSelf(r.owner),
    );
    if (candidates.length === 0) return [];
    // One read of every heartbeat for the whole list.
    const alive = new Set(
      (await this.opts.store.instances.list()).filter((i) => i.alive).map((i) => `${i.id}\n${i.incarnation}`),
    );
    const isAlive = (ref: OwnerRef | null) => ref !== null && alive.has(`${ref.id}\n${ref.incarnation}`);
    return candidates.filter(
      (r) => !isAlive(r.owner) && !(r.handover && !this.isSelf(r.handover) && isAlive(r.handover)),
    );
  }

  /**
   * Waits until `from` has stopped its copy (it cleared the handover mark) or is gone. `isOurs`:
   * the takeover is this engine's, so losing the project meanwhile ends the wait with a conflict.
   */
  private async awaitHandover(
    projectId: string,
    from: OwnerRef,
    startedAt: number,
    isOurs: boolean,
  ): Promise<"stopped" | "gone"> {
    const boundMs = await this.handoverBoundMs(from);
    const deadline = startedAt + boundMs;
    for (;;) {
      const now = await this.get(projectId);
      if (isOurs && !this.isSelf(now?.owner ?? null)) {
        throw new AppError(
          "conflict",
          "release_taken_over",
          `another engine took project ${projectId} over while this one waited for ${from.id} to stop its copy`,
        );
      }
      if (!isSameOwner(now?.handover ?? null, from)) return "stopped";
      if (!(await this.isAlive(from))) return "gone";
      if (Date.now() >= deadline) {
        throw new AppError(
          "unavailable",
          "handover_timeout",
          `engine ${from.id} is alive but did not stop its copy of project ${projectId}'s release within ${boundMs} ms`,
          {
            details: [{ path: "projectId", message: "the engine running the release did not hand it over" }],
          },
        );
      }
      await sleep(this.pollMs);
    }
  }

  /**
   * How long a takeover waits for `owner` to stop its copy: two of the owner's own leases (it checks
   * every third of one) and a stop's grace. Engines may run with different leases: a taker with a
   * short one must not give up on an owner that checks less often.
   */
  private async handoverBoundMs(owner: OwnerRef): Promise<number> {
    if (this.opts.handoverDeadlineMs !== undefined) return this.opts.handoverDeadlineMs;
    const instance = await this.opts.store.instances.get(owner.id);
    const ownerLeaseMs = instance
      ? Date.parse(instance.expiresAt) - Date.parse(instance.heartbeatAt)
      : this.opts.leaseTtlMs;
    return 2 * Math.max(ownerLeaseMs, 0) + (this.opts.handoverGraceMs ?? STOP_GRACE_MS);
  }

  /** The recorded pid when it means something on this machine. */
  private leftoverOf(seen: ReleaseOwner | null): number | null {
    return seen && seen.host === this.host ? seen.pid : null;
  }
}
