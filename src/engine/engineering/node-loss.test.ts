import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../../test/support/store.js";
import { InProcessBus } from "../../bus/index.js";
import { AppError, type ErrorCode, type ErrorKind, type Worker } from "../../contracts/index.js";
import { RunJournal } from "../../events/index.js";
import { createLogger, SecretRedactor } from "../../observability/index.js";
import type { Store } from "../../store/index.js";
import { LABEL_NODE, WorkerNodeLostError } from "../../workers/index.js";
import { NODE_LOSS_RETRIES, retryOnNodeLoss, type StageTry } from "./node-loss.js";

let store: Store;
let journal: RunJournal;
const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });

beforeAll(async () => {
  store = await openTestStore();
  journal = new RunJournal({ store, bus: new InProcessBus(), logger });
});
afterAll(async () => {
  await store?.close();
});

/** A run, and a worker of it on `node` (its record, as a stage holds it). */
async function runWithWorker(node: string): Promise<{ runId: string; worker: Worker }> {
  const project = await store.projects.create({ name: `node loss ${randomUUID().slice(0, 8)}` });
  const run = await store.runs.create({ projectId: project.id, kind: "engineering" });
  const worker = await store.workers.create({
    role: "tester",
    backend: "none",
    runtime: "process",
    projectId: project.id,
    runId: run.id,
    labels: { [LABEL_NODE]: node },
  });
  return { runId: run.id, worker };
}

const beat = (id: string, incarnation: string) =>
  store.instances.beat({ id, roles: ["workers"], incarnation, host: "box", pid: 1, ttlMs: 60_000 });

const retries = async (runId: string) =>
  (await store.runEvents.list(runId, { limit: 100 })).filter((e) => e.type === "engineering.stage_retried");

const lost = (node: string) =>
  new WorkerNodeLostError(node, "stopped", `workers node ${node} stopped answering: last heartbeat 9 s ago`);

describe("a stage whose workers node is lost", () => {
  it("is redone on a fresh worker, with an event naming the node", async () => {
    const { runId, worker } = await runWithWorker("node-a");
    const tries: StageTry[] = [];
    const value = await retryOnNodeLoss(
      { store, journal, logger },
      { runId, stage: "tester" },
      async (attempt) => {
        tries.push(attempt);
        attempt.use(worker);
        if (attempt.retry === 0) throw lost("node-a");
        return "green";
      },
    );
    expect(value).toBe("green");
    expect(tries.map((t) => t.retry)).toEqual([0, 1]);
    expect([...(tries[1]?.lostWorkers ?? [])]).toEqual([worker.id]);
    const events = await retries(runId);
    expect(events.map((e) => e.data)).toEqual([
      {
        stage: "tester",
        node: "node-a",
        workerId: worker.id,
        reason: "workers node node-a stopped answering: last heartbeat 9 s ago",
        retry: 1,
        maxRetries: NODE_LOSS_RETRIES,
      },
    ]);
  });

  it("fails with worker_node_lost naming the node once its retries are used up", async () => {
    const { runId, worker } = await runWithWorker("node-b");
    let tries = 0;
    const error = await retryOnNodeLoss(
      { store, journal, logger },
      { runId, stage: "developer" },
      async (attempt) => {
        tries++;
        attempt.use(worker);
        throw lost("node-b");
      },
    ).catch((e: unknown) => e);
    expect(tries).toBe(NODE_LOSS_RETRIES + 1);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ kind: "unavailable", code: "worker_node_lost" });
    expect((error as Error).message).toBe(
      `workers node node-b stopped answering: last heartbeat 9 s ago; the developer stage was tried ${NODE_LOSS_RETRIES + 1} times`,
    );
    expect(await retries(runId)).toHaveLength(NODE_LOSS_RETRIES);
  });

  it("fails naming the lost node when no workers node is left to retry on", async () => {
    const { runId, worker } = await runWithWorker("node-c");
    const error = await retryOnNodeLoss(
      { store, journal, logger },
      { runId, stage: "tester" },
      async (attempt) => {
        if (attempt.retry > 0)
          throw new AppError("unavailable", "no_workers_node", "no workers node is alive");
        attempt.use(worker);
        throw lost("node-c");
      },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "worker_node_lost" });
    expect((error as Error).message).toContain("workers node node-c stopped answering");
    expect((error as Error).message).toContain("no workers node is alive to retry the tester stage on");
  });

  it("is not redone for an ordinary failure", async () => {
    await beat("node-d", "first");
    const { runId, worker } = await runWithWorker("node-d");
    let tries = 0;
    const failure = async (attempt: StageTry) => {
      tries++;
      attempt.use(worker);
      // The node is alive and has not restarted: the worker ended for another reason (a cancel).
      throw new AppError("conflict", "worker_ended", `worker ${worker.id} is stopped`);
    };
    await expect(
      retryOnNodeLoss({ store, journal, logger }, { runId, stage: "tester" }, failure),
    ).rejects.toMatchObject({ code: "worker_ended" });
    expect(tries).toBe(1);
    expect(await retries(runId)).toEqual([]);
  });

  const endedByRestart: [ErrorCode, ErrorKind, string][] = [
    ["worker_ended", "conflict", "is stopped"],
    ["worker_gone", "conflict", "has no sandbox any more"],
    ["sandbox_not_found", "not_found", "has no sandbox"],
  ];
  it.each(endedByRestart)(
    "is redone when the worker's node restarted and answers %s",
    async (code, kind, what) => {
      const node = `node-e-${code}`;
      const { runId, worker } = await runWithWorker(node);
      // The node's process that holds the id now started after the worker was made.
      await beat(node, "after-restart");
      const value = await retryOnNodeLoss(
        { store, journal, logger },
        { runId, stage: "tester" },
        async (attempt) => {
          if (attempt.retry > 0) return "green";
          attempt.use(worker);
          throw new AppError(kind, code, `worker ${worker.id} ${what}`);
        },
      );
      expect(value).toBe("green");
      const [event] = await retries(runId);
      expect(event?.data).toMatchObject({ stage: "tester", node, workerId: worker.id });
      expect(String(event?.data.reason)).toContain(`workers node ${node} restarted under worker`);
    },
  );
});
