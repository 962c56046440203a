import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { InProcessBus } from "../bus/index.js";
import { packageRoot } from "../config/index.js";
import { RunJournal } from "../events/index.js";
import { createLogger, createMetrics, REDACTED, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { ScriptedBackend } from "./backends/scripted.js";
import { WorkerManager } from "./index.js";
import { ProcessRuntime } from "./runtimes/process-runtime.js";
import { LineRing } from "./turn.js";

const SECRET = "agent-visible-secret-7d1f0b93";

describe("LineRing", () => {
  it("redacts each line before cutting it, so no piece of a secret is kept", () => {
    const redactor = new SecretRedactor();
    redactor.add(SECRET);
    const ring = new LineRing(10, redactor);
    ring.push(`${"x".repeat(1995)}${SECRET}`);
    ring.push(`KEY=${SECRET}`);
    expect(ring.tail(2)[0]).not.toContain(SECRET.slice(0, 5));
    expect(ring.tail(2)[1]).toBe(`KEY=${REDACTED}`);
  });
});

describe("WorkerManager output", () => {
  let store: Store;
  let root: string;
  let runtime: ProcessRuntime;
  let manager: WorkerManager;
  const redactor = new SecretRedactor();

  beforeAll(async () => {
    redactor.add(SECRET);
    store = await openTestStore({ redactor });
    root = mkdtempSync(join(tmpdir(), "workers-redaction-"));
    runtime = new ProcessRuntime({ root, bindReadOnly: [packageRoot(), process.execPath] });
    const logger = createLogger({ level: "silent", redactor });
    manager = new WorkerManager({
      store,
      journal: new RunJournal({ store, bus: new InProcessBus(), logger }),
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
      redactor,
    });
  });
  afterAll(async () => {
    for (const info of (await runtime?.list()) ?? []) await runtime.remove(info);
    await store?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("masks a secret the agent prints in progress events, even where the event is cut to size, and in logs", async () => {
    const project = await store.projects.create({ name: "printing agent" });
    const run = await store.runs.create({ projectId: project.id, kind: "engineering" });
    const worker = await manager.create({
      role: "developer",
      projectId: project.id,
      runId: run.id,
      backend: "scripted",
    });
    // The step's account starts with its command line: the secret straddles the 500th character.
    const printed = `${"x".repeat(480)}${SECRET}`;
    const script = JSON.stringify({ steps: [{ run: { argv: ["printf", "%s", printed] } }] });
    await manager.send(worker.id, script, { timeoutMs: 60_000 });
    const progress = (await store.runEvents.list(run.id, {})).filter((e) => e.type === "worker.progress");
    expect(progress.length).toBeGreaterThan(0);
    const texts = progress.map((e) => ("text" in e.data ? e.data.text : ""));
    expect(texts.join("\n")).toContain("x".repeat(400));
    expect(texts.join("\n")).not.toContain(SECRET.slice(0, 6));
    const logs = manager.logs(worker.id, 100).join("\n");
    expect(logs).toContain(REDACTED);
    expect(logs).not.toContain(SECRET);
    await manager.terminate(worker.id);
  });
});
