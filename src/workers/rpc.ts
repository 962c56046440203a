import { z } from "zod";
import type { Bus, Subscription } from "../bus/index.js";
import { AppError, type BusEnvelope, ErrorBody, ErrorKind, type Instance } from "../contracts/index.js";
import type { Logger } from "../observability/index.js";
import {
  isLiveWorkersNode,
  LivenessWatch,
  lossOf,
  type NodeLiveness,
  type NodeLossKind,
  noWorkersNode,
  WorkerNodeLostError,
} from "./node-liveness.js";
import type { WorkerService } from "./service.js";
import { ExecOptions } from "./spec.js";

/** The stream the `workers` role serves; each call is a request/reply on the bus. */
export const WORKER_RPC_STREAM = "workers.rpc";

const Call = z.object({
  method: z.enum(["create", "send", "exec", "pause", "resume", "terminate", "status", "logs", "list"]),
  args: z.array(z.unknown()),
});
const Reply = z.union([
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), kind: ErrorKind, error: ErrorBody }),
]);

/** The stream of calls for the workers that one node (a `workers` process's machine) holds. */
export function nodeRpcStream(node: string): string {
  return `${WORKER_RPC_STREAM}.${node}`;
}

/**
 * Serves `WorkerService` calls arriving on the bus (the `workers` role in distributed mode): from
 * the shared stream (any node may take a call there: a list, or a new worker from a client that
 * does not watch heartbeats), and from its node stream the calls meant for this node (its own
 * workers, whose sandbox and credentials live where they were created, and new workers a client
 * placed here).
 */
export function serveWorkerRpc(
  bus: Bus,
  service: WorkerService,
  logger: Logger,
  consumer: string,
  node: string,
): Subscription {
  const shared = serveStream(bus, WORKER_RPC_STREAM, service, logger, consumer);
  const own = serveStream(bus, nodeRpcStream(node), service, logger, consumer);
  return {
    async stop(deadlineMs) {
      await Promise.all([shared.stop(deadlineMs), own.stop(deadlineMs)]);
    },
  };
}

function serveStream(
  bus: Bus,
  stream: string,
  service: WorkerService,
  logger: Logger,
  consumer: string,
): Subscription {
  return bus.consume(
    stream, // One delivery: a call must not run twice. Turns are long, so nothing is reclaimed for hours.
    { group: "workers", consumer, maxDeliveries: 1, concurrency: 32, reclaimIdleMs: 3 * 3_600_000 },
    async ({ envelope }) => {
      let reply: z.infer<typeof Reply>;
      try {
        const call = Call.parse(envelope.payload);
        const fn = service[call.method] as (...args: unknown[]) => unknown;
        reply = { ok: true, value: await fn.apply(service, call.args) };
      } catch (error) {
        const appError =
          error instanceof AppError
            ? error
            : new AppError("internal", "internal", error instanceof Error ? error.message : String(error));
        if (appError.kind === "internal") logger.error({ err: error }, "worker rpc failed");
        reply = { ok: false, kind: appError.kind, error: appError.toBody() };
      }
      await bus.reply(envelope, { type: "workers.reply", payload: reply });
    },
  );
}

/** Added to a call's own timeout for what surrounds it on the node: queueing, unpausing, killing a command that ran over. */
const REPLY_MARGIN_MS = 30_000;
/**
 * A turn sent without a timeout runs under its agent config's, which only the node reads: the
 * wait is bounded by this then. The engine's stages always pass their agents' own.
 */
const UNKNOWN_TURN_TIMEOUT_MS = 45 * 60_000;
/** A command sent without a timeout runs under `ExecOptions`' default. */
const EXEC_DEFAULT_TIMEOUT_MS = ExecOptions.parse({}).timeoutMs;
const LIVENESS_POLL_MS = 1_000;
/**
 * How long a call for any node waits for one to be alive: a workers process starting beats within
 * seconds, but a restarted node on a busy machine (or a container being rescheduled) can take far
 * longer, and failing the run then would be a loss the operator did not cause.
 */
const NODE_WAIT_MS = 60_000;

/** What `BusWorkerClient` needs to notice that the node a call waits on is gone. */
export interface ClientLiveness {
  /** The processes' heartbeats (`store.instances`). */
  nodes: NodeLiveness;
  logger: Logger;
  /** How often a pending call checks its node (default 1 s). */
  pollMs?: number;
  /** How long a `create` or `list` waits for some workers node to be alive before failing (default 20 s). */
  nodeWaitMs?: number;
}

/** The length of a node's heartbeat lease, from its record. */
function leaseOf(instance: Instance): number {
  return Math.max(0, Date.parse(instance.expiresAt) - Date.parse(instance.heartbeatAt));
}

