import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeAnthropic, startFakeAnthropic } from "../../test/fakes/anthropic/index.js";
import { freePort } from "../../test/support/ports.js";
import { openToolBed, type ToolBed } from "../../test/support/tool-bed.js";
import { createLogger, createMetrics, SecretRedactor } from "../observability/index.js";
import { ClaudeCodeBackend } from "../workers/index.js";
import type { PoTurnInput } from "./agent.js";
import { CliProductOwner } from "./claude-code.js";
import { PoTurns } from "./mcp.js";

// The PO as the real Claude Code CLI against the fake Anthropic API: how a turn that does not end
// well is told. Its tools are not served here (nothing listens at the API URL); these turns never
// reach them.
const KEY = "sk-ant-po-cli-test-0123456789";
const TIMEOUT_MS = 8_000;
const PROMPT = "You are the Product Owner of this test.";

let bed: ToolBed;
let model: FakeAnthropic;
let po: CliProductOwner;

beforeAll(async () => {
  bed = await openToolBed();
  // Without its MCP server the CLI offers the model no tools: its turns are told apart by the prompt.
  model = await startFakeAnthropic({
    apiKey: KEY,
    isSideRequest: (body) => !JSON.stringify(body.system ?? "").includes(PROMPT),
  });
  po = new CliProductOwner({
    registry: bed.registry,
    services: bed.services,
    logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
    store: bed.store,
    metrics: createMetrics(),
    backend: new ClaudeCodeBackend(),
    turns: new PoTurns(),
    apiUrl: `http://127.0.0.1:${await freePort()}`,
    env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: model.url },
    timeoutMs: TIMEOUT_MS,
  });
});
afterAll(async () => {
  await model?.close();
  await bed?.close();
});
beforeEach(() => model.reset());

const turn = (more: Partial<PoTurnInput & { budgetUsd: number }> = {}) =>
  po.turn({
    principal: bed.alice,
    systemPrompt: PROMPT,
    summary: null,
    questionsAsked: 0,
    history: [],
    message: "a bot that tells jokes",
    model: "claude-sonnet-4-5",
    maxRounds: 5,
    budgetUsd: 1,
    ...more,
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the PO on the Claude Code CLI, when a turn does not end well", () => {
  it("a model slower than PO_TURN_TIMEOUT is a model timeout, not an answer", {
    timeout: 60_000,
  }, async () => {
    model.enqueue(async () => {
      await sleep(TIMEOUT_MS + 5_000);
      return { text: "too late" };
    });
    const result = await turn();
    expect(result.replies).toEqual([]);
    expect(result.error?.code).toBe("model_timeout");
  });

  it("a turn past its budget stops and says the budget was spent", { timeout: 60_000 }, async () => {
    // An expensive first call that asks for another round: the CLI stops before making it.
    model.enqueue({
      toolUse: { name: "mcp__orchestrator__project_list", input: {} },
      usage: { input: 2_000_000, output: 100_000, cacheRead: 0, cacheCreation: 0 },
    });
    const result = await turn({ budgetUsd: 0.01 });
    expect(result.replies).toEqual([]);
    expect(result.error?.code).toBe("po_budget_exhausted");
  });

  it("a cancelled turn stops the CLI at once and says nothing", { timeout: 60_000 }, async () => {
    const abort = new AbortController();
    model.enqueue(async () => {
      abort.abort();
      await sleep(TIMEOUT_MS + 5_000);
      return { text: "too late" };
    });
    const asked = model.conversation().length;
    const result = await turn({ signal: abort.signal });
    expect(model.conversation().length).toBe(asked + 1); // it was running, waiting for the model
    expect(result.replies).toEqual([]);
    // Killed by the cancel, well before the turn's deadline would have stopped it.
    expect(result.error?.code).not.toBe("model_timeout");
  });
});
