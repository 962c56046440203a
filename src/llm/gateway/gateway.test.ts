import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeAnthropic, startFakeAnthropic } from "../../../test/fakes/anthropic/index.js";
import { type FakeOpenAi, startFakeOpenAi } from "../../../test/fakes/openai/index.js";
import { type ApiHarness, startApiHarness } from "../../../test/support/api-harness.js";
import { issueToken } from "../../auth/index.js";
import type { Run, Worker } from "../../contracts/index.js";
import { upstreamsFrom } from "./upstreams.js";

const ANTHROPIC_KEY = "sk-ant-gateway-test-key-0f4e2b9c7a";
const OPENAI_KEY = "sk-openai-gateway-test-key-93c1d7e0";
const PROJECT_SECRET = "tg-secret-value-5b1e9f2a7c4d";

let fake: FakeAnthropic;
let openai: FakeOpenAi;
let h: ApiHarness & { url: string | null };
let url: string;
let run: Run;
let worker: Worker;
let token: string;

async function agentWorker(backend: Worker["backend"]): Promise<{ worker: Worker; token: string }> {
  const w = await h.store.workers.create({
    role: "developer",
    backend,
    runtime: "process",
    projectId: run.projectId,
    runId: run.id,
  });
  const issued = await issueToken(h.store, {
    name: `worker-${w.id}`,
    kind: "worker",
    projectId: run.projectId,
    role: "developer",
    workerId: w.id,
    groups: ["projects"],
  });
  return { worker: w, token: issued.token };
}

function messages(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(`${url}/llm/anthropic/v1/messages?beta=true`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers },
    body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 100, tools: [{ name: "Bash" }], ...body }),
  });
}

beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKey: ANTHROPIC_KEY });
  openai = await startFakeOpenAi({ apiKey: OPENAI_KEY });
  h = await startApiHarness({
    listen: true,
    gateway: {
      upstreams: upstreamsFrom({
        anthropicBaseUrl: fake.url,
        openaiBaseUrl: openai.url,
        credentials: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, OPENAI_API_KEY: OPENAI_KEY },
      }),
      knownSecrets: {
        ANTHROPIC_API_KEY: ANTHROPIC_KEY,
        OPENAI_API_KEY: OPENAI_KEY,
        "project secret WEATHER_API_KEY": PROJECT_SECRET,
      },
    },
  });
  url = h.url as string;
  const project = await h.store.projects.create({ name: "Gateway" });
  run = await h.store.runs.create({ projectId: project.id, kind: "engineering" });
  ({ worker, token } = await agentWorker("claude-code"));
});
afterAll(async () => {
  await h?.close();
  await fake?.close();
  await openai?.close();
});
beforeEach(() => fake.reset());

/** The run's usage rows, oldest first. */
const usageRows = async () =>
  (await h.store.tokenUsage.list({ runId: run.id, limit: 100, offset: 0 })).items.sort((a, b) =>
    a.createdAt.localeCompare(b.createdAt),
  );