/**
 * Tells a node that stopped from one whose heartbeat is only late: the same process's heartbeat
 * seen over counts as a loss once it has stayed over for a whole lease after it was first seen so.
 * While the database is away no process can beat, and when it is back a reader may look before
 * the node's next beat: that is no loss. A new incarnation, or no record at all, is one at once.
 */
class StaleBeats {
  private since: number | null = null;

  confirm(
    instance: Instance | null,
    found: { loss: NodeLossKind; message: string } | null,
  ): { loss: NodeLossKind; message: string } | null {
    if (!found || !instance || found.loss === "restarted") {
      this.since = null;
      return found;
    }
    const now = Date.now();
    this.since ??= now;
    return now - this.since >= leaseOf(instance) ? found : null;
  }
}

/** `WorkerService` over the bus, for processes without the `workers` role (e.g. an API server). */
export class BusWorkerClient implements WorkerService {
  private readonly timeoutMs: number;
  private readonly locate: (workerId: string) => Promise<string | null>;
  /** `nodes` is read directly (not shared) for the check before a call is sent. */
  private readonly live: { watch: LivenessWatch; nodes: NodeLiveness } | null;
  private readonly nodeWaitMs: number;

  /**
   * `locate` names the node holding a worker (from its record), so calls about it reach that node;
   * without it (or for an unknown worker) they go to the shared stream. With `liveness`, a call
   * fails with `worker_node_lost` as soon as its node stops beating or restarts, and one for any
   * node with `no_workers_node` when none is alive; without it, a call waits out its reply window.
   */
  constructor(
    private readonly bus: Bus,
    opts: {
      timeoutMs?: number;
      locate?: (workerId: string) => Promise<string | null>;
      liveness?: ClientLiveness;
    } = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.locate = opts.locate ?? (async () => null);
    const liveness = opts.liveness;
    this.live = liveness
      ? {
          nodes: liveness.nodes,
          watch: new LivenessWatch({
            liveness: liveness.nodes,
            logger: liveness.logger,
            pollMs: liveness.pollMs ?? LIVENESS_POLL_MS,
          }),
        }
      : null;
    this.nodeWaitMs = liveness?.nodeWaitMs ?? NODE_WAIT_MS;
  }

  private async call<T>(
    method: z.infer<typeof Call>["method"],
    args: unknown[],
    timeoutMs = this.timeoutMs,
  ): Promise<T> {
    const workerId = method === "create" || method === "list" ? null : args[0];
    const node =
      method === "create" || method === "list"
        ? await this.pickNode(timeoutMs)
        : typeof workerId === "string"
          ? await this.locate(workerId).catch(() => null)
          : null;
    const what = typeof workerId === "string" ? `${method} on worker ${workerId}` : method;
    const send = () =>
      this.bus.request(
        node ? nodeRpcStream(node) : WORKER_RPC_STREAM,
        { type: "workers.call", payload: { method, args } },
        timeoutMs,
      );
    const envelope = await this.watched(node, what, timeoutMs, send);
    const reply = Reply.parse(envelope.payload);
    if (!reply.ok) throw AppError.fromBody(reply.kind, reply.error);
    return reply.value as T;
  }

  /**
   * The node a new worker is made on, or a list read (any node reads the same store): one alive
   * now, waited for (bounded) when none is. Sent to that node's own stream, the call is watched on
   * that node alone: taken from the shared stream, nobody could tell which node took it, and a node
   * killed while holding the call would leave it waiting out its whole window while another node
   * lives. Null without liveness (the shared stream, any node).
   */
  private async pickNode(timeoutMs: number): Promise<string | null> {
    const live = this.live;
    if (!live) return null;
    const nodes = await this.liveNodes(live, timeoutMs);
    return nodes[Math.floor(Math.random() * nodes.length)]?.id ?? null;
  }

  /** The workers nodes alive now, waited for up to `nodeWaitMs` (or the call's window) when none is. */
  private async liveNodes(
    { watch, nodes }: { watch: LivenessWatch; nodes: NodeLiveness },
    timeoutMs: number,
  ): Promise<Instance[]> {
    const waitMs = Math.min(this.nodeWaitMs, timeoutMs);
    const end = Date.now() + waitMs;
    let found = (await nodes.list()).filter(isLiveWorkersNode);
    while (found.length === 0) {
      if (Date.now() >= end) throw noWorkersNode(waitMs);
      await new Promise((resolve) => setTimeout(resolve, watch.pollMs));
      found = (await nodes.list()).filter(isLiveWorkersNode);
    }
    return found;
  }

