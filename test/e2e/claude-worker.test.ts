import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaudeCodeBackend } from "../../src/workers/index.js";
import { type FakeAnthropic, type MessagesBody, startFakeAnthropic } from "../fakes/anthropic/index.js";
import { startWorkersHarness, type WorkersHarness } from "../support/workers-harness.js";

// The real `claude` CLI as a worker: WorkerManager -> process runtime (bubblewrap) -> claude ->
// fake Anthropic API; its `report` reaches the store through `orchestrator mcp` and the API.
const API_KEY = "sk-ant-fake-worker-key-0123456789";
let fake: FakeAnthropic;
let h: WorkersHarness;
let projectId: string;

beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKey: API_KEY });
  h = await startWorkersHarness({
    backends: { "claude-code": new ClaudeCodeBackend() },
    agentEnv: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: API_KEY },
  });
  projectId = (await h.store.projects.create({ name: "claude worker" })).id;
});
afterAll(async () => {
  await h?.close();
  await fake?.close();
});

describe("a Claude Code worker", () => {
  it("writes, runs, reports over MCP, is accounted, and resumes its session", {
    timeout: 180_000,
  }, async () => {
    const run = await h.store.runs.create({ projectId, kind: "engineering" });
    const worker = await h.manager.create({
      role: "developer",
      projectId,
      runId: run.id,
      backend: "claude-code",
    });
    const sandbox = await h.runtime.attach(worker.id);
    if (!sandbox) throw new Error("no sandbox");
    fake.enqueue(
      {
        toolUse: {
          name: "Write",
          input: { file_path: `${sandbox.workspace}/hello.txt`, content: "hello\n" },
        },
        usage: { input: 1000, output: 50, cacheRead: 200, cacheCreation: 100 },
      },
      {
        toolUse: { name: "Bash", input: { command: "echo ran > ran.txt", description: "record" } },
        usage: { input: 1100, output: 30 },
      },
      {
        toolUse: {
          name: "mcp__orchestrator__report",
          input: { status: "complete", summary: "hello written and command ran" },
        },
        usage: { input: 1200, output: 40 },
      },
      { text: "Reported.", usage: { input: 1300, output: 10 } },
    );
    const result = await h.manager.send(worker.id, "Write hello.txt, record that you ran, then report.", {
      timeoutMs: 120_000,
    });
    expect(result.error, h.manager.logs(worker.id).join("\n")).toBeNull();
    expect(result).toMatchObject({
      ok: true,
      stopReason: "completed",
      report: { status: "complete", summary: "hello written and command ran" },
    });
    // The developer is offered only its role's built-in tools; the orchestrator's (MCP) stay.
    const offered = (((fake.conversation()[0]?.body ?? {}) as MessagesBody).tools ?? []).map((t) => t.name);
    expect(offered.filter((name) => !name.startsWith("mcp__")).sort()).toEqual([
      "Bash",
      "Edit",
      "Read",
      "Write",
    ]);
    expect(offered).toContain("mcp__orchestrator__report");
    const workspace = join(h.root, worker.id, "workspace");
    expect(readFileSync(join(workspace, "hello.txt"), "utf8")).toBe("hello\n");
    expect(readFileSync(join(workspace, "ran.txt"), "utf8")).toBe("ran\n");
    expect(result.usage).toEqual({
      inputTokens: 4600,
      outputTokens: 130,
      cacheReadTokens: 200,
      cacheWriteTokens: 100,
    });
    expect(result.costSource).toBe("provider");
    expect(result.costUsd).toBeGreaterThan(0);

    const usage = await h.store.tokenUsage.list({ limit: 10, offset: 0, runId: run.id });
    expect(usage.items[0]).toMatchObject({
      backend: "claude-code",
      inputTokens: 4600,
      costSource: "provider",
    });
    expect((await h.store.runs.get(run.id)).costUsd).toBeGreaterThan(0);
    const metrics = await h.metrics.render();
    expect(metrics).toMatch(
      /orchestrator_agent_tokens_total\{backend="claude-code",model="[^"]+",kind="input"\} 4600/,
    );
    const events = await h.store.runEvents.list(run.id, {});
    expect(events.some((e) => e.type === "worker.report")).toBe(true);
    expect(events.some((e) => e.type === "worker.progress" && e.data.source === "stream")).toBe(true);
    expect((await h.store.workers.get(worker.id)).state).toBe("paused");

    // A second message resumes the paused worker in the same session.
    fake.enqueue(
      {
        toolUse: { name: "mcp__orchestrator__report", input: { status: "complete", summary: "still here" } },
        usage: { input: 2000, output: 10 },
      },
      { text: "Done again.", usage: { input: 2100, output: 5 } },
    );
    const second = await h.manager.send(worker.id, "Say where you are and report.", { timeoutMs: 120_000 });
    expect(second.error).toBeNull();
    expect(second.sessionId).toBe(result.sessionId);
    expect(second.report?.summary).toBe("still here");
    const history = JSON.stringify(fake.conversation().at(-1)?.body ?? {});
    expect(history).toContain("Write hello.txt, record that you ran, then report.");

    // Past SESSION_MAX_CONTEXT_TOKENS the next turn is a fresh session that starts from the summary.
    await h.store.projects.update(projectId, { summary: "hello.txt exists; the command ran." });
    await h.store.workers.touch(worker.id, { contextTokens: 500_000 });
    fake.enqueue(
      {
        toolUse: { name: "mcp__orchestrator__report", input: { status: "complete", summary: "fresh" } },
        usage: { input: 300, output: 5 },
      },
      { text: "ok", usage: { input: 310, output: 2 } },
    );
    const third = await h.manager.send(worker.id, "Check the state and report.", { timeoutMs: 120_000 });
    expect(third.error).toBeNull();
    expect(third.sessionId).not.toBe(result.sessionId);
    const freshHistory = JSON.stringify(fake.conversation().at(-1)?.body ?? {});
    expect(freshHistory).toContain("hello.txt exists; the command ran.");
    expect(freshHistory).not.toContain("Say where you are and report.");

    // The API key reached the model API only: not the logs, not the run events.
    expect(h.logLines.some((l) => l.includes('"component":"api"'))).toBe(true);
    expect(h.logLines.some((l) => l.includes("worker"))).toBe(true);
    expect(h.logLines.join("")).not.toContain(API_KEY);
    expect(JSON.stringify(events)).not.toContain(API_KEY);
    expect(h.manager.logs(worker.id).join("\n")).not.toContain(API_KEY);
  });

  it("turns an API that answers 500s into a typed failure within bounded time", {
    timeout: 120_000,
  }, async () => {
    const worker = await h.manager.create({ role: "developer", projectId, backend: "claude-code" });
    fake.setFailure("api_error");
    try {
      const started = Date.now();
      const result = await h.manager.send(worker.id, "Do anything.", { timeoutMs: 90_000 });
      expect(Date.now() - started).toBeLessThan(90_000);
      expect(result).toMatchObject({ ok: false, report: null });
      expect(result.error?.code).toBe("api_error");
    } finally {
      fake.setFailure("none");
    }
  });

  it("fails an agent that never reports after one reminder", { timeout: 120_000 }, async () => {
    const worker = await h.manager.create({ role: "developer", projectId, backend: "claude-code" });
    fake.enqueue({ text: "I am done (but I did not report)." }, { text: "Still not reporting." });
    const result = await h.manager.send(worker.id, "Do something and report.", { timeoutMs: 90_000 });
    expect(result).toMatchObject({
      ok: false,
      stopReason: "no_report",
      error: { code: "no_report", message: "agent exited without reporting" },
    });
    expect(JSON.stringify(fake.conversation().at(-1)?.body ?? {})).toContain(
      "You stopped without calling the `report` tool",
    );
  });
});
