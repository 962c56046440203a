import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkersHarness, type WorkersHarness } from "../../test/support/workers-harness.js";
import { processesWithMarker } from "./runtimes/runtime.conformance.js";
import { EXEC_OUTPUT_LIMIT_BYTES } from "./spec.js";

let h: WorkersHarness;
let projectId: string;

beforeAll(async () => {
  h = await startWorkersHarness();
  projectId = (await h.store.projects.create({ name: "workers" })).id;
});
afterAll(async () => h?.close());

const script = (...steps: unknown[]) => JSON.stringify({ steps });
const gitInit = { run: { argv: ["git", "init", "-q", "-b", "main"] } };

describe("WorkerManager with the scripted agent in the process runtime", () => {
  it("runs a turn that writes, commits and reports, then pauses the worker", async () => {
    const project = await h.store.projects.get(projectId);
    const run = await h.store.runs.create({ projectId: project.id, kind: "engineering" });
    const worker = await h.manager.create({
      role: "developer",
      projectId,
      runId: run.id,
      backend: "scripted",
    });
    expect(worker.state).toBe("running");
    const result = await h.manager.send(
      worker.id,
      script(
        gitInit,
        { write: { path: "hello.txt", content: "hello\n" } },
        { progress: { step: "wrote hello", percent: 50 } },
        { commit: { message: "add hello" } },
        { report: { status: "complete", summary: "hello written", commit: "HEAD" } },
      ),
      { timeoutMs: 60_000 },
    );
    expect(result.ok, JSON.stringify(result.error)).toBe(true);
    expect(result.stopReason).toBe("completed");
    expect(result.report).toMatchObject({ status: "complete", summary: "hello written" });
    expect(result.report?.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(readFileSync(join(h.root, worker.id, "workspace", "hello.txt"), "utf8")).toBe("hello\n");

    const after = await h.manager.status(worker.id);
    expect(after.state).toBe("paused");
    expect(after.sessionId).toBe(result.sessionId);
    const usage = await h.store.tokenUsage.list({ limit: 10, offset: 0, runId: run.id });
    expect(usage.items).toHaveLength(1);
    expect(usage.items[0]).toMatchObject({
      backend: "scripted",
      workerId: worker.id,
      costSource: "provider",
    });
    const events = await h.store.runEvents.list(run.id, {});
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["worker.progress", "worker.report"]));
    const moves = events
      .filter((e) => e.type === "worker.state_changed")
      .map((e) => `${e.data.from}->${e.data.to}`);
    expect(moves).toEqual(["starting->running", "running->paused"]);
    expect(h.manager.logs(worker.id).length).toBeGreaterThan(0);
  });

  it("resumes a paused worker on the next message, in the same session", async () => {
    const worker = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    const first = await h.manager.send(
      worker.id,
      script(
        { report: { status: "complete", summary: "one" } },
        { pause: {} },
        { report: { status: "complete", summary: "two" } },
      ),
    );
    expect(first.report?.summary).toBe("one");
    expect((await h.manager.status(worker.id)).state).toBe("paused");
    const second = await h.manager.send(worker.id, "continue");
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.report?.summary).toBe("two");
  });

  it("reminds an agent that stopped without reporting, once, and takes its late report", async () => {
    const worker = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    const result = await h.manager.send(
      worker.id,
      script(
        { write: { path: "a.txt", content: "a" } },
        { pause: {} },
        { report: { status: "complete", summary: "late" } },
      ),
    );
    expect(result.ok).toBe(true);
    expect(result.report?.summary).toBe("late");
  });

  it("fails a turn whose agent never reports with 'agent exited without reporting'", async () => {
    const worker = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    const result = await h.manager.send(worker.id, script({ write: { path: "a.txt", content: "a" } }));
    expect(result.ok).toBe(false);
    expect(result.stopReason).toBe("no_report");
    expect(result.error).toEqual({ code: "no_report", message: "agent exited without reporting" });
  });

  it("kills a turn past its timeout and says so", async () => {
    const worker = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    const started = Date.now();
    const result = await h.manager.send(worker.id, script({ sleep: { ms: 120_000 } }), { timeoutMs: 2_000 });
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(result.ok).toBe(false);
    expect(result.stopReason).toBe("timeout");
  });

  it("reports a crashed agent as a typed failure, not a success", async () => {
    const worker = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    const result = await h.manager.send(worker.id, script({ fail: { message: "segfault" } }));
    expect(result.ok).toBe(false);
    expect(result.error?.message).toContain("segfault");
    expect(result.report).toBeNull();
  });

  it("validates what it is given", async () => {
    await expect(
      h.manager.create({ role: "developer", projectId, backend: "scripted", env: { PATH: "/evil" } }),
    ).rejects.toMatchObject({
      kind: "invalid",
      details: [expect.objectContaining({ path: "env.PATH" })],
    });
    await expect(h.manager.create({ role: "developer", projectId, backend: "codex" })).rejects.toMatchObject({
      code: "backend_unavailable",
    });
    await expect(
      h.manager.create({
        role: "developer",
        projectId: "5b0c2d4e-1111-4222-8333-444455556666",
        backend: "scripted",
      }),
    ).rejects.toMatchObject({
      kind: "not_found",
    });
  });

  it("terminates: sandbox removed, token revoked, further messages refused", async () => {
    const worker = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    const workspace = join(h.root, worker.id);
    expect(existsSync(workspace)).toBe(true);
    const ended = await h.manager.terminate(worker.id);
    expect(ended.state).toBe("stopped");
    expect(existsSync(workspace)).toBe(false);
    const live = (await h.store.apiTokens.list()).filter(
      (t) => t.workerId === worker.id && t.revokedAt === null,
    );
    expect(live).toHaveLength(0);
    await expect(h.manager.send(worker.id, "hello")).rejects.toMatchObject({ code: "worker_ended" });
    expect((await h.manager.terminate(worker.id)).state).toBe("stopped");
  });

  it("loops until the report says complete (runUntilComplete)", async () => {
    const worker = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    const outcome = await h.manager.runUntilComplete(
      worker.id,
      script(
        { report: { status: "failed", summary: "try 1" } },
        { pause: {} },
        { report: { status: "failed", summary: "try 2" } },
        { pause: {} },
        { report: { status: "complete", summary: "done at 3" } },
      ),
      { maxIterations: 5 },
    );
    expect(outcome).toMatchObject({ isComplete: true, iterations: 3 });
    expect(outcome.result.report?.summary).toBe("done at 3");
  });
});

