import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { InProcessBus } from "../bus/index.js";
import { packageRoot, sandboxReadOnlyPaths } from "../config/index.js";
import { AppError } from "../contracts/index.js";
import { RunJournal } from "../events/index.js";
import { createLogger, createMetrics, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { ScriptedBackend } from "./backends/scripted.js";
import { WorkerManager } from "./index.js";
import { ProcessRuntime } from "./runtimes/process-runtime.js";

/** A journal whose progress events cannot be stored, as while the database restarts. */
class ProgressLostJournal extends RunJournal {
  override async append(input: Parameters<RunJournal["append"]>[0]) {
    if (input.type === "worker.progress") {
      throw new AppError("unavailable", "database_unavailable", "the database is unavailable");
    }
    return super.append(input);
  }
}

describe("a turn whose progress events cannot be stored", () => {
  let store: Store;
  let root: string;
  let runtime: ProcessRuntime;
  let manager: WorkerManager;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on("unhandledRejection", onUnhandled);
    store = await openTestStore();
    root = mkdtempSync(join(tmpdir(), "workers-turn-"));
    runtime = new ProcessRuntime({ root, bindReadOnly: sandboxReadOnlyPaths() });
    const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
    manager = new WorkerManager({
      store,
      journal: new ProgressLostJournal({ store, bus: new InProcessBus(), logger }),
      runtimes: { process: runtime },
      backends: { scripted: new ScriptedBackend() },
      logger,
      metrics: createMetrics(),
      apiUrl: "http://127.0.0.1:1",
      packageRoot: packageRoot(),
      agentEnv: {},
      modelGateway: false,
      defaultRuntime: "process",
      session: { maxContextTokens: 150_000, maxAgeMs: 3_600_000 },
      hardTtlMs: 3_600_000,
    });
  });
  afterAll(async () => {
    process.off("unhandledRejection", onUnhandled);
    for (const info of (await runtime?.list()) ?? []) await runtime.remove(info);
    await store?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("ends the turn, and leaves no rejection unhandled while it runs (that ends the process)", async () => {
    const project = await store.projects.create({ name: "progress lost" });
    const run = await store.runs.create({ projectId: project.id, kind: "engineering" });
    const worker = await manager.create({
      role: "developer",
      projectId: project.id,
      runId: run.id,
      backend: "scripted",
    });
    // Output first, then a pause: the failed append settles while the turn still runs.
    const script = JSON.stringify({
      steps: [{ run: { argv: ["sh", "-c", "echo one; sleep 1; echo two"] } }],
    });
    const result = await manager.send(worker.id, script, { timeoutMs: 60_000 });
    // It ran to its end: the script makes no report.
    expect(result.error?.code).toBe("no_report");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(unhandled).toEqual([]);
    await manager.terminate(worker.id);
  });
});
