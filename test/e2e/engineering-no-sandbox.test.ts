/**
 * An engineering run whose agents talk to a model, on a host where bubblewrap cannot make a
 * namespace (a `bwrap` that refuses, first on PATH): the Architect's worker is refused before
 * anything runs, and the run ends `failed` with that reason and its remedies, neither hanging nor
 * running the agent on the host.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ClaudeCodeBackend } from "../../src/workers/index.js";
import { type EngineHarness, startEngineHarness } from "../support/engine-harness.js";

const REFUSAL = "bwrap: No permissions to create new namespace";
let h: EngineHarness;
let scratch = "";

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "engineering-no-sandbox-"));
  const bin = join(scratch, "bin");
  await mkdir(bin);
  await writeFile(join(bin, "bwrap"), `#!/bin/sh\necho "${REFUSAL}" >&2\nexit 1\n`, { mode: 0o755 });
  vi.stubEnv("PATH", `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`);
  h = await startEngineHarness({
    backends: { "claude-code": new ClaudeCodeBackend() },
    agentBackend: "claude-code",
  });
}, 60_000);
afterAll(async () => {
  await h?.close();
  vi.unstubAllEnvs();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("engineering run where agents cannot be sandboxed", () => {
  it("fails at the Architect with sandbox_unavailable, its reason and remedies", {
    timeout: 60_000,
  }, async () => {
    const project = await h.store.projects.create({ name: "no-sandbox", slug: "no-sandbox" });
    const queued = await h.start({ projectId: project.id, brief: "A web service that tells the time." });
    const done = await h.waitForEnd(queued.id, 30_000);
    expect(done.status).toBe("failed");
    expect(done.stage).toBe("architect");
    expect(done.error?.code).toBe("sandbox_unavailable");
    const message = done.error?.message ?? "";
    expect(message).toContain("a claude-code worker needs a sandbox");
    expect(message).toContain(REFUSAL);
    for (const remedy of ["apt-get install bubblewrap", "WORKER_RUNTIME=docker", "WORKER_SANDBOX=none"]) {
      expect(message).toContain(remedy);
    }
    // The refused worker is recorded as failed; nothing of the run is left alive.
    const workers = await h.store.workers.list({ projectId: project.id, limit: 10, offset: 0 });
    expect(workers.items.map((w) => [w.role, w.backend, w.state])).toEqual([
      ["architect", "claude-code", "failed"],
    ]);
    expect((await h.store.projects.get(project.id)).status).toBe("failed");
  });
});
