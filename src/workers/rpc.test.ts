import { afterEach, describe, expect, it, vi } from "vitest";
import { InProcessBus } from "../bus/index.js";
import { AppError } from "../contracts/index.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
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

  it("waits as long as the command may run: twice its timeout plus a minute", async () => {
    const { bus, client } = serve({ exec: async () => outcome });
    const request = vi.spyOn(bus, "request");
    await client.exec("w1", ["true"], { timeoutMs: 5_000 });
    await client.exec("w1", ["true"]);
    expect(request.mock.calls.map((call) => call[2])).toEqual([70_000, 1_260_000]);
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
