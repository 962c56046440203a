import { randomBytes } from "node:crypto";
import { access, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ExecSpec, Runtime, Sandbox, SandboxSpec } from "../runtime.js";
import { LABEL_PROJECT, LABEL_RUN, LABEL_WORKER } from "../runtime.js";

/** One runtime instance under test and how to release it (not the sandboxes: the suite destroys those). */
export interface OpenedRuntime {
  runtime: Runtime;
  cleanup(): Promise<void>;
}

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** Variables a shell or an engine may add on its own; anything else must come from the spec. */
const TOLERATED_EXTRA_ENV = new Set(["PWD", "SHLVL", "_", "HOSTNAME"]);

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it holds, failing with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(50);
  }
}

/**
 * Host processes whose environment or command line holds `marker`. Empty when the runtime's
 * processes are not visible here (a remote engine): then the in-sandbox heartbeat checks decide.
 */
export async function processesWithMarker(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const read = (file: string) => readFile(`/proc/${name}/${file}`, "utf8").catch(() => "");
    const status = await read("status");
    if (/^State:\s+Z/m.test(status)) continue;
    if ((await read("environ")).includes(marker) || (await read("cmdline")).includes(marker)) {
      found.push(Number(name));
    }
  }
  return found;
}

async function gone(path: string): Promise<boolean> {
  return access(path).then(
    () => false,
    () => true,
  );
}

/**
 * The one behavioural suite every `Runtime` must pass. `open` is called at least once per test and
 * must return a NEW runtime instance each time; all instances opened by one suite share the same
 * backing store (root folder, Docker engine), as an orchestrator restarted on the same data does.
 * Every command gets `ORCHESTRATOR_WORKER_ID=<workerId>` in its environment, as the manager does.
 */
