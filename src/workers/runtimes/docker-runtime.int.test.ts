import { realpathSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type Dockerode from "dockerode";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startDockerd, type TestDockerd } from "../../../test/support/dockerd.js";
import { ensureWorkerImage } from "../../../test/support/worker-image.js";
import { LABEL_PROJECT, LABEL_RUN, LABEL_WORKER, type Sandbox, type SandboxSpec } from "../runtime.js";
import { DockerRuntime, dockerFromEnv } from "./docker-runtime.js";
import { runRuntimeConformance } from "./runtime.conformance.js";

/** First run on a fresh machine: debootstrap + import + build on 2 shared cores. */
const SETUP_TIMEOUT_MS = 15 * 60_000;
const ENV = { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" };
/** The native Claude Code CLI from npm: it must run in the image (needs libstdc++, nothing else). */
const CLAUDE_BIN = realpathSync(fileURLToPath(new URL("../../../node_modules/.bin/claude", import.meta.url)));

let engine: TestDockerd | undefined;
let docker: Dockerode | undefined;
let image = "";
let workspaceRoot = "";

beforeAll(async () => {
  engine = await startDockerd();
  docker = await dockerFromEnv({ DOCKER_HOST: engine.socket });
  image = await ensureWorkerImage(engine.docker);
  workspaceRoot = await mkdtemp("/tmp/orch-docker-ws-");
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  if (engine) {
    const runtime = open();
    for (const info of await runtime.list()) await runtime.remove(info);
    await engine.stop();
  }
  if (workspaceRoot) await rm(workspaceRoot, { recursive: true, force: true });
}, 120_000);

function open(): DockerRuntime {
  if (!docker) throw new Error("engine not started");
  return new DockerRuntime({
    docker,
    image,
    workspaceRoot,
    bindReadOnly: [process.execPath, dirname(CLAUDE_BIN)],
  });
}

runRuntimeConformance("DockerRuntime", async () => ({ runtime: open(), cleanup: async () => {} }));

let seq = 0;
function spec(overrides: Partial<SandboxSpec> = {}): SandboxSpec {
  seq += 1;
  return {
    workerId: `w-${process.pid}-${seq}`,
    projectId: "p-1",
    runId: "r-1",
    labels: { "orchestrator.role": "developer" },
    limits: { cpus: 1, memoryMb: 256, pids: 128 },
    modelAgent: "claude-code",
    ...overrides,
  };
}

describe("DockerRuntime", () => {
  const runtime = () => open();
  const made: Sandbox[] = [];
  const create = async (s: SandboxSpec = spec()) => {
    const sandbox = await runtime().create(s);
    made.push(sandbox);
    return sandbox;
  };
  afterEach(async () => {
    for (const sandbox of made.splice(0)) await runtime().destroy(sandbox);
  });

  it("runs commands as uid 1000 in /workspace with a 1777 /tmp and host binaries bound read-only", async () => {
    const sandbox = await create();
    const result = await runtime().exec(sandbox, {
      argv: ["sh", "-c", "id -u; id -g; pwd; stat -c %a /tmp; touch /usr/x 2>/dev/null || echo ro-root"],
      env: { ...ENV, HOME: sandbox.home },
      timeoutMs: 20_000,
    });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.stdout.split("\n")).toEqual(["1000", "1000", "/workspace", "1777", "ro-root", ""]);
    const node = await runtime().exec(sandbox, {
      argv: [process.execPath, "-e", "console.log(process.version)"],
      env: ENV,
      timeoutMs: 20_000,
    });
    expect(node).toMatchObject({ exitCode: 0, stdout: `${process.version}\n` });
    const claude = await runtime().exec(sandbox, {
      argv: [CLAUDE_BIN, "--version"],
      env: { ...ENV, HOME: sandbox.home },
      timeoutMs: 60_000,
    });
    expect(claude).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/^2\.\d+\.\d+/) });
  });

  it("reports a timed-out command as killed by SIGKILL and keeps the sandbox usable", async () => {
    const rt = runtime();
    const sandbox = await create();
    const result = await rt.exec(sandbox, {
      argv: ["sh", "-c", "echo started; sleep 300"],
      env: ENV,
      timeoutMs: 1_000,
    });
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGKILL", stdout: "started\n" });
    expect((await rt.exec(sandbox, { argv: ["true"], env: ENV, timeoutMs: 20_000 })).exitCode).toBe(0);
  });

  it("creates containers with owner labels, limits and a locked-down security profile", async () => {
    const s = spec({ limits: { cpus: 0.5, memoryMb: 200, pids: 64 } });
    const sandbox = await create(s);
    const info = await engine?.docker.getContainer(sandbox.id).inspect();
    expect(info?.Name).toBe(`/orchestrator-worker-${s.workerId}`);
    expect(info?.Config.Labels).toMatchObject({
      [LABEL_WORKER]: s.workerId,
      [LABEL_PROJECT]: "p-1",
      [LABEL_RUN]: "r-1",
      "orchestrator.role": "developer",
    });
    expect(info?.Config.User).toBe("1000:1000");
    expect(info?.HostConfig).toMatchObject({
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      Memory: 200 * 1024 * 1024,
      PidsLimit: 64,
      NanoCpus: 500_000_000,
      NetworkMode: "host",
    });
    const caps = await runtime().exec(sandbox, {
      argv: [
        "sh",
        "-c",
        "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; cat /sys/fs/cgroup/pids/pids.max",
      ],
      env: ENV,
      timeoutMs: 20_000,
    });
    expect(caps.stdout).toMatch(/CapEff:\s+0000000000000000/);
    expect(caps.stdout).toMatch(/NoNewPrivs:\s+1/);
    expect(caps.stdout).toMatch(/^64$/m);
  });

  it("reports an unreachable engine as unavailable", async () => {
    const dead = new DockerRuntime({
      docker: await dockerFromEnv({ DOCKER_HOST: `unix://${workspaceRoot}/no-such.sock` }),
      image,
      workspaceRoot,
    });
    await expect(dead.list()).rejects.toMatchObject({ kind: "unavailable", code: "docker_unreachable" });
  });
});