describe("sessions and kills", () => {
  it("starts a fresh session with the project summary once the context is over the limit", async () => {
    const project = await h.store.projects.create({ name: "summarized" });
    await h.store.projects.update(project.id, { summary: "A bot with /start; tests pass." });
    const worker = await h.manager.create({ role: "developer", projectId: project.id, backend: "scripted" });
    const fenced = (summary: string) =>
      `\`\`\`agent-script\n${script({ report: { status: "complete", summary } })}\n\`\`\``;
    const first = await h.manager.send(worker.id, fenced("first"));
    expect(first.report?.summary).toBe("first");
    // Over SESSION_MAX_CONTEXT_TOKENS: the next turn must not continue that session.
    await h.store.workers.touch(worker.id, { contextTokens: 200_000 });
    const second = await h.manager.send(worker.id, fenced("second"));
    expect(second.ok).toBe(true);
    expect(second.sessionId).not.toBe(first.sessionId);
    const lines = h.manager.logs(worker.id, 500).join("\n");
    expect(lines).toContain("second");
  });

  it("reports a sandboxed agent killed with SIGKILL as killed", async () => {
    const worker = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    const turn = h.manager.send(worker.id, script({ sleep: { ms: 120_000 } }), { timeoutMs: 120_000 });
    let pids: number[] = [];
    for (let i = 0; i < 100 && pids.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      pids = await processesWithMarker(worker.id);
    }
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch (error) {
        // The sandbox's other processes die with the first one killed: gone already is the aim.
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
      }
    }
    const result = await turn;
    expect(result.ok).toBe(false);
    expect(result.error?.code).toMatch(/killed|crashed|exit_code/);
    expect(result.report).toBeNull();
  });
});

