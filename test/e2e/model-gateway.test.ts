/**
 * Agent CLIs reach models only through the model gateway: real sandboxes (bubblewrap where it
 * runs), the real `claude` CLI and stand-ins for `codex` and `droid` that speak their providers'
 * protocols, against fake Anthropic and OpenAI APIs that demand the real keys. Checked: no model key
 * in a sandbox, the gateway forwards with the real key, and what a run is charged equals, token
 * for token, what the provider said it served.
 */
import { join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Worker } from "../../src/contracts/index.js";
import { upstreamsFrom } from "../../src/llm/index.js";
import { ClaudeCodeBackend, CodexBackend, FactoryDroidBackend } from "../../src/workers/index.js";
import { type FakeAnthropic, type FakeUsage, startFakeAnthropic } from "../fakes/anthropic/index.js";
import { type FakeOpenAi, startFakeOpenAi } from "../fakes/openai/index.js";
import { leakScan, recordPgliteInstances } from "../support/leak-scan.js";
import { scanHarness } from "../support/leak-scan-harness.js";
import { startWorkersHarness, type WorkersHarness } from "../support/workers-harness.js";

const ANTHROPIC_KEY = "sk-ant-gateway-e2e-key-7d3f0a9b21c4";
const OPENAI_KEY = "sk-proj-gateway-e2e-key-c2a81f5e903b";
/** Factory's account key: droid needs it to start, no other agent gets it. */
const FACTORY_KEY = "fk-gateway-e2e-account-5e1d7c90";
const CLIS = join(import.meta.dirname, "..", "fakes", "agent-clis");
/** A project's secret, which one test plants in a workspace for the agent to send to the model. */
const WEATHER_SECRET = `wx_${"9f3b1c7e5a2d".repeat(3)}`;
/** The worker whose workspace that test wrote the secret into (on purpose). */
let plantedWorkerId = "";
/** Every API answer of this file is recorded for the leak scan at its end. */
const scan = leakScan();
let databases: PGlite[] = [];

let anthropic: FakeAnthropic;
let openai: FakeOpenAi;
let h: WorkersHarness;
let projectId: string;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: ANTHROPIC_KEY });
  openai = await startFakeOpenAi({ apiKey: OPENAI_KEY });
  scan.recordResponses((url) => h !== undefined && url.startsWith(`${h.url}/`));
  const pglite = recordPgliteInstances();
  databases = pglite.instances;
  h = await startWorkersHarness({
    backends: {
      "claude-code": new ClaudeCodeBackend(),
      codex: new CodexBackend({ command: join(CLIS, "fake-codex.mjs") }),
      "factory-droid": new FactoryDroidBackend({ command: join(CLIS, "fake-droid.mjs") }),
    },
    agentEnv: { FACTORY_API_KEY: FACTORY_KEY },
    gateway: {
      upstreams: upstreamsFrom({
        anthropicBaseUrl: anthropic.url,
        openaiBaseUrl: openai.url,
        credentials: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, OPENAI_API_KEY: OPENAI_KEY },
      }),
      knownSecrets: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, OPENAI_API_KEY: OPENAI_KEY },
    },
  }).finally(pglite.stop);
  // A terminated worker's sandbox goes at once: watched from the start.
  scan.watchFolder("sandboxes", h.root);
  projectId = (await h.store.projects.create({ name: "gateway e2e" })).id;
});
afterAll(async () => {
  await h?.close();
  await anthropic?.close();
  await openai?.close();
});

async function runWithWorker(backend: Worker["backend"], env: Record<string, string> = {}) {
  const run = await h.store.runs.create({ projectId, kind: "engineering" });
  const worker = await h.manager.create({ role: "developer", projectId, runId: run.id, backend, env });
  return { run, worker };
}

/** The run's usage rows summed: what the run is charged. */
async function charged(runId: string) {
  const rows = (await h.store.tokenUsage.list({ runId, limit: 200, offset: 0 })).items;
  const sum = (key: "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheWriteTokens") =>
    rows.reduce((n, r) => n + r[key], 0);
  return {
    calls: rows.length,
    sources: [...new Set(rows.map((r) => r.costSource))],
    usage: {
      inputTokens: sum("inputTokens"),
      outputTokens: sum("outputTokens"),
      cacheReadTokens: sum("cacheReadTokens"),
      cacheWriteTokens: sum("cacheWriteTokens"),
    },
  };
}

