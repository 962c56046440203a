import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Dockerode from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/config/index.js";
import type { Worker } from "../../src/contracts/index.js";
import { openPgliteStore } from "../../src/store/index.js";
import {
  CACHES_DIR,
  ClaudeCodeBackend,
  DockerRuntime,
  dockerFromEnv,
  ScriptedBackend,
} from "../../src/workers/index.js";
import { sleep } from "../../src/workers/runtimes/runtime.conformance.js";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic/index.js";
import { startDockerd, type TestDockerd } from "../support/dockerd.js";
import { ensureWorkerImage } from "../support/worker-image.js";
import {
  buildManager,
  startDoomedOrchestrator,
  startWorkersHarness,
  type WorkersHarness,
} from "../support/workers-harness.js";

// Workers as containers of a private Docker engine: the real claude CLI against the fake model
// API, the lifecycle of 20 containers, and recovery after the orchestrator is killed with -9.
const API_KEY = "sk-ant-fake-docker-key-0123456789";
let engine: TestDockerd;
let image: string;
let fake: FakeAnthropic;
let h: WorkersHarness;
let runtime: DockerRuntime;
let projectId: string;
let workspaceRoot: string;
let docker: Dockerode;

const dockerRuntime = (root: string) =>
  new DockerRuntime({
    docker,
    image,
    workspaceRoot: root,
    bindReadOnly: [packageRoot(), process.execPath],
  });

beforeAll(async () => {
  engine = await startDockerd();
  docker = await dockerFromEnv({ DOCKER_HOST: engine.socket });
  image = await ensureWorkerImage(engine.docker);
  fake = await startFakeAnthropic({ apiKey: API_KEY });
  workspaceRoot = mkdtempSync(join(tmpdir(), "orch-docker-workers-"));
  runtime = dockerRuntime(workspaceRoot);
  h = await startWorkersHarness({
    runtimes: { docker: runtime },
    backends: { "claude-code": new ClaudeCodeBackend(), scripted: new ScriptedBackend() },
    agentEnv: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: API_KEY },
  });
  projectId = (await h.store.projects.create({ name: "docker workers" })).id;
}, 15 * 60_000);

afterAll(async () => {
  if (runtime) for (const info of await runtime.list()) await runtime.remove(info);
  await h?.close();
  await fake?.close();
  await engine?.stop();
  if (workspaceRoot) rmSync(workspaceRoot, { recursive: true, force: true });
}, 120_000);

const containers = async () =>
  engine.docker.listContainers({ all: true, filters: JSON.stringify({ label: ["orchestrator.worker.id"] }) });

