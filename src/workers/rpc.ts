import { z } from "zod";
import type { Bus, Subscription } from "../bus/index.js";
import { AppError, ErrorBody, ErrorKind } from "../contracts/index.js";
import type { Logger } from "../observability/index.js";
import type { WorkerService } from "./service.js";

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
 * Serves `WorkerService` calls arriving on the bus (the `workers` role in distributed mode): new
 * workers from the shared stream (any node may create one), and calls for this node's own workers
 * from its node stream, since a worker's sandbox and credentials live where it was created.
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

/** `WorkerService` over the bus, for processes without the `workers` role (e.g. an API server). */
export class BusWorkerClient implements WorkerService {
  private readonly timeoutMs: number;
  private readonly locate: (workerId: string) => Promise<string | null>;

  /**
   * `locate` names the node holding a worker (from its record), so calls about it reach that node;
   * without it (or for an unknown worker) they go to the shared stream.
   */
  constructor(
    private readonly bus: Bus,
    opts: { timeoutMs?: number; locate?: (workerId: string) => Promise<string | null> } = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.locate = opts.locate ?? (async () => null);
  }

  private async call<T>(
    method: z.infer<typeof Call>["method"],
    args: unknown[],
    timeoutMs = this.timeoutMs,
  ): Promise<T> {
    const workerId = method === "create" || method === "list" ? null : args[0];
    const node = typeof workerId === "string" ? await this.locate(workerId).catch(() => null) : null;
    const envelope = await this.bus.request(
      node ? nodeRpcStream(node) : WORKER_RPC_STREAM,
      { type: "workers.call", payload: { method, args } },
      timeoutMs,
    );
    const reply = Reply.parse(envelope.payload);
    if (!reply.ok)
      throw new AppError(reply.kind, reply.error.code, reply.error.message, { details: reply.error.details });
    return reply.value as T;
  }

  create: WorkerService["create"] = (spec) => this.call("create", [spec]);
  // A turn may run for its whole timeout; wait that long plus a margin.
  send: WorkerService["send"] = (workerId, message, options) =>
    this.call("send", [workerId, message, options ?? {}], (options?.timeoutMs ?? 45 * 60_000) * 2 + 60_000);
  // A command may run for its whole timeout too (absent: ExecOptions' default).
  exec: WorkerService["exec"] = (workerId, argv, options) =>
    this.call("exec", [workerId, argv, options ?? {}], (options?.timeoutMs ?? 10 * 60_000) * 2 + 60_000);
  pause: WorkerService["pause"] = (workerId) => this.call("pause", [workerId]);
  resume: WorkerService["resume"] = (workerId) => this.call("resume", [workerId]);
  terminate: WorkerService["terminate"] = (workerId, reason) => this.call("terminate", [workerId, reason]);
  status: WorkerService["status"] = (workerId) => this.call("status", [workerId]);
  logs: WorkerService["logs"] = (workerId, lines) => this.call("logs", [workerId, lines]);
  list: WorkerService["list"] = (filter) => this.call("list", [filter ?? {}]);
}
