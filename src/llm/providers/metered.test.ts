import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../../test/support/store.js";
import { createLogger, createMetrics, SecretRedactor } from "../../observability/index.js";
import type { Store } from "../../store/index.js";
import { MeteredProvider } from "./metered.js";
import type { ModelProvider } from "./provider.js";
import { ScriptedProvider } from "./scripted.js";

let store: Store;
beforeAll(async () => {
  store = await openTestStore();
});
afterAll(async () => store.close());

/** A provider that reports the usage of a priced model, as a real one would. */
const priced: ModelProvider = {
  kind: "anthropic",
  defaultModel: "claude-sonnet-4-5",
  complete: async () => ({
    provider: "anthropic",
    model: "claude-sonnet-4-5",
    content: [{ type: "text", text: "hi" }],
    stop: "end",
    usage: { inputTokens: 1_000, outputTokens: 200, cacheReadTokens: 3_000, cacheWriteTokens: 0 },
  }),
};

describe("a metered model provider", () => {
  it("records each call as TokenUsage, on the run's totals and in the metrics", async () => {
    const project = await store.projects.create({ name: "metered" });
    const run = await store.runs.create({ projectId: project.id, kind: "engineering" });
    const metrics = createMetrics();
    const deps = {
      store,
      metrics,
      logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
    };
    const owner = () => ({ projectId: project.id, runId: run.id });
    const request = {
      system: "s",
      messages: [{ role: "user" as const, content: [{ type: "text" as const, text: "hi" }] }],
    };

    const metered = [
      new MeteredProvider(priced, deps, owner),
      new MeteredProvider(new ScriptedProvider(() => ({ text: "scripted" })), deps, owner),
    ];
    for (const provider of metered) await provider.complete(request);
    await Promise.all(metered.map((provider) => provider.flush()));

    const rows = (await store.tokenUsage.list({ runId: run.id, limit: 10, offset: 0 })).items.sort((a, b) =>
      a.backend.localeCompare(b.backend),
    );
    expect(rows.map((r) => [r.backend, r.model, r.inputTokens, r.cacheReadTokens, r.costSource])).toEqual([
      ["api", "claude-sonnet-4-5", 1_000, 3_000, "estimated"],
      ["scripted", "scripted", expect.any(Number), 0, "unknown"],
    ]);
    expect(rows[0]?.costUsd).toBeGreaterThan(0);
    expect(rows[1]?.costUsd).toBe(0);
    const after = await store.runs.get(run.id);
    expect(after.tokensOut).toBeGreaterThanOrEqual(200);
    const text = await metrics.render();
    expect(text).toMatch(
      /orchestrator_agent_tokens_total\{backend="api",model="claude-sonnet-4-5",kind="cache_read"[^}]*\} 3000/,
    );
  });

  it("answers even when its usage cannot be written, and says so in the log", async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: "error",
      redactor: new SecretRedactor(),
      destination: { write: (line: string) => lines.push(line) },
    });
    // A run that does not exist: the usage row's foreign key refuses it.
    const owner = () => ({ projectId: null, runId: "00000000-0000-7000-8000-000000000000" });
    const provider = new MeteredProvider(priced, { store, metrics: createMetrics(), logger }, owner);
    const turn = await provider.complete({
      system: "s",
      messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
    });
    expect(turn.content).toEqual([{ type: "text", text: "hi" }]);
    await provider.flush();
    expect(lines.join("")).toContain("could not record model usage");
  });
});