describe("the model gateway between sandboxes and providers", () => {
  it("keeps every model key out of the sandbox: it holds the gateway and its own token", async () => {
    const { worker } = await runWithWorker("claude-code");
    const env = await h.manager.exec(worker.id, ["env"]);
    expect(env.exitCode).toBe(0);
    expect(env.stdout).not.toContain(ANTHROPIC_KEY);
    expect(env.stdout).not.toContain(OPENAI_KEY);
    expect(env.stdout).not.toContain(FACTORY_KEY);
    expect(env.stdout).toMatch(new RegExp(`ANTHROPIC_BASE_URL=${h.url}/llm/anthropic\\n`));
    expect(env.stdout).toMatch(new RegExp(`OPENAI_BASE_URL=${h.url}/llm/openai/v1\\n`));
    const key = /ANTHROPIC_API_KEY=(\S+)/.exec(env.stdout)?.[1];
    expect(key).toMatch(/^orc_/);
    expect(/ORCHESTRATOR_TOKEN=(\S+)/.exec(env.stdout)?.[1]).toBe(key);
    await h.manager.terminate(worker.id);
  });

  it("charges a Claude Code turn exactly what the provider reported, and forwards with the real key", {
    timeout: 180_000,
  }, async () => {
    const { run, worker } = await runWithWorker("claude-code");
    const sandbox = await h.runtime.attach(worker.id);
    if (!sandbox) throw new Error("no sandbox");
    const scripted: FakeUsage[] = [
      { input: 3000, output: 80, cacheRead: 900, cacheCreation: 120 },
      { input: 3100, output: 40, cacheRead: 950 },
      { input: 3200, output: 12 },
    ];
    const seen = anthropic.requests.length;
    anthropic.enqueue(
      {
        toolUse: { name: "Bash", input: { command: "env", description: "print the environment" } },
        usage: scripted[0],
      },
      {
        toolUse: { name: "mcp__orchestrator__report", input: { status: "complete", summary: "printed env" } },
        usage: scripted[1],
      },
      { text: "Reported.", usage: scripted[2] },
    );
    const result = await h.manager.send(worker.id, "Print your environment, then report.", {
      timeoutMs: 120_000,
    });
    expect(result.error, h.manager.logs(worker.id).join("\n")).toBeNull();
    expect(result.report?.status).toBe("complete");

    const mine = anthropic.requests.slice(seen).filter((r) => r.path === "/v1/messages");
    const conversation = mine.filter((r) => r.kind === "conversation");
    const sides = mine.filter((r) => r.kind === "side").length;
    expect(conversation).toHaveLength(3);
    // Side requests (titles, quota probes) are answered with 10 in, 5 out by the fake.
    const expected = {
      inputTokens: 3000 + 3100 + 3200 + 10 * sides,
      outputTokens: 80 + 40 + 12 + 5 * sides,
      cacheReadTokens: 900 + 950,
      cacheWriteTokens: 120,
    };
    expect(result.usage).toEqual(expected);
    expect(result.costSource).toBe("metered");
    const bill = await charged(run.id);
    expect(bill).toEqual({ calls: mine.length, sources: ["metered"], usage: expected });
    const stored = await h.store.runs.get(run.id);
    expect(stored.tokensOut).toBe(expected.outputTokens);
    expect(stored.tokensIn).toBe(expected.inputTokens + expected.cacheReadTokens + expected.cacheWriteTokens);
    expect(stored.costUsd).toBeCloseTo(result.costUsd, 6);

    // Every call reached the provider with the real key; the worker's own token never did, not
    // even inside the environment the agent printed and sent back as a tool result.
    for (const request of mine) expect(request.headers["x-api-key"]).toBe(ANTHROPIC_KEY);
    const sent = JSON.stringify(mine.map((r) => [r.headers, r.body]));
    expect(sent).not.toMatch(/orc_[A-Za-z0-9_-]{43}/);
    const printed = JSON.stringify(conversation[1]?.body);
    expect(printed).toContain("ANTHROPIC_BASE_URL=");
    expect(printed).toContain("ORCHESTRATOR_TOKEN=[REDACTED]");
  });

  it("charges a Codex turn by the provider's usage, not by what the CLI printed", {
    timeout: 60_000,
  }, async () => {
    openai.enqueueUsage({ prompt: 5000, completion: 300, cached: 4000 }, { prompt: 6000, completion: 120 });
    const { run, worker } = await runWithWorker("codex", { FAKE_MODEL_CALLS: "2" });
    const result = await h.manager.send(worker.id, "Implement TASK.md and report.", { timeoutMs: 30_000 });
    expect(result.error, h.manager.logs(worker.id).join("\n")).toBeNull();
    expect(result.report?.summary).toBe("done by the fake codex");
    // The transcript says 24763 input tokens; the provider served these.
    const expected = {
      inputTokens: 1000 + 6000,
      outputTokens: 420,
      cacheReadTokens: 4000,
      cacheWriteTokens: 0,
    };
    expect(result.usage).toEqual(expected);
    expect(result.costSource).toBe("metered");
    expect(await charged(run.id)).toEqual({ calls: 2, sources: ["metered"], usage: expected });
    expect(openai.requests.slice(-2).map((r) => r.headers.authorization)).toEqual([
      `Bearer ${OPENAI_KEY}`,
      `Bearer ${OPENAI_KEY}`,
    ]);
  });

  it("charges a droid turn through the custom model the orchestrator configured", {
    timeout: 60_000,
  }, async () => {
    await h.store.agentConfigs.update("developer", { model: "claude-sonnet-4-5" }, "admin:test");
    const { run, worker } = await runWithWorker("factory-droid", { FAKE_MODEL_CALLS: "3" });
    const settings = await h.manager.exec(worker.id, ["sh", "-c", 'cat "$HOME/.factory/settings.json"']);
    expect(settings.stdout).toContain(`${h.url}/llm/anthropic`);
    expect(settings.stdout).not.toMatch(/orc_[A-Za-z0-9_-]{43}/);
    const env = await h.manager.exec(worker.id, ["env"]);
    expect(env.stdout).toContain(`FACTORY_API_KEY=${FACTORY_KEY}\n`);
    expect(env.stdout).not.toContain(ANTHROPIC_KEY);
    anthropic.enqueue(
      { text: "a", usage: { input: 700, output: 20 } },
      { text: "b", usage: { input: 800, output: 30, cacheRead: 600 } },
      { text: "c", usage: { input: 900, output: 40 } },
    );
    const result = await h.manager.send(worker.id, "Implement TASK.md and report.", { timeoutMs: 30_000 });
    expect(result.error, h.manager.logs(worker.id).join("\n")).toBeNull();
    const expected = { inputTokens: 2400, outputTokens: 90, cacheReadTokens: 600, cacheWriteTokens: 0 };
    expect(result.usage).toEqual(expected);
    expect(await charged(run.id)).toEqual({ calls: 3, sources: ["metered"], usage: expected });
  });

  it("blocks an agent that sends a project secret back to the model, and records where it came from", {
    timeout: 120_000,
  }, async () => {
    const secret = WEATHER_SECRET;
    await h.secrets.set({
      projectId,
      key: "WEATHER_API_KEY",
      value: secret,
      kind: "user",
      createdBy: "test",
    });
    const { run, worker } = await runWithWorker("claude-code");
    plantedWorkerId = worker.id;
    const written = await h.manager.exec(worker.id, ["sh", "-c", 'printf "%s" "$S" > notes.txt'], {
      env: { S: secret },
    });
    expect(written.exitCode).toBe(0);
    const seen = anthropic.requests.length;
    anthropic.enqueue({
      toolUse: { name: "Bash", input: { command: "cat notes.txt", description: "read the notes" } },
      usage: { input: 500, output: 10 },
    });
    const result = await h.manager.send(worker.id, "Read notes.txt, then report.", { timeoutMs: 60_000 });
    expect(result.ok).toBe(false);
    const blocked = (await h.store.runEvents.list(run.id, {})).filter(
      (e) => e.type === "llm.request_blocked",
    );
    expect(blocked.length).toBeGreaterThan(0);
    expect(blocked[0]?.data).toMatchObject({
      workerId: worker.id,
      role: "developer",
      provider: "anthropic",
      secrets: [expect.objectContaining({ secret: `project ${projectId} WEATHER_API_KEY` })],
    });
    const hit = (blocked[0]?.data.secrets as { where: string }[] | undefined)?.[0];
    expect(hit?.where).toMatch(/^messages\[\d+\]/);

    // The provider's whole request log, from every test in this file: no key, token or secret in
    // what the model is sent (the real key rides only in the provider's own auth header).
    const withoutAuth = (headers: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(headers).filter(([name]) => name !== "x-api-key" && name !== "authorization"),
      );
    const log = JSON.stringify(
      [...anthropic.requests, ...openai.requests].map((r) => [r.path, withoutAuth(r.headers), r.body]),
    );
    expect(anthropic.requests.length).toBeGreaterThan(seen);
    for (const value of [ANTHROPIC_KEY, OPENAI_KEY, secret]) {
      for (const form of [
        value,
        Buffer.from(value).toString("base64"),
        Buffer.from(value).toString("base64url"),
      ]) {
        expect(log.includes(form), "a secret in the model's request log").toBe(false);
      }
    }
    expect((log.match(/orc_[A-Za-z0-9_-]{43}/g) ?? []).length).toBe(0);
  });

  it("refuses the calls of a terminated worker: its token died with it", async () => {
    const { worker } = await runWithWorker("claude-code");
    const env = await h.manager.exec(worker.id, ["env"]);
    const token = /ANTHROPIC_API_KEY=(\S+)/.exec(env.stdout)?.[1] ?? "";
    await h.manager.terminate(worker.id);
    const res = await fetch(`${h.url}/llm/anthropic/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": token },
      body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 5, messages: [] }),
    });
    expect(res.status).toBe(401);
  });

  it("leaks no model key, Factory key, project secret, admin token or vault key: model requests, logs, run events, API answers, database, sandboxes", async () => {
    scan
      .secret("Anthropic key", ANTHROPIC_KEY)
      .secret("OpenAI key", OPENAI_KEY)
      .secret("Factory key", FACTORY_KEY)
      .secret("project secret", WEATHER_SECRET)
      .modelRequests("Anthropic", anthropic.requests)
      .modelRequests("OpenAI", openai.requests)
      .allow(
        "the test wrote it into this sandbox for its agent to read",
        (hit) =>
          hit.secret === "project secret" &&
          plantedWorkerId !== "" &&
          hit.where.startsWith(`sandboxes: ${plantedWorkerId}/`),
      );
    await scanHarness(scan, { harness: h, databases });
    await scan.assertClean();
  }, 120_000);
});
