import { AppError, type Instance } from "../contracts/index.js";
import type { Logger } from "../observability/index.js";

/**
 * The heartbeats of orchestrator processes (`store.instances`): a workers node's record carries
 * its node id, whether its lease is current by the database's clock, and the incarnation of the
 * process that holds the id now.
 */
export interface NodeLiveness {
  get(id: string): Promise<Instance | null>;
  list(): Promise<Instance[]>;
}

/** How a node was lost under a call: it stopped beating, or a new process took its id. */
export type NodeLossKind = "stopped" | "restarted";

/**
 * A call to a workers node that will never be answered: the node stopped beating, or restarted
 * (its new process neither answers nor runs a call sent to the old one). What the call was doing
 * is lost with the node; the caller may redo it on a fresh worker.
 */
export class WorkerNodeLostError extends AppError {
  constructor(
    readonly node: string,
    readonly loss: NodeLossKind,
    message: string,
  ) {
    super("unavailable", "worker_node_lost", message);
    this.name = "WorkerNodeLostError";
  }
}

/** The error of a call that needs any workers node when none is alive. */
export function noWorkersNode(waitedMs: number): AppError {
  const waited = waitedMs > 0 ? ` within ${Math.round(waitedMs / 1000)} s` : "";
  return new AppError(
    "unavailable",
    "no_workers_node",
    `no workers node is alive: none had a current heartbeat${waited} (start one with \`orchestrator serve --roles workers\`)`,
  );
}

/**
 * Why a call sent to `node` while `incarnation` held it cannot be answered any more, judged from
 * the node's record read now; null while it can. Without an incarnation (before sending) only
 * the node's being alive counts.
 */
export function lossOf(
  node: string,
  incarnation: string | null,
  instance: Instance | null,
  nowMs: number,
): { loss: NodeLossKind; message: string } | null {
  if (!instance) {
    return {
      loss: "stopped",
      message: `workers node ${node} stopped answering: it has no heartbeat (stopped, or never started)`,
    };
  }
  if (incarnation !== null && instance.incarnation !== incarnation) {
    return { loss: "restarted", message: `workers node ${node} restarted while the call was running` };
  }
  if (!instance.alive) {
    return {
      loss: "stopped",
      message: `workers node ${node} stopped answering: last heartbeat ${secondsSinceBeat(instance, nowMs)} s ago`,
    };
  }
  return null;
}

/**
 * Seconds since the node's last heartbeat by this machine's clock, never less than its lease
 * (the database, whose clock decides, already found the lease over).
 */
function secondsSinceBeat(instance: Instance, nowMs: number): number {
  const beat = Date.parse(instance.heartbeatAt);
  const leaseMs = Date.parse(instance.expiresAt) - beat;
  return Math.round(Math.max(nowMs - beat, leaseMs) / 1000);
}

/** True when `instance` is a live process with the workers role. */
export function isLiveWorkersNode(instance: Instance): boolean {
  return instance.alive && instance.roles.includes("workers");
}

/**
 * Watches heartbeats for calls waiting on their replies. Every pending call checks every poll
 * period; a read made within half a period is shared, so many calls to one node cost one query.
 */
export class LivenessWatch {
  private readonly reads = new Map<string, { atMs: number; value: Promise<unknown> }>();

  constructor(private readonly deps: { liveness: NodeLiveness; logger: Logger; pollMs: number }) {}

  get pollMs(): number {
    return this.deps.pollMs;
  }

  /** The node's record, read at most half a poll period ago. */
  node(id: string): Promise<Instance | null> {
    return this.shared(`node:${id}`, () => this.deps.liveness.get(id));
  }

  /**
   * Checks every poll period until `stop`; `lost` rejects with the first error `check` returns. A
   * failed read is logged and tried again next period: the call's reply window still bounds it.
   */
  until(what: string, check: () => Promise<AppError | null>): { lost: Promise<never>; stop(): void } {
    let timer: NodeJS.Timeout | undefined;
    let isStopped = false;
    let hasWarned = false;
    const lost = new Promise<never>((_, reject) => {
      const tick = async () => {
        try {
          const error = await check();
          hasWarned = false;
          if (error && !isStopped) {
            isStopped = true;
            reject(error);
            return;
          }
        } catch (cause) {
          if (!hasWarned) {
            hasWarned = true;
            this.deps.logger.warn(
              { err: cause, call: what },
              "could not read the workers nodes' heartbeats; still waiting for the reply",
            );
          }
        }
        if (!isStopped) schedule();
      };
      const schedule = () => {
        timer = setTimeout(() => void tick(), this.deps.pollMs);
        timer.unref();
      };
      schedule();
    });
    return {
      lost,
      stop: () => {
        isStopped = true;
        clearTimeout(timer);
      },
    };
  }

  private shared<T>(key: string, read: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const cached = this.reads.get(key);
    if (cached && now - cached.atMs < this.deps.pollMs / 2) return cached.value as Promise<T>;
    const entry = { atMs: now, value: read() as Promise<unknown> };
    this.reads.set(key, entry);
    // A failed read is not kept: the next check asks again.
    entry.value.catch(() => {
      if (this.reads.get(key) === entry) this.reads.delete(key);
    });
    return entry.value as Promise<T>;
  }
}
