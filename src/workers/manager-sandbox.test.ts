import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { buildManager } from "../../test/support/workers-harness.js";
import type { Store } from "../store/index.js";
import { ClaudeCodeBackend } from "./backends/claude-code.js";
import { ScriptedBackend } from "./backends/scripted.js";

// On a host where bubblewrap cannot make a namespace, the manager starts no agent with a model
// (its worker ends `failed` with the runtime's reason) and still starts the model-free ones.
describe("WorkerManager where bubblewrap cannot sandbox", () => {
  let store: Store;
  let root: string;
  let built: ReturnType<typeof buildManager>;
  let projectId: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "workers-sandbox-"));
    const bin = join(root, "bin");
    mkdirSync(bin);
    writeFileSync(
      join(bin, "bwrap"),
      '#!/bin/sh\necho "bwrap: setting up uid map: Permission denied" >&2\nexit 1\n',
      {
        mode: 0o755,
      },
    );
    vi.stubEnv("PATH", `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`);
    store = await openTestStore();
    built = buildManager({
      store,
      url: "http://127.0.0.1:1",
      root: join(root, "workers"),
      backends: { "claude-code": new ClaudeCodeBackend(), scripted: new ScriptedBackend() },
      logLines: [],
    });
    projectId = (await store.projects.create({ name: "no sandbox here" })).id;
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    for (const info of (await built?.runtime.list()) ?? []) await built.runtime.remove(info);
    await store?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("refuses a claude-code worker with the reason and the remedies, and records it failed", async () => {
    const error = await built.manager.create({ role: "developer", projectId, backend: "claude-code" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ kind: "unavailable", code: "sandbox_unavailable" });
    const message = (error as Error).message;
    expect(message).toContain("a claude-code worker needs a sandbox");
    expect(message).toContain("setting up uid map: Permission denied");
    expect(message).toContain("apt-get install bubblewrap");
    expect(message).toContain("WORKER_RUNTIME=docker");
    expect(message).toContain("WORKER_SANDBOX=none");
    const workers = await store.workers.list({ projectId, limit: 10, offset: 0 });
    expect(workers.items.map((w) => [w.backend, w.state])).toEqual([["claude-code", "failed"]]);
    expect(await built.runtime.list()).toEqual([]);
  });

  it("starts scripted workers and sandboxes without an agent, unsandboxed as before", async () => {
    for (const backend of ["scripted", "none"] as const) {
      const worker = await built.manager.create({ role: "developer", projectId, backend });
      expect(worker.state).toBe("running");
      const out = await built.manager.exec(worker.id, ["pwd"], { timeoutMs: 10_000 });
      // Directly on the host: the host's workspace folder, not bubblewrap's /workspace.
      expect(out).toMatchObject({
        exitCode: 0,
        stdout: `${join(root, "workers", worker.id, "workspace")}\n`,
      });
      await built.manager.terminate(worker.id, "test over");
    }
  });
});
