import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Sandbox, SandboxSpec } from "../runtime.js";
import { ProcessRuntime, type ProcessRuntimeOptions } from "./process-runtime.js";
import { readPids } from "./process-sandbox-files.js";
import { isAlive } from "./process-tree.js";
import { eventually, runRuntimeConformance, sleep } from "./runtime.conformance.js";

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Every combination the runtime can run in here: bubblewrap or not, cgroup freezer or signals. */
const VARIANTS: { name: string; options: Partial<ProcessRuntimeOptions> }[] = [
  { name: "ProcessRuntime (bubblewrap, cgroup when available)", options: { useBubblewrap: true } },
  { name: "ProcessRuntime (bubblewrap, signals)", options: { useBubblewrap: true, useCgroup: false } },
  { name: "ProcessRuntime (direct, cgroup when available)", options: { useBubblewrap: false } },
  { name: "ProcessRuntime (direct, signals)", options: { useBubblewrap: false, useCgroup: false } },
];

/** A temporary root per describe block, removed afterwards. */
function useRoot(): () => string {
  let root = "";
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "process-runtime-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });
  return () => root;
}

function spec(workerId: string): SandboxSpec {
  return {
    workerId,
    projectId: "p1",
    runId: null,
    labels: {},
    limits: { cpus: 1, memoryMb: 256, pids: 64 },
    modelAgent: null,
  };
}

function envFor(sandbox: Sandbox): Record<string, string> {
  return { PATH, HOME: sandbox.home, ORCHESTRATOR_WORKER_ID: sandbox.workerId };
}

for (const variant of VARIANTS) {
  describe(variant.name, () => {
    const root = useRoot();
    runRuntimeConformance(variant.name, async () => ({
      runtime: new ProcessRuntime({ root: root(), killGraceMs: 1_000, ...variant.options }),
      cleanup: async () => {},
    }));
  });
}

describe("ProcessRuntime inside bubblewrap", () => {
  const root = useRoot();
  let shared = "";
  beforeAll(async () => {
    shared = await mkdtemp(join(tmpdir(), "process-runtime-ro-"));
    await writeFile(join(shared, "tool.txt"), "tool\n");
  });
  afterAll(async () => {
    await rm(shared, { recursive: true, force: true });
  });

  it("runs as uid 1000 on a read-only system, with read-only extra binds and no host secrets", async () => {
    const runtime = new ProcessRuntime({ root: root(), useBubblewrap: true, bindReadOnly: [shared] });
    expect((await runtime.isolation()).bubblewrap).toBe(true);
    const sandbox = await runtime.create(spec("bwrap-1"));
    try {
      expect(sandbox).toMatchObject({ workspace: "/workspace", home: "/home/worker" });
      const run = (script: string) =>
        runtime.exec(sandbox, { argv: ["sh", "-c", script], env: envFor(sandbox), timeoutMs: 20_000 });
      expect((await run("id -u; id -g")).stdout).toBe("1000\n1000\n");
      expect((await run("touch /usr/x || touch /x || echo ro")).stdout).toBe("ro\n");
      expect((await run(`cat ${shared}/tool.txt && (touch ${shared}/w || echo ro)`)).stdout).toBe(
        "tool\nro\n",
      );
      expect((await run("cat /etc/shadow | wc -c")).stdout.trim()).toBe("0");
      expect((await run("ls /root 2>/dev/null || echo hidden")).stdout).toBe("hidden\n");
      expect((await run("echo $$")).stdout.trim()).not.toBe(String(process.pid));
      if ((await runtime.isolation()).cgroup) {
        expect((await run("cat /proc/self/cgroup")).stdout).toContain("0::/orchestrator/bwrap-1\n");
      }
    } finally {
      await runtime.destroy(sandbox);
    }
  });
});