export function runRuntimeConformance(name: string, open: () => Promise<OpenedRuntime>): void {
  describe(`Runtime conformance: ${name}`, () => {
    let opened: OpenedRuntime[] = [];
    let runtime: Runtime;
    let created: Sandbox[] = [];

    const another = async () => {
      const next = await open();
      opened.push(next);
      return next.runtime;
    };
    const newSpec = (extra: Partial<SandboxSpec> = {}): SandboxSpec => ({
      workerId: `conf-${randomBytes(6).toString("hex")}`,
      projectId: `proj-${randomBytes(4).toString("hex")}`,
      runId: `run-${randomBytes(4).toString("hex")}`,
      labels: {},
      limits: { cpus: 1, memoryMb: 512, pids: 256 },
      // The strict case: every runtime, as configured, must take a sandbox for an agent with a model.
      modelAgent: "claude-code",
      ...extra,
    });
    const make = async (extra: Partial<SandboxSpec> = {}) => {
      const sandbox = await runtime.create(newSpec(extra));
      created.push(sandbox);
      return sandbox;
    };
    const env = (sandbox: Sandbox, more: Record<string, string> = {}) => ({
      PATH,
      HOME: sandbox.home,
      ORCHESTRATOR_WORKER_ID: sandbox.workerId,
      ...more,
    });
    const run = (sandbox: Sandbox, argv: string[], more: Partial<ExecSpec> = {}) =>
      runtime.exec(sandbox, { argv, env: env(sandbox), timeoutMs: 20_000, ...more });

    beforeEach(async () => {
      opened = [];
      created = [];
      runtime = await another();
    });
    afterEach(async () => {
      for (const sandbox of created) await runtime.destroy(sandbox);
      for (const o of opened) await o.cleanup();
    });

    it("creates a sandbox whose workspace is writable inside and shared with the host", async () => {
      const sandbox = await make();
      await writeFile(join(sandbox.hostWorkspace, "seed.txt"), "seeded\n");
      const result = await run(sandbox, ["sh", "-c", "echo hi > f && cat seed.txt && echo more >> seed.txt"]);
      expect(result).toMatchObject({ exitCode: 0, timedOut: false, stdout: "seeded\n" });
      expect(await readFile(join(sandbox.hostWorkspace, "f"), "utf8")).toBe("hi\n");
      expect(await readFile(join(sandbox.hostWorkspace, "seed.txt"), "utf8")).toBe("seeded\nmore\n");
      // What the command made stays writable and removable by the orchestrator.
      await writeFile(join(sandbox.hostWorkspace, "f"), "host\n", { flag: "a" });
      await rm(join(sandbox.hostWorkspace, "f"));
      const pwd = await run(sandbox, ["pwd"]);
      expect(pwd.stdout.trim()).toBe(sandbox.workspace);
    });

    it("gives a writable HOME and a writable /tmp with mode 1777", async () => {
      const sandbox = await make();
      const home = await run(sandbox, ["sh", "-c", 'echo x > "$HOME/probe" && cat "$HOME/probe"']);
      expect(home).toMatchObject({ exitCode: 0, stdout: "x\n" });
      const tmp = await run(sandbox, ["sh", "-c", `stat -c %a /tmp && echo t > /tmp/${sandbox.workerId}`]);
      expect(tmp).toMatchObject({ exitCode: 0, stdout: "1777\n" });
      await run(sandbox, ["rm", "-f", `/tmp/${sandbox.workerId}`]);
    });

    it("runs with exactly the given environment, nothing inherited", async () => {
      const sandbox = await make();
      const before = process.env.DATABASE_URL;
      process.env.DATABASE_URL = "postgres://orchestrator:secret@localhost/db";
      try {
        const given = env(sandbox, { FOO: "bar baz", EMPTY: "" });
        const result = await runtime.exec(sandbox, { argv: ["env"], env: given, timeoutMs: 20_000 });
        expect(result.exitCode).toBe(0);
        const seen = new Map(
          result.stdout
            .split("\n")
            .filter(Boolean)
            .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
        );
        for (const [key, value] of Object.entries(given)) expect(seen.get(key)).toBe(value);
        expect(seen.has("DATABASE_URL")).toBe(false);
        const extra = [...seen.keys()].filter((k) => !(k in given) && !TOLERATED_EXTRA_ENV.has(k));
        expect(extra).toEqual([]);
      } finally {
        if (before === undefined) delete process.env.DATABASE_URL;
        else process.env.DATABASE_URL = before;
      }
    });

    it("captures exit code, stdout, stderr, feeds stdin and honours cwd", async () => {
      const sandbox = await make();
      const result = await run(sandbox, ["sh", "-c", "echo out; echo err >&2; exit 3"]);
      expect(result).toMatchObject({
        exitCode: 3,
        signal: null,
        stdout: "out\n",
        stderr: "err\n",
        timedOut: false,
      });
      expect(result.durationMs).toBeGreaterThanOrEqual(0);
      expect((await run(sandbox, ["cat"], { stdin: "hello\nworld" })).stdout).toBe("hello\nworld");
      expect((await run(sandbox, ["cat"])).stdout).toBe("");
      await run(sandbox, ["mkdir", "sub"]);
      const pwd = await run(sandbox, ["pwd"], { cwd: `${sandbox.workspace}/sub` });
      expect(pwd.stdout.trim()).toBe(`${sandbox.workspace}/sub`);
      const missing = await run(sandbox, ["/nonexistent/program"]);
      expect(missing.exitCode).not.toBe(0);
    });

    it("streams stdout lines while the command runs", async () => {
      const sandbox = await make();
      const lines: { line: string; at: number }[] = [];
      const result = await run(sandbox, ["sh", "-c", 'printf "a\\nb\\n"; sleep 1; printf "c"'], {
        onStdoutLine: (line) => lines.push({ line, at: Date.now() }),
      });
      const ended = Date.now();
      expect(result.stdout).toBe("a\nb\nc");
      expect(lines.map((l) => l.line)).toEqual(["a", "b", "c"]);
      expect(lines[0]?.at).toBeLessThan(ended - 300);
    });

    it("kills a timed-out command with everything it started and says so", async () => {
      const sandbox = await make();
      const script = "(while :; do date +%s%N > beat; sleep 0.1; done) & sleep 100 & sleep 100";
      const result = await run(sandbox, ["sh", "-c", script], { timeoutMs: 1_000 });
      expect(result.timedOut).toBe(true);
      expect(result.exitCode === 0).toBe(false);
      expect(result.durationMs).toBeLessThan(20_000);
      await eventually("no process of the sandbox left", async () => {
        return (await processesWithMarker(`ORCHESTRATOR_WORKER_ID=${sandbox.workerId}`)).length === 0;
      });
      const beat = join(sandbox.hostWorkspace, "beat");
      const first = await readFile(beat, "utf8");
      await sleep(600);
      expect(await readFile(beat, "utf8")).toBe(first);
    });

    it("pauses with zero CPU, refuses execs while paused, resumes, and destroy ends the command", async () => {
      const sandbox = await make();
      const burning = run(sandbox, ["sh", "-c", "while :; do :; done"], { timeoutMs: 120_000 });
      await eventually("the command burns CPU", async () => (await runtime.cpuTimeMs(sandbox)) > 100);
      await runtime.pause(sandbox);
      await sleep(200);
      const frozenAt = await runtime.cpuTimeMs(sandbox);
      await sleep(1_000);
      expect((await runtime.cpuTimeMs(sandbox)) - frozenAt).toBeLessThan(100);
      await expect(run(sandbox, ["true"])).rejects.toMatchObject({
        kind: "conflict",
        code: "sandbox_paused",
      });
      await runtime.resume(sandbox);
      await eventually(
        "CPU time advances again",
        async () => (await runtime.cpuTimeMs(sandbox)) > frozenAt + 200,
      );
      expect((await run(sandbox, ["true"])).exitCode).toBe(0);
      await runtime.destroy(sandbox);
      const ended = await burning;
      expect(ended.exitCode === 0).toBe(false);
      expect(await processesWithMarker(`ORCHESTRATOR_WORKER_ID=${sandbox.workerId}`)).toEqual([]);
    });

    it("destroys a paused sandbox with its running command", async () => {
      const sandbox = await make();
      const sleeping = run(sandbox, ["sh", "-c", "sleep 100"], { timeoutMs: 120_000 });
      await sleep(300);
      await runtime.pause(sandbox);
      await runtime.destroy(sandbox);
      const ended = await sleeping;
      expect(ended.exitCode === 0).toBe(false);
      expect(await gone(sandbox.hostWorkspace)).toBe(true);
    });

    it("destroy removes the workspace, is idempotent, and the sandbox is then gone", async () => {
      const sandbox = await make();
      await writeFile(join(sandbox.hostWorkspace, "x"), "x");
      await run(sandbox, ["sh", "-c", "mkdir -p deep/er && echo y > deep/er/y && chmod 500 deep/er"]);
      await runtime.destroy(sandbox);
      expect(await gone(sandbox.hostWorkspace)).toBe(true);
      await runtime.destroy(sandbox);
      expect(await runtime.attach(sandbox.workerId)).toBeNull();
      expect((await runtime.list()).map((i) => i.workerId)).not.toContain(sandbox.workerId);
      await expect(run(sandbox, ["true"])).rejects.toMatchObject({ kind: "not_found" });
    });

    it("shares an npm cache between sandboxes of one project only, and keeps it past destroy", async () => {
      const projectId = `proj-${randomBytes(4).toString("hex")}`;
      const first = await make({ projectId });
      const second = await make({ projectId });
      const other = await make();
      const runWithCache = (sandbox: Sandbox, script: string) =>
        runtime.exec(sandbox, {
          argv: ["sh", "-c", script],
          env: env(sandbox, { npm_config_cache: sandbox.npmCache ?? "" }),
          timeoutMs: 20_000,
        });
      for (const sandbox of [first, second, other]) expect(sandbox.npmCache).toMatch(/^\//);
      const wrote = await runWithCache(first, 'echo cached > "$npm_config_cache/probe"');
      expect(wrote).toMatchObject({ exitCode: 0, stderr: "" });
      // Collecting a sandbox never takes its project's cache with it.
      await runtime.destroy(first);
      const read = await runWithCache(second, 'cat "$npm_config_cache/probe"');
      expect(read).toMatchObject({ exitCode: 0, stdout: "cached\n" });
      const elsewhere = await runWithCache(other, 'ls -A "$npm_config_cache"; echo end');
      expect(elsewhere).toMatchObject({ exitCode: 0, stdout: "end\n" });
      const attached = await (await another()).attach(second.workerId);
      expect(attached?.npmCache).toBe(second.npmCache);
    });

    it("lists created sandboxes with their owner and extra labels", async () => {
      const a = await make({ labels: { "orchestrator.role": "developer" } });
      const spec = newSpec({ runId: null });
      const b = await runtime.create(spec);
      created.push(b);
      const infos = await runtime.list();
      const infoA = infos.find((i) => i.workerId === a.workerId);
      const infoB = infos.find((i) => i.workerId === b.workerId);
      expect(infoA?.labels).toMatchObject({ [LABEL_WORKER]: a.workerId, "orchestrator.role": "developer" });
      expect(infoA?.labels[LABEL_PROJECT]).toMatch(/^proj-/);
      expect(infoA?.labels[LABEL_RUN]).toMatch(/^run-/);
      expect(infoB?.labels).toMatchObject({ [LABEL_WORKER]: b.workerId, [LABEL_PROJECT]: spec.projectId });
      expect(infoB?.labels[LABEL_RUN]).toBeUndefined();
      await expect(runtime.create(spec)).rejects.toMatchObject({ kind: "conflict" });
    });

    it("attaches from a new runtime instance and returns null for an unknown worker", async () => {
      const sandbox = await make();
      await run(sandbox, ["sh", "-c", "echo kept > kept"]);
      const second = await another();
      const attached = await second.attach(sandbox.workerId);
      expect(attached).toMatchObject({
        workerId: sandbox.workerId,
        workspace: sandbox.workspace,
        hostWorkspace: sandbox.hostWorkspace,
        home: sandbox.home,
      });
      if (!attached) return;
      const result = await second.exec(attached, {
        argv: ["cat", "kept"],
        env: env(attached),
        timeoutMs: 20_000,
      });
      expect(result.stdout).toBe("kept\n");
      expect(await second.attach(`conf-unknown-${randomBytes(4).toString("hex")}`)).toBeNull();
    });

    it("removes an orphan found by list() on a new instance, leaving nothing", async () => {
      const sandbox = await make();
      const marker = `ORCHESTRATOR_WORKER_ID=${sandbox.workerId}`;
      const running = run(sandbox, ["sh", "-c", "sleep 100"], { timeoutMs: 120_000 });
      await sleep(500);
      const second = await another();
      const info = (await second.list()).find((i) => i.workerId === sandbox.workerId);
      expect(info).toBeDefined();
      if (!info) return;
      await second.remove(info);
      const ended = await running;
      expect(ended.exitCode === 0).toBe(false);
      expect(await gone(sandbox.hostWorkspace)).toBe(true);
      expect((await second.list()).map((i) => i.workerId)).not.toContain(sandbox.workerId);
      expect(await runtime.attach(sandbox.workerId)).toBeNull();
      expect(await processesWithMarker(marker)).toEqual([]);
      await second.remove(info);
    });
  });
}
