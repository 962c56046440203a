/**
 * The developer node's prompt changed as an admin changes it (the `agent_config.update` tool, as the
 * Settings page saves it) reaches the next engineering run's worker: the real `claude` CLI, run by
 * the real Developer stage in a real sandbox, sends it to the (fake) model as its system prompt,
 * and the run records that it ran on developer v2. The run before the change ran on v1 and sent
 * the shipped prompt. Each Developer turn here reports `failed` at once: what is checked is what
 * the worker received, not the code it would write.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timeAcceptanceFiles } from "../../src/demo/index.js";
import { upstreamsFrom } from "../../src/llm/index.js";
import { AGENT_CONFIG_DEFAULTS } from "../../src/store/index.js";
import { ClaudeCodeBackend } from "../../src/workers/index.js";
import {
  type FakeAnthropic,
  type FakeReplyFn,
  type MessagesBody,
  startFakeAnthropic,
} from "../fakes/anthropic/index.js";
import { expectStage, transcript, turnIn } from "../support/claude-turns.js";
import { type EngineHarness, RUN_DEADLINE_MS, startEngineHarness } from "../support/engine-harness.js";

const KEY = "sk-ant-fake-settings-prompt-key-7c2d91e0a4";
const NEW_PROMPT = "You are the Developer of settings-e2e: write the test first, then the code, then report.";
const ACCEPTANCE_PATH = "test/acceptance/time.test.ts";
const SPEC = "# Specification\n\nA web service that tells the time.\n\nTemplate: web-service\n";

let fake: FakeAnthropic;
let h: EngineHarness;

beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKey: KEY });
  h = await startEngineHarness({
    backends: { "claude-code": new ClaudeCodeBackend() },
    agentBackend: "claude-code",
    gateway: {
      upstreams: upstreamsFrom({
        anthropicBaseUrl: fake.url,
        openaiBaseUrl: null,
        credentials: { ANTHROPIC_API_KEY: KEY },
      }),
      knownSecrets: { ANTHROPIC_API_KEY: KEY },
    },
  });
});
afterAll(async () => {
  await h?.close();
  await fake?.close();
});

/** The Architect writes the spec and the acceptance test, and reports. */
function architectReplies(): FakeReplyFn[] {
  return turnIn("[engineering architect]", [
    (ws) => ({ toolUse: { name: "Write", input: { file_path: `${ws}/SPEC.md`, content: SPEC } } }),
    (ws) => ({
      toolUse: {
        name: "Write",
        input: {
          file_path: `${ws}/${ACCEPTANCE_PATH}`,
          content: timeAcceptanceFiles()[ACCEPTANCE_PATH] ?? "",
        },
      },
    }),
    () => ({
      toolUse: {
        name: "mcp__orchestrator__report",
        input: { status: "complete", summary: "SPEC.md written" },
      },
    }),
    () => ({ text: "Reported." }),
  ]);
}

/** The Developer's first request is kept (its system prompt is the point); it reports `failed`. */
function developerReplies(seen: MessagesBody[]): FakeReplyFn[] {
  return [
    (body) => {
      expectStage(body, "[engineering developer attempt 1/");
      seen.push(body);
      return {
        toolUse: {
          name: "mcp__orchestrator__report",
          input: { status: "failed", summary: "stopping here on purpose" },
        },
      };
    },
    () => ({ text: "Reported." }),
  ];
}

/** One run with the scripted replies; returns the developer's first request and the run's events. */
async function runOnce(slug: string) {
  const seen: MessagesBody[] = [];
  fake.reset();
  fake.enqueue(...architectReplies(), ...developerReplies(seen));
  const p = await h.store.projects.create({ name: slug, slug });
  const queued = await h.start({ projectId: p.id, brief: "A web service that tells the time." });
  const done = await h.waitForEnd(queued.id);
  const events = await h.store.runEvents.list(done.id, { limit: 5000 });
  const diagnose = JSON.stringify({
    error: done.error,
    pending: fake.pending(),
    transcript: transcript(fake),
  });
  expect(done.status, diagnose).toBe("failed");
  expect(fake.pending(), diagnose).toBe(0);
  expect(seen, diagnose).toHaveLength(1);
  const used = events
    .filter((e) => e.type === "agent_config.used")
    .map((e) => e.data as { node: string; version: number });
  return { system: JSON.stringify(seen[0]?.system ?? null), used };
}

describe("a changed developer prompt", () => {
  it(
    "reaches the next run's developer worker, and the run records the version it ran on",
    async () => {
      const before = await runOnce("settings-prompt-before");
      // The shipped prompt, and the versions in force: v1 of each node.
      expect(before.system).toContain(AGENT_CONFIG_DEFAULTS.developer.prompt);
      expect(before.system).not.toContain(NEW_PROMPT);
      expect(before.used.map((u) => `${u.node} v${u.version}`)).toEqual(["architect v1", "developer v1"]);

      const saved = await h.tool<{ version: number }>("agent_config.update", {
        node: "developer",
        prompt: NEW_PROMPT,
      });
      expect(saved.version).toBe(2);

      const after = await runOnce("settings-prompt-after");
      expect(after.system).toContain(NEW_PROMPT);
      expect(after.system).not.toContain(AGENT_CONFIG_DEFAULTS.developer.prompt);
      expect(after.used.map((u) => `${u.node} v${u.version}`)).toEqual(["architect v1", "developer v2"]);
    },
    2 * RUN_DEADLINE_MS + 60_000,
  );
});