describe("ProcessRuntime specifics", () => {
  const root = useRoot();
  const strays: ChildProcess[] = [];
  afterAll(() => {
    for (const child of strays) child.kill("SIGKILL");
  });

  it("warns once when commands run without bubblewrap", async () => {
    const warn = vi.fn();
    const runtime = new ProcessRuntime({ root: root(), useBubblewrap: false, logger: { warn } });
    const a = await runtime.create(spec("warn-a"));
    const b = await runtime.create(spec("warn-b"));
    await runtime.exec(a, { argv: ["true"], env: envFor(a), timeoutMs: 10_000 });
    expect(warn).toHaveBeenCalledTimes(1);
    await runtime.destroy(a);
    await runtime.destroy(b);
  });

  it("keeps only the end of a large output", async () => {
    const runtime = new ProcessRuntime({ root: root(), useBubblewrap: false });
    const sandbox = await runtime.create(spec("big-out"));
    const result = await runtime.exec(sandbox, {
      argv: ["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' a; echo END"],
      env: envFor(sandbox),
      timeoutMs: 20_000,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.length).toBeLessThanOrEqual(1024 * 1024);
    expect(result.stdout.endsWith("aaaEND\n")).toBe(true);
    await runtime.destroy(sandbox);
  });

  it("rejects worker ids that are not a safe folder name", async () => {
    const runtime = new ProcessRuntime({ root: root(), useBubblewrap: false });
    await expect(runtime.create(spec("../escape"))).rejects.toMatchObject({ code: "invalid_worker_id" });
  });

  for (const useCgroup of [false, undefined]) {
    it(`a new instance kills what a previous one recorded in pids (cgroup: ${useCgroup ?? "auto"})`, async () => {
      const options = { root: root(), useBubblewrap: false, useCgroup, killGraceMs: 500 };
      const first = new ProcessRuntime(options);
      const workerId = `left-${useCgroup ?? "auto"}`;
      const sandbox = await first.create(spec(workerId));
      const running = first.exec(sandbox, {
        argv: ["sleep", "100"],
        env: envFor(sandbox),
        timeoutMs: 120_000,
      });
      const dir = join(root(), workerId);
      await eventually("the pid is recorded", async () => readPids(dir).length === 1);
      const pid = readPids(dir)[0]?.pid ?? 0;
      expect(await isAlive(pid)).toBe(true);

      const second = new ProcessRuntime(options);
      const info = (await second.list()).find((i) => i.workerId === workerId);
      expect(info).toBeDefined();
      if (info) await second.remove(info);
      await eventually("the leftover is gone", async () => !(await isAlive(pid)));
      expect((await running).exitCode).not.toBe(0);
    });
  }

  it("never kills a recycled pid found in the pids file", async () => {
    const runtime = new ProcessRuntime({ root: root(), useBubblewrap: false, useCgroup: false });
    const sandbox = await runtime.create(spec("recycled"));
    const bare = spawn("sleep", ["100"], { stdio: "ignore" });
    const stale = spawn("sleep", ["100"], { stdio: "ignore" });
    strays.push(bare, stale);
    await sleep(100);
    // One bare pid (no start time, no worker marker) and one with a start time that is not its own.
    await writeFile(join(root(), "recycled", "pids"), `${bare.pid}\n${stale.pid} 1\n`);

    const second = new ProcessRuntime({ root: root(), useBubblewrap: false, useCgroup: false });
    await second.pause(sandbox);
    expect(await second.cpuTimeMs(sandbox)).toBe(0);
    await second.resume(sandbox);
    const info = (await second.list()).find((i) => i.workerId === "recycled");
    if (info) await second.remove(info);
    expect(await isAlive(bare.pid ?? 0)).toBe(true);
    expect(await isAlive(stale.pid ?? 0)).toBe(true);
    const state = await readFile(`/proc/${stale.pid}/stat`, "utf8");
    expect(state.split(") ")[1]?.[0]).not.toBe("T");
  });

  it("keeps the project caches out of list(), so a sweep never removes them", async () => {
    const runtime = new ProcessRuntime({ root: root(), useBubblewrap: false });
    const sandbox = await runtime.create(spec("cached"));
    const env = { ...envFor(sandbox), npm_config_cache: sandbox.npmCache ?? "" };
    await runtime.exec(sandbox, {
      argv: ["sh", "-c", 'echo x > "$npm_config_cache/kept"'],
      env,
      timeoutMs: 10_000,
    });
    expect(sandbox.npmCache).toBe(join(root(), ".caches", "p1", "npm"));
    const infos = await runtime.list();
    expect(infos.map((i) => i.workerId)).not.toContain(".caches");
    for (const info of infos.filter((i) => i.workerId === "cached")) await runtime.remove(info);
    expect(await readFile(join(root(), ".caches", "p1", "npm", "kept"), "utf8")).toBe("x\n");
  });

  it("rejects project ids that are not a safe folder name", async () => {
    const runtime = new ProcessRuntime({ root: root(), useBubblewrap: false });
    await expect(runtime.create({ ...spec("bad-project"), projectId: "../p" })).rejects.toMatchObject({
      code: "invalid_input",
    });
  });

  it("lists a folder whose record is missing so a sweep can remove it", async () => {
    const runtime = new ProcessRuntime({ root: root(), useBubblewrap: false });
    await mkdir(join(root(), "half-made", "workspace"), { recursive: true });
    const info = (await runtime.list()).find((i) => i.workerId === "half-made");
    expect(info?.labels).toEqual({ "orchestrator.worker.id": "half-made" });
    if (info) await runtime.remove(info);
    expect((await runtime.list()).some((i) => i.workerId === "half-made")).toBe(false);
  });
});