describe("exec: commands in a worker's sandbox", () => {
  const workspaceOf = async (workerId: string) => {
    const sandbox = await h.runtime.attach(workerId);
    if (!sandbox) throw new Error("no sandbox");
    return sandbox.workspace;
  };

  it("runs with the turn environment, the extra env and the workspace as cwd, and logs the output", async () => {
    const worker = await h.manager.create({
      role: "developer",
      projectId,
      backend: "scripted",
      env: { FROM_SPEC: "spec" },
    });
    const out = await h.manager.exec(
      worker.id,
      ["sh", "-c", "echo $ORCHESTRATOR_WORKER_ID; pwd; echo $EXTRA; echo $FROM_SPEC; echo oops >&2"],
      { env: { EXTRA: "extra value" } },
    );
    expect(out).toMatchObject({ exitCode: 0, signal: null, timedOut: false, stderr: "oops\n" });
    expect(out.stdout.split("\n")).toEqual([
      worker.id,
      await workspaceOf(worker.id),
      "extra value",
      "spec",
      "",
    ]);
    expect(out.durationMs).toBeGreaterThanOrEqual(0);
    expect(h.manager.logs(worker.id)).toEqual(expect.arrayContaining(["extra value", "[stderr] oops"]));
    expect((await h.store.workers.get(worker.id)).state).toBe("running");

    await h.manager.exec(worker.id, ["mkdir", "-p", "sub/dir"]);
    const inSub = await h.manager.exec(worker.id, ["pwd"], { cwd: "sub/dir" });
    expect(inSub.stdout.trim()).toBe(`${await workspaceOf(worker.id)}/sub/dir`);
  });

  it("returns a failing command's exit code instead of throwing, and only the end of huge output", async () => {
    const worker = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    const failed = await h.manager.exec(worker.id, ["sh", "-c", "echo bad >&2; exit 3"]);
    expect(failed).toMatchObject({ exitCode: 3, timedOut: false, stderr: "bad\n" });
    const huge = await h.manager.exec(worker.id, [
      "sh",
      "-c",
      "head -c 300000 /dev/zero | tr '\\0' a; echo END",
    ]);
    expect(huge.exitCode).toBe(0);
    expect(Buffer.byteLength(huge.stdout)).toBe(EXEC_OUTPUT_LIMIT_BYTES);
    expect(huge.stdout.endsWith("aEND\n")).toBe(true);
  });

  it("thaws a paused worker for the command and leaves it paused", async () => {
    const worker = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    await h.manager.pause(worker.id);
    const out = await h.manager.exec(worker.id, ["echo", "while paused"]);
    expect(out.stdout).toBe("while paused\n");
    expect((await h.store.workers.get(worker.id)).state).toBe("paused");
  });

  it("kills a command past its timeout, with everything it started", async () => {
    const worker = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    const started = Date.now();
    const out = await h.manager.exec(worker.id, ["sh", "-c", "sleep 120 & sleep 120"], { timeoutMs: 1000 });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(out.timedOut).toBe(true);
    expect(out.exitCode).not.toBe(0);
    expect(await processesWithMarker(worker.id)).toEqual([]);
  });

  it("validates the command and its options", async () => {
    const worker = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    await expect(h.manager.exec(worker.id, ["pwd"], { cwd: "../x" })).rejects.toMatchObject({
      kind: "invalid",
      details: [expect.objectContaining({ path: "cwd" })],
    });
    await expect(h.manager.exec(worker.id, ["pwd"], { cwd: "/etc" })).rejects.toMatchObject({
      details: [expect.objectContaining({ path: "cwd" })],
    });
    await expect(
      h.manager.exec(worker.id, ["pwd"], { env: { ORCHESTRATOR_TOKEN: "forged" } }),
    ).rejects.toMatchObject({
      kind: "invalid",
      details: [expect.objectContaining({ path: "env.ORCHESTRATOR_TOKEN" })],
    });
    await expect(h.manager.exec(worker.id, ["pwd"], { timeoutMs: 10 })).rejects.toMatchObject({
      details: [expect.objectContaining({ path: "timeoutMs" })],
    });
    await expect(h.manager.exec(worker.id, [])).rejects.toMatchObject({
      details: [expect.objectContaining({ path: "argv" })],
    });
  });

  it("refuses a command while a turn runs, and on a terminated worker", async () => {
    const worker = await h.manager.create({ role: "developer", projectId, backend: "scripted" });
    const turn = h.manager.send(worker.id, script({ sleep: { ms: 120_000 } }), { timeoutMs: 2_000 });
    await expect(h.manager.exec(worker.id, ["true"])).rejects.toMatchObject({
      kind: "conflict",
      code: "worker_busy",
    });
    expect((await turn).stopReason).toBe("timeout");
    await h.manager.terminate(worker.id);
    await expect(h.manager.exec(worker.id, ["true"])).rejects.toMatchObject({ code: "worker_ended" });
  });

  it("gives the workers of one project one npm cache, outliving them, and other projects their own", async () => {
    const other = (await h.store.projects.create({ name: "workers-other" })).id;
    const tester = (id: string) => h.manager.create({ role: "tester", projectId: id, backend: "none" });
    const first = await tester(projectId);
    const wrote = await h.manager.exec(first.id, ["sh", "-c", 'echo cached > "$npm_config_cache/probe"']);
    expect(wrote).toMatchObject({ exitCode: 0, stderr: "" });
    await h.manager.terminate(first.id);
    const second = await tester(projectId);
    const read = await h.manager.exec(second.id, ["sh", "-c", 'cat "$npm_config_cache/probe"']);
    expect(read).toMatchObject({ exitCode: 0, stdout: "cached\n" });
    const stranger = await tester(other);
    const elsewhere = await h.manager.exec(stranger.id, ["sh", "-c", 'ls -A "$npm_config_cache"; echo end']);
    expect(elsewhere).toMatchObject({ exitCode: 0, stdout: "end\n" });
    await expect(
      h.manager.exec(second.id, ["true"], { env: { NPM_CONFIG_CACHE: "/tmp/elsewhere" } }),
    ).rejects.toMatchObject({ details: [expect.objectContaining({ path: "env.NPM_CONFIG_CACHE" })] });
    await h.manager.terminate(second.id);
    await h.manager.terminate(stranger.id);
  });

  it("runs a worker without an agent: exec works, turns are refused, the sweeper keeps it", async () => {
    const worker = await h.manager.create({ role: "tester", projectId, backend: "none" });
    expect(worker).toMatchObject({ backend: "none", state: "running" });
    const out = await h.manager.exec(worker.id, ["sh", "-c", "git init -q . && echo ok"]);
    expect(out).toMatchObject({ exitCode: 0, stdout: "ok\n" });
    await expect(h.manager.send(worker.id, "hello")).rejects.toMatchObject({
      kind: "conflict",
      code: "no_agent",
      message: `worker ${worker.id} has no agent; only exec runs in it`,
    });
    await expect(h.manager.runUntilComplete(worker.id, "goal", { maxIterations: 2 })).rejects.toMatchObject({
      code: "no_agent",
    });

    const report = await h.sweeper.sweep();
    expect(report.orphansRemoved).not.toContain(worker.id);
    expect(report.markedGone).not.toContain(worker.id);
    expect(report.terminated.map((t) => t.workerId)).not.toContain(worker.id);
    expect(existsSync(join(h.root, worker.id))).toBe(true);
    expect((await h.manager.status(worker.id)).hasSandbox).toBe(true);

    expect((await h.manager.terminate(worker.id)).state).toBe("stopped");
    expect(existsSync(join(h.root, worker.id))).toBe(false);
  });
});