describe("model gateway: Anthropic", () => {
  it("forwards a streamed call with the real key and records the provider's own usage", async () => {
    fake.enqueue({
      text: "hello from the model",
      usage: { input: 1200, output: 34, cacheRead: 500, cacheCreation: 40 },
    });
    const before = (await usageRows()).length;
    const res = await messages(
      { stream: true, messages: [{ role: "user", content: "hi" }] },
      { "x-api-key": token },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await res.text();
    expect(text).toContain('"text":"hello from"');
    expect(text).toContain("message_stop");

    const sent = fake.conversation().at(-1);
    expect(sent?.headers["x-api-key"]).toBe(ANTHROPIC_KEY);
    expect(JSON.stringify(sent?.headers)).not.toContain(token);
    expect(sent?.url).toBe("/v1/messages?beta=true");

    const rows = await usageRows();
    expect(rows).toHaveLength(before + 1);
    expect(rows.at(-1)).toMatchObject({
      workerId: worker.id,
      projectId: run.projectId,
      runId: run.id,
      backend: "claude-code",
      inputTokens: 1200,
      outputTokens: 34,
      cacheReadTokens: 500,
      cacheWriteTokens: 40,
      costSource: "metered",
    });
    expect(rows.at(-1)?.costUsd).toBeGreaterThan(0);
  });

  it("takes the worker token as a bearer token too, and counts an unstreamed answer", async () => {
    fake.enqueue({ text: "plain", usage: { input: 11, output: 7 } });
    const res = await messages(
      { messages: [{ role: "user", content: "hi" }] },
      { authorization: `Bearer ${token}` },
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { usage: { input_tokens: number } }).usage.input_tokens).toBe(11);
    expect((await usageRows()).at(-1)).toMatchObject({ inputTokens: 11, outputTokens: 7 });
  });

  it("keeps the run's totals equal to the sum of its calls", async () => {
    const rows = await usageRows();
    const current = await h.store.runs.get(run.id);
    const sumIn = rows.reduce((n, r) => n + r.inputTokens + r.cacheReadTokens + r.cacheWriteTokens, 0);
    const sumOut = rows.reduce((n, r) => n + r.outputTokens, 0);
    expect(current.tokensIn).toBe(sumIn);
    expect(current.tokensOut).toBe(sumOut);
    expect(current.costUsd).toBeCloseTo(
      rows.reduce((n, r) => n + r.costUsd, 0),
      9,
    );
  });

  it("masks orchestrator tokens in what it forwards (an agent that printed its environment)", async () => {
    fake.enqueue("ok");
    const res = await messages(
      { messages: [{ role: "user", content: `ORCHESTRATOR_TOKEN=${token}\nANTHROPIC_API_KEY=${token}` }] },
      { "x-api-key": token },
    );
    expect(res.status).toBe(200);
    const sent = JSON.stringify(fake.conversation().at(-1)?.body);
    expect(sent).not.toContain(token);
    expect(sent).toContain("ORCHESTRATOR_TOKEN=[REDACTED]");
  });

  it("blocks a request that carries a known secret, names it and where it sat, and forwards nothing", async () => {
    const seen = fake.requests.length;
    const res = await messages(
      {
        messages: [
          { role: "user", content: "go" },
          {
            role: "user",
            content: [{ type: "tool_result", tool_use_id: "t1", content: `key=${PROJECT_SECRET}` }],
          },
        ],
      },
      { "x-api-key": token },
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe("error");
    expect(body.error.message).toContain("project secret WEATHER_API_KEY");
    expect(body.error.message).toContain("messages[1].content[0].content");
    expect(JSON.stringify(body)).not.toContain(PROJECT_SECRET);
    expect(fake.requests.length).toBe(seen);
    const events = await h.store.runEvents.list(run.id, {});
    const blocked = events.filter((e) => e.type === "llm.request_blocked").at(-1);
    expect(blocked?.data).toMatchObject({
      workerId: worker.id,
      provider: "anthropic",
      secrets: [{ secret: "project secret WEATHER_API_KEY", where: "messages[1].content[0].content" }],
    });
    expect(JSON.stringify(events)).not.toContain(PROJECT_SECRET);
  });

  it("blocks a model key sent back base64-encoded", async () => {
    const encoded = Buffer.from(ANTHROPIC_KEY).toString("base64");
    const res = await messages({ messages: [{ role: "user", content: encoded }] }, { "x-api-key": token });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      "ANTHROPIC_API_KEY",
    );
  });

  it("does not meter count_tokens", async () => {
    const before = (await usageRows()).length;
    const res = await fetch(`${url}/llm/anthropic/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": token },
      body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    expect((await usageRows()).length).toBe(before);
  });

  it("answers the CLI's reachability probe without a token", async () => {
    for (const probe of ["/llm/anthropic", "/llm/anthropic/", "/llm/openai/"]) {
      expect((await fetch(`${url}${probe}`, { method: "HEAD" })).status).toBe(200);
    }
  });
});

describe("model gateway: who may call", () => {
  it("refuses an admin token, a sandbox without an agent, a revoked token and a missing one", async () => {
    const admin = await messages({ messages: [] }, { authorization: `Bearer ${h.adminToken}` });
    expect(admin.status).toBe(403);
    const tester = await agentWorker("none");
    const none = await messages({ messages: [] }, { "x-api-key": tester.token });
    expect(none.status).toBe(403);
    expect(((await none.json()) as { error: { message: string } }).error.message).toContain("no agent");

    const gone = await agentWorker("codex");
    await h.store.apiTokens.revokeForWorker(gone.worker.id);
    expect((await messages({ messages: [] }, { "x-api-key": gone.token })).status).toBe(401);
    expect((await messages({ messages: [] })).status).toBe(401);
  });

  it("refuses a call once the run's budget is spent, without forwarding it", async () => {
    const spent = await h.store.runs.get(run.id);
    expect(spent.costUsd).toBeGreaterThan(0);
    await h.store.runs.setBudget(run.id, spent.costUsd);
    const seen = fake.requests.length;
    const res = await messages({ messages: [{ role: "user", content: "more" }] }, { "x-api-key": token });
    expect(res.status).toBe(402);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("budget_exhausted_error");
    expect(body.error.message).toContain("budget");
    expect(fake.requests.length).toBe(seen);
    await h.store.runs.setBudget(run.id, null);
  });
});

describe("model gateway: OpenAI-compatible", () => {
  it("meters a streamed chat completion by asking for its usage chunk", async () => {
    const { worker: codex, token: codexToken } = await agentWorker("codex");
    openai.enqueueUsage({ prompt: 900, completion: 21, cached: 300 });
    const res = await fetch(`${url}/llm/openai/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${codexToken}` },
      body: JSON.stringify({
        model: "gpt-5-codex",
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("[DONE]");
    const sent = openai.requests.at(-1);
    expect(sent?.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect((sent?.body as { stream_options?: unknown } | undefined)?.stream_options).toEqual({
      include_usage: true,
    });
    const rows = (await usageRows()).filter((r) => r.workerId === codex.id);
    expect(rows).toEqual([
      expect.objectContaining({
        inputTokens: 600,
        cacheReadTokens: 300,
        outputTokens: 21,
        model: "gpt-5-codex",
      }),
    ]);
  });

  it("meters the Responses API, streamed and not", async () => {
    const { worker: codex, token: codexToken } = await agentWorker("codex");
    openai.enqueueUsage({ prompt: 50, completion: 5 }, { prompt: 70, completion: 8, cached: 20 });
    for (const stream of [true, false]) {
      const res = await fetch(`${url}/llm/openai/v1/responses`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${codexToken}` },
        body: JSON.stringify({ model: "gpt-5-codex", stream, input: "hi" }),
      });
      expect(res.status).toBe(200);
      await res.text();
    }
    const rows = (await usageRows()).filter((r) => r.workerId === codex.id);
    expect(rows.map((r) => [r.inputTokens, r.cacheReadTokens, r.outputTokens])).toEqual([
      [50, 0, 5],
      [50, 20, 8],
    ]);
  });
});
