import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { InProcessBus } from "../bus/index.js";
import { AppError, type ProcessRole } from "../contracts/index.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { WorkerNodeLostError } from "./node-liveness.js";
import { BusWorkerClient, serveWorkerRpc } from "./rpc.js";
import type { WorkerService } from "./service.js";
import type { ExecOutcome } from "./spec.js";

const outcome: ExecOutcome = {
  exitCode: 3,
  signal: null,
  stdout: "out\n",
  stderr: "err\n",
  timedOut: false,
  durationMs: 12,
};

let stop: (() => Promise<void>) | null = null;
afterEach(async () => {
  await stop?.();
  stop = null;
});

function serve(service: Partial<WorkerService>) {
  const bus = new InProcessBus();
  const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
  const subscription = serveWorkerRpc(bus, service as WorkerService, logger, "test", "node-a");
  stop = async () => {
    await subscription.stop();
    await bus.close();
  };
  return { bus, client: new BusWorkerClient(bus) };
}

describe("worker RPC over the bus", () => {
  it("forwards exec with its arguments and returns the outcome", async () => {
    const exec = vi.fn<WorkerService["exec"]>(async () => outcome);
    const { client } = serve({ exec });
    const options = { cwd: "sub", env: { EXTRA: "1" }, timeoutMs: 5_000 };
    expect(await client.exec("w1", ["npm", "test"], options)).toEqual(outcome);
    expect(exec).toHaveBeenCalledWith("w1", ["npm", "test"], options);
  });

  it("waits as long as the call may run: its own timeout (a turn's twice, for its reminder) plus a margin", async () => {
    const { bus, client } = serve({
      exec: async () => outcome,
      send: async () => ({}) as Awaited<ReturnType<WorkerService["send"]>>,
    });
    const request = vi.spyOn(bus, "request");
    await client.exec("w1", ["true"], { timeoutMs: 5_000 });
    await client.exec("w1", ["true"]);
    await client.send("w1", "go", { timeoutMs: 60_000 });
    expect(request.mock.calls.map((call) => call[2])).toEqual([35_000, 630_000, 150_000]);
  });

  it("brings the service's AppError back as an AppError with its code and details", async () => {
    const { client } = serve({
      exec: async () => {
        throw new AppError("invalid", "invalid_input", "invalid exec", {
          details: [{ path: "cwd", message: "relative to the workspace, no .." }],
        });
      },
      send: async () => {
        throw new AppError("conflict", "no_agent", "worker w1 has no agent; only exec runs in it");
      },
    });
    await expect(client.exec("w1", ["pwd"], { cwd: "../x" })).rejects.toMatchObject({
      kind: "invalid",
      code: "invalid_input",
      details: [{ path: "cwd" }],
    });
    await expect(client.send("w1", "hello")).rejects.toMatchObject({ kind: "conflict", code: "no_agent" });
  });
});

describe("worker RPC routing between nodes", () => {
  it("sends calls about a worker to the node that holds it, and new workers to any node", async () => {
    const bus = new InProcessBus();
    const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
    const seen: string[] = [];
    const node = (name: string): Partial<WorkerService> => ({
      exec: async (workerId) => {
        seen.push(`${name}:exec:${workerId}`);
        return outcome;
      },
      create: async () => {
        seen.push(`${name}:create`);
        return {} as Awaited<ReturnType<WorkerService["create"]>>;
      },
    });
    const a = serveWorkerRpc(bus, node("a") as WorkerService, logger, "consumer-a", "node-a");
    const b = serveWorkerRpc(bus, node("b") as WorkerService, logger, "consumer-b", "node-b");
    stop = async () => {
      await Promise.all([a.stop(), b.stop()]);
      await bus.close();
    };
    const homes: Record<string, string> = { w1: "node-a", w2: "node-b" };
    const client = new BusWorkerClient(bus, { locate: async (id) => homes[id] ?? null });
    for (let i = 0; i < 5; i++) {
      await client.exec("w1", ["true"]);
      await client.exec("w2", ["true"]);
    }
    expect(seen.filter((s) => s.includes("exec:w1"))).toEqual(Array(5).fill("a:exec:w1"));
    expect(seen.filter((s) => s.includes("exec:w2"))).toEqual(Array(5).fill("b:exec:w2"));
    await client.create({ role: "developer", projectId: "p", backend: "scripted" });
    expect(seen.filter((s) => s.endsWith(":create"))).toHaveLength(1);
  });
});