describe("docker runtime workers", () => {
  it("run the real claude CLI in a container: files, MCP report, tokens, resume", {
    timeout: 180_000,
  }, async () => {
    const worker = await h.manager.create({
      role: "developer",
      projectId,
      backend: "claude-code",
      runtime: "docker",
    });
    const [info] = (await containers()).filter((c) => c.Labels["orchestrator.worker.id"] === worker.id);
    expect(info?.Labels).toMatchObject({ "orchestrator.project.id": projectId });
    fake.enqueue(
      {
        toolUse: {
          name: "Write",
          input: { file_path: "/workspace/hello.txt", content: "from a container\n" },
        },
        usage: { input: 500, output: 20 },
      },
      {
        toolUse: { name: "Bash", input: { command: "id -u > uid.txt", description: "who" } },
        usage: { input: 600, output: 20 },
      },
      {
        toolUse: {
          name: "mcp__orchestrator__report",
          input: { status: "complete", summary: "done in docker" },
        },
        usage: { input: 700, output: 20 },
      },
      { text: "ok", usage: { input: 800, output: 5 } },
    );
    const result = await h.manager.send(worker.id, "Write hello.txt, note your uid, report.", {
      timeoutMs: 120_000,
    });
    expect(result.error, h.manager.logs(worker.id).join("\n")).toBeNull();
    expect(result).toMatchObject({ ok: true, report: { status: "complete", summary: "done in docker" } });
    expect(result.usage.inputTokens).toBe(2600);
    const workspace = join(workspaceRoot, worker.id, "workspace");
    expect(readFileSync(join(workspace, "hello.txt"), "utf8")).toBe("from a container\n");
    expect(readFileSync(join(workspace, "uid.txt"), "utf8").trim()).toBe("1000");
    const state = await engine.docker.getContainer(info?.Id ?? "").inspect();
    expect(state.State.Paused).toBe(true);

    fake.enqueue(
      {
        toolUse: { name: "mcp__orchestrator__report", input: { status: "complete", summary: "again" } },
        usage: { input: 900, output: 5 },
      },
      { text: "ok", usage: { input: 950, output: 5 } },
    );
    const second = await h.manager.send(worker.id, "Report again.", { timeoutMs: 120_000 });
    expect(second).toMatchObject({ ok: true, sessionId: result.sessionId, report: { summary: "again" } });
    await h.manager.terminate(worker.id);
    expect((await containers()).some((c) => c.Labels["orchestrator.worker.id"] === worker.id)).toBe(false);

    // The scripted agent runs on the orchestrator's own node, mounted read-only into the container.
    const scripted = await h.manager.create({
      role: "developer",
      projectId,
      backend: "scripted",
      runtime: "docker",
    });
    const steps = [
      { run: { argv: ["git", "init", "-q"] } },
      { write: { path: "s.txt", content: "s" } },
      { report: { status: "complete", summary: "scripted in docker" } },
    ];
    const turn = await h.manager.send(scripted.id, JSON.stringify({ steps }), { timeoutMs: 120_000 });
    expect(turn.error, h.manager.logs(scripted.id).join("\n")).toBeNull();
    expect(turn.report?.summary).toBe("scripted in docker");
    expect(readFileSync(join(workspaceRoot, scripted.id, "workspace", "s.txt"), "utf8")).toBe("s");
    await h.manager.terminate(scripted.id);
  });

  it("create, pause (no CPU), resume and terminate 20 containers", { timeout: 600_000 }, async () => {
    const workers: Worker[] = [];
    for (let i = 0; i < 20; i++)
      workers.push(
        await h.manager.create({ role: "developer", projectId, backend: "scripted", runtime: "docker" }),
      );
    const first = workers[0] as Worker;
    const sandbox = await runtime.attach(first.id);
    if (!sandbox) throw new Error("no sandbox");
    const busy = runtime.exec(sandbox, {
      argv: ["sh", "-c", "while :; do :; done"],
      env: { PATH: "/usr/bin:/bin" },
      timeoutMs: 300_000,
    });
    await sleep(1000);
    for (const w of workers) expect((await h.manager.pause(w.id)).state).toBe("paused");
    const frozenAt = await runtime.cpuTimeMs(sandbox);
    await sleep(1500);
    expect(await runtime.cpuTimeMs(sandbox)).toBeLessThanOrEqual(frozenAt + 20);
    for (const w of workers) expect((await h.manager.resume(w.id)).state).toBe("running");
    const thawedAt = await runtime.cpuTimeMs(sandbox);
    await sleep(1500);
    expect(await runtime.cpuTimeMs(sandbox)).toBeGreaterThan(thawedAt + 100);
    for (const w of workers) expect((await h.manager.terminate(w.id)).state).toBe("stopped");
    await busy.catch(() => undefined);
    const ids = new Set(workers.map((w) => w.id));
    expect((await containers()).filter((c) => ids.has(c.Labels["orchestrator.worker.id"] ?? ""))).toEqual([]);
    expect(readdirSync(workspaceRoot).filter((d) => ids.has(d))).toEqual([]);
  });

  it("after kill -9 of the orchestrator with 5 live containers, a restart leaves none without a record", {
    timeout: 300_000,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "orch-docker-crash-db-"));
    const root = mkdtempSync(join(tmpdir(), "orch-docker-crash-ws-"));
    try {
      const doomed = await startDoomedOrchestrator({
        ORCH_DATA_DIR: dataDir,
        ORCH_ROOT: root,
        ORCH_WORKERS: "5",
        ORCH_DOCKER_HOST: engine.socket,
        ORCH_IMAGE: image,
      });
      const ids = doomed.ids;
      await doomed.kill();
      // Their turns really run: each container holds its agent process.
      for (const id of ids) {
        const top = await engine.docker.getContainer(`orchestrator-worker-${id}`).top();
        expect(JSON.stringify(top.Processes)).toContain("scripted-agent");
      }
      const mine = async () =>
        (await containers()).filter((c) => ids.includes(c.Labels["orchestrator.worker.id"] ?? ""));
      expect(await mine()).toHaveLength(5);

      const store = await openPgliteStore(dataDir);
      try {
        const restarted = dockerRuntime(root);
        const { sweeper } = buildManager({
          store,
          url: "http://127.0.0.1:9",
          root,
          runtimes: { docker: restarted },
        });
        const report = await sweeper.recoverAfterRestart();
        expect(report.terminated.map((t) => t.workerId).sort()).toEqual([...ids].sort());
        expect(await mine()).toEqual([]);
        // Only the project caches stay: they outlive sandboxes by design.
        expect(readdirSync(root).filter((name) => name !== CACHES_DIR)).toEqual([]);
        for (const id of ids) expect((await store.workers.get(id)).state).toBe("stopped");
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(root, { recursive: true, force: true });
    }
  });
});