  /** Sends the call and waits for its reply, unless its node (or, for any node, every node) is lost first. */
  private async watched(
    node: string | null,
    what: string,
    timeoutMs: number,
    send: () => Promise<BusEnvelope>,
  ): Promise<BusEnvelope> {
    const live = this.live;
    if (!live) return send();
    const check = node
      ? await this.nodeCheck(live, node, what)
      : await this.anyNodeCheck(live, what, timeoutMs);
    const pending = send();
    const { lost, stop } = live.watch.until(what, check);
    try {
      return await Promise.race([pending, lost]);
    } finally {
      stop();
      // After a loss the request still waits out its window; its timeout then says nothing new.
      pending.catch(() => undefined);
    }
  }

  /** Fails at once when `node` is not alive; else checks that the incarnation it has now stays alive. */
  private async nodeCheck(
    { watch, nodes }: { watch: LivenessWatch; nodes: NodeLiveness },
    node: string,
    what: string,
  ): Promise<() => Promise<AppError | null>> {
    const lostError = (found: { loss: NodeLossKind; message: string }) =>
      new WorkerNodeLostError(node, found.loss, `${found.message} (${what})`);
    let before = await nodes.get(node);
    let lostBefore = lossOf(node, null, before, Date.now());
    // A heartbeat just over may be the database's outage, not the node's: it beats again within
    // its lease once the database is back.
    const graceEnd = before ? Date.now() + leaseOf(before) : 0;
    while (lostBefore && before && Date.now() < graceEnd) {
      await new Promise((resolve) => setTimeout(resolve, watch.pollMs));
      before = await nodes.get(node);
      lostBefore = lossOf(node, null, before, Date.now());
    }
    if (lostBefore) throw lostError(lostBefore);
    // The process that gets the call; another one under the node's id will never answer it.
    const incarnation = before?.incarnation ?? null;
    const stale = new StaleBeats();
    return async () => {
      const instance = await watch.node(node);
      const found = stale.confirm(instance, lossOf(node, incarnation, instance, Date.now()));
      return found ? lostError(found) : null;
    };
  }

  /**
   * Waits (bounded) for some workers node to be alive; then checks that a node alive when the call
   * was sent stays alive. The call went to the shared stream, taken by one of those nodes: once
   * every one of them stopped or restarted, nobody will answer it, which is a node loss (the
   * caller may redo the work once a node is back), not an absence of nodes.
   */
  private async anyNodeCheck(
    { watch, nodes }: { watch: LivenessWatch; nodes: NodeLiveness },
    what: string,
    timeoutMs: number,
  ): Promise<() => Promise<AppError | null>> {
    const senders = await this.liveNodes({ watch, nodes }, timeoutMs);
    const candidates = senders.map((node) => ({
      id: node.id,
      incarnation: node.incarnation,
      stale: new StaleBeats(),
    }));
    return async () => {
      const losses: { id: string; loss: NodeLossKind; message: string }[] = [];
      for (const node of candidates) {
        const instance = await watch.node(node.id);
        const found = node.stale.confirm(instance, lossOf(node.id, node.incarnation, instance, Date.now()));
        if (!found) return null;
        losses.push({ id: node.id, ...found });
      }
      const [first] = losses;
      if (!first) return null;
      const message =
        losses.length === 1
          ? first.message
          : `every workers node that could take the call is lost: ${losses.map((l) => l.message).join("; ")}`;
      return new WorkerNodeLostError(first.id, first.loss, `${message} (${what})`);
    };
  }

  create: WorkerService["create"] = (spec) => this.call("create", [spec]);
  // A turn may run for its whole timeout, and once more with a reminder when it ended without a report.
  send: WorkerService["send"] = (workerId, message, options) =>
    this.call(
      "send",
      [workerId, message, options ?? {}],
      (options?.timeoutMs ?? UNKNOWN_TURN_TIMEOUT_MS) * 2 + REPLY_MARGIN_MS,
    );
  // A command runs at most for its timeout, then is killed.
  exec: WorkerService["exec"] = (workerId, argv, options) =>
    this.call(
      "exec",
      [workerId, argv, options ?? {}],
      (options?.timeoutMs ?? EXEC_DEFAULT_TIMEOUT_MS) + REPLY_MARGIN_MS,
    );
  pause: WorkerService["pause"] = (workerId) => this.call("pause", [workerId]);
  resume: WorkerService["resume"] = (workerId) => this.call("resume", [workerId]);
  terminate: WorkerService["terminate"] = (workerId, reason) => this.call("terminate", [workerId, reason]);
  status: WorkerService["status"] = (workerId) => this.call("status", [workerId]);
  logs: WorkerService["logs"] = (workerId, lines) => this.call("logs", [workerId, lines]);
  list: WorkerService["list"] = (filter) => this.call("list", [filter ?? {}]);
}