describe("worker RPC and the liveness of nodes", () => {
  let store: Store;
  const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
  beforeAll(async () => {
    store = await openTestStore();
  });
  afterAll(async () => {
    await store?.close();
  });

  // Each test sees only its own processes: their records go when it ends, as on a clean stop.
  const beaten: { id: string; incarnation: string }[] = [];
  afterEach(async () => {
    for (const { id, incarnation } of beaten.splice(0)) await store.instances.end(id, incarnation);
  });
  const beat = (id: string, incarnation: string, ttlMs: number, roles: ProcessRole[] = ["workers"]) => {
    beaten.push({ id, incarnation });
    return store.instances.beat({ id, roles, incarnation, host: "box", pid: 1, ttlMs });
  };

  /** A command that runs until the test lets it end; `started` resolves once the node runs it. */
  function heldCommand() {
    let release: () => void = () => undefined;
    let markStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      markStarted = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const exec = vi.fn<WorkerService["exec"]>(async () => {
      markStarted();
      await released;
      return outcome;
    });
    return { exec, started, release };
  }

  /** One workers node serving `service` as `node`, and a client that watches heartbeats. */
  function serveNode(node: string, service: Partial<WorkerService>) {
    const bus = new InProcessBus();
    const subscription = serveWorkerRpc(bus, service as WorkerService, logger, "test", node);
    stop = async () => {
      await subscription.stop(100);
      await bus.close();
    };
    return new BusWorkerClient(bus, {
      locate: async () => node,
      liveness: { nodes: store.instances, logger, pollMs: 50, nodeWaitMs: 300 },
    });
  }

  it("fails a pending call with worker_node_lost when its node's heartbeat stops", async () => {
    const held = heldCommand();
    await beat("node-quiet", "first", 300);
    const client = serveNode("node-quiet", { exec: held.exec });
    const call = client.exec("w1", ["npm", "install"], { timeoutMs: 600_000 });
    await held.started;
    // The node stops renewing its lease (killed): the call fails once the lease is over.
    const error = await call.catch((e: unknown) => e);
    held.release();
    expect(error).toBeInstanceOf(WorkerNodeLostError);
    expect(error).toMatchObject({
      kind: "unavailable",
      code: "worker_node_lost",
      node: "node-quiet",
      loss: "stopped",
    });
    expect((error as Error).message).toMatch(
      /^workers node node-quiet stopped answering: last heartbeat \d+ s ago \(exec on worker w1\)$/,
    );
  });

  it("fails a pending call when its node restarted (a new incarnation), never sending it again", async () => {
    const held = heldCommand();
    await beat("node-restarting", "first", 60_000);
    const client = serveNode("node-restarting", { exec: held.exec });
    const call = client.exec("w1", ["npm", "install"], { timeoutMs: 600_000 });
    await held.started;
    await beat("node-restarting", "second", 60_000);
    const error = await call.catch((e: unknown) => e);
    held.release();
    expect(error).toMatchObject({ code: "worker_node_lost", node: "node-restarting", loss: "restarted" });
    expect((error as Error).message).toContain(
      "workers node node-restarting restarted while the call was running",
    );
    expect(held.exec).toHaveBeenCalledTimes(1);
  });

  it("keeps a call whose node's heartbeat was late once (the database away) and then beats again", async () => {
    const held = heldCommand();
    await beat("node-late-beat", "first", 300);
    const client = serveNode("node-late-beat", { exec: held.exec });
    const call = client.exec("w1", ["npm", "install"], { timeoutMs: 600_000 });
    await held.started;
    // No beat for a little over a lease (nobody can write while the database restarts), then the
    // same process beats again.
    await new Promise((resolve) => setTimeout(resolve, 400));
    await beat("node-late-beat", "first", 300);
    const renew = setInterval(() => void beat("node-late-beat", "first", 300), 100);
    try {
      held.release();
      expect(await call).toEqual(outcome);
    } finally {
      clearInterval(renew);
    }
  });

  it("lets a live node's call run past many leases", async () => {
    const exec = vi.fn<WorkerService["exec"]>(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      return outcome;
    });
    await beat("node-busy", "first", 300);
    const renew = setInterval(() => void beat("node-busy", "first", 300), 100);
    try {
      const client = serveNode("node-busy", { exec });
      expect(await client.exec("w1", ["npm", "test"], { timeoutMs: 600_000 })).toEqual(outcome);
    } finally {
      clearInterval(renew);
    }
  });

  it("refuses a call to a node that is not alive without sending it", async () => {
    const exec = vi.fn<WorkerService["exec"]>(async () => outcome);
    const client = serveNode("node-never-started", { exec });
    await expect(client.exec("w1", ["true"])).rejects.toMatchObject({
      code: "worker_node_lost",
      node: "node-never-started",
      message: expect.stringContaining("workers node node-never-started stopped answering"),
    });
    await beat("node-expired", "first", 1);
    const expired = serveNode("node-expired", { exec });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(expired.exec("w1", ["true"])).rejects.toMatchObject({
      code: "worker_node_lost",
      loss: "stopped",
    });
    expect(exec).not.toHaveBeenCalled();
  });

  it("fails a pending create with worker_node_lost when the node that could take it stops, not no_workers_node", async () => {
    // The only workers node dies (kill -9, or a rolling restart) while it creates a worker: the
    // stage is redone once a node is back (a node loss); "no node is alive" would fail the run.
    let markStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      markStarted = resolve;
    });
    const create = vi.fn<WorkerService["create"]>(async () => {
      markStarted();
      return new Promise<never>(() => undefined);
    });
    await beat("node-only", "first", 300);
    const client = serveNode("node-only", { create });
    const call = client.create({ role: "architect", projectId: "p", backend: "scripted" });
    await started;
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerNodeLostError);
    expect(error).toMatchObject({ code: "worker_node_lost", node: "node-only", loss: "stopped" });
    expect((error as Error).message).toMatch(/^workers node node-only stopped answering: .* \(create\)$/);
  });

  it.each(["create", "list"] as const)(
    "fails a pending %s with worker_node_lost when the node taking it stops while another lives",
    async (method) => {
      // Two nodes; the one that takes the call is killed mid-way, the other keeps beating: the
      // call must fail as a node loss at once, not wait out its window for a reply nobody sends.
      const bus = new InProcessBus();
      const took: string[] = [];
      let markStarted: () => void = () => undefined;
      const started = new Promise<void>((resolve) => {
        markStarted = resolve;
      });
      const hang = (node: string) => async () => {
        took.push(node);
        markStarted();
        return new Promise<never>(() => undefined);
      };
      const hanging = (node: string): Partial<WorkerService> => ({ create: hang(node), list: hang(node) });
      const nodes = ["node-one", "node-two"];
      const beating = new Map<string, NodeJS.Timeout>();
      for (const node of nodes) {
        await beat(node, "first", 300);
        beating.set(
          node,
          setInterval(() => void beat(node, "first", 300), 100),
        );
      }
      const subscriptions = nodes.map((node) =>
        serveWorkerRpc(bus, hanging(node) as WorkerService, logger, `consumer-${node}`, node),
      );
      stop = async () => {
        for (const timer of beating.values()) clearInterval(timer);
        await Promise.all(subscriptions.map((s) => s.stop(100)));
        await bus.close();
      };
      const client = new BusWorkerClient(bus, {
        liveness: { nodes: store.instances, logger, pollMs: 50, nodeWaitMs: 300 },
      });
      const call =
        method === "create"
          ? client.create({ role: "developer", projectId: "p", backend: "scripted" })
          : client.list({ projectId: "p" });
      await started;
      const [maker] = took;
      clearInterval(beating.get(maker ?? ""));
      const error = await call.catch((e: unknown) => e);
      expect(took).toHaveLength(1);
      expect(error).toBeInstanceOf(WorkerNodeLostError);
      expect(error).toMatchObject({ code: "worker_node_lost", node: maker, loss: "stopped" });
    },
  );

  it("fails a new worker with no_workers_node when no workers process is alive, and creates it when one is", async () => {
    const created = { id: "w-new" } as Awaited<ReturnType<WorkerService["create"]>>;
    const create = vi.fn<WorkerService["create"]>(async () => created);
    // Only an engine is alive (and a workers node whose lease ran out).
    await beat("engine-1", "first", 60_000, ["engine"]);
    await beat("node-gone", "first", 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const client = serveNode("node-late", { create });
    const spec = { role: "developer" as const, projectId: "p", backend: "scripted" as const };
    await expect(client.create(spec)).rejects.toMatchObject({
      kind: "unavailable",
      code: "no_workers_node",
      message: expect.stringContaining("no workers node is alive"),
    });
    expect(create).not.toHaveBeenCalled();
    await beat("node-late", "first", 60_000);
    expect(await client.create(spec)).toEqual(created);
  });
});