describe("the CLI channel", () => {
  it("lets an agent report and send progress with the `orchestrator` command and its own token", async () => {
    const run = await h.store.runs.create({ projectId, kind: "engineering" });
    const worker = await h.manager.create({
      role: "developer",
      projectId,
      runId: run.id,
      backend: "scripted",
    });
    const result = await h.manager.send(
      worker.id,
      script(
        { run: { argv: ["orchestrator", "progress", "--step", "halfway", "--percent", "50"] } },
        {
          run: {
            argv: ["orchestrator", "report", "--status", "complete", "--summary", "reported from the CLI"],
          },
        },
      ),
      { timeoutMs: 60_000 },
    );
    expect(result.error, h.manager.logs(worker.id).join("\n")).toBeNull();
    expect(result.report).toMatchObject({ status: "complete", summary: "reported from the CLI" });
    const events = await h.store.runEvents.list(run.id, {});
    expect(events.find((e) => e.type === "worker.progress" && e.data.source === "tool")?.data).toMatchObject({
      step: "halfway",
      percent: 50,
    });
    // The worker's token is scoped: the same command may not touch another project.
    const other = await h.store.projects.create({ name: "someone else's" });
    const denied = await h.manager.send(
      worker.id,
      script(
        { run: { argv: ["orchestrator", "project", "get", "--id", other.id] } },
        { report: { status: "complete", summary: "tried" } },
      ),
    );
    expect(denied.report?.summary).toBeUndefined();
    expect(h.manager.logs(worker.id, 50).join("\n")).toContain("not_found");
  });
});
