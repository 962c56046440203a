// The first model request of an Architect turn and of a Developer turn, as the real `claude` CLI
// sends it to the fake Anthropic API (`test/fakes/anthropic`) during an engineering run, broken
// down by what it carries. Run once with the CLI as shipped (every built-in tool) and once with
// lean turns (each role's own tools), so the table shows what the lean configuration saves.
import type { AgentRole } from "../src/contracts/index.js";
import { ClaudeCodeBackend } from "../src/workers/index.js";
import {
  type FakeReply,
  type FakeReplyFn,
  lastToolResultText,
  type MessagesBody,
  startFakeAnthropic,
} from "../test/fakes/anthropic/index.js";
import { startEngineHarness } from "../test/support/engine-harness.js";
import { printTable } from "./stats.js";

const KEY = "sk-ant-fake-bench-requests-key";
const BRIEF = "A web service that tells the time.";
const SPEC = [
  "# Specification",
  "",
  BRIEF,
  "",
  "Template: web-service",
  "",
  "## Features",
  "- GET /api/time answers the current time as JSON",
  "",
  "## Acceptance criteria",
  "- GET /api/time answers 200 with an ISO timestamp under `now`",
  "",
].join("\n");
/** Never run: the developer stops before the Tester. */
const ACCEPTANCE_PLACEHOLDER = "// GET /api/time answers 200 with an ISO timestamp under `now`.\n";

/** Approximate tokens of a text: ceil(characters / 4), the rule of the fake's `count_tokens`. */
export const tokensOf = (text: string): number => Math.ceil(text.length / 4);
const jsonTokens = (value: unknown): number => tokensOf(JSON.stringify(value ?? null));

/** What one request is made of, in approximate tokens. */
export interface RequestParts {
  systemCli: number;
  /** The agent config's prompt, appended to the CLI's (`--append-system-prompt`). */
  systemOrchestrator: number;
  toolsBuiltin: number;
  /** The orchestrator's tools over MCP (`mcp__orchestrator__*`). */
  toolsOrchestrator: number;
  /** The stage's prompt (stdin of the CLI). */
  messagesOrchestrator: number;
  /** What the CLI adds to the first message (`<system-reminder>` blocks: date, environment, …). */
  messagesCli: number;
  /** Model, limits, thinking, metadata, and the JSON around the parts. */
  other: number;
  total: number;
  builtinNames: string[];
  mcpNames: string[];
}

interface Block {
  type?: string;
  text?: string;
}

/** Splits a recorded Messages API body into its parts; `appended` is the orchestrator's system prompt. */
export function requestParts(body: MessagesBody, appended: string): RequestParts {
  const tools = body.tools ?? [];
  const isMcp = (t: { name: string }) => t.name.startsWith("mcp__");
  const sum = (items: unknown[]) => items.reduce<number>((n, item) => n + jsonTokens(item), 0);
  const system = jsonTokens(body.system);
  const systemText = JSON.stringify(body.system ?? null);
  const systemOrchestrator = appended && systemText.includes(appended.slice(0, 200)) ? tokensOf(appended) : 0;
  const blocks = (body.messages ?? []).flatMap((m) =>
    Array.isArray(m.content) ? (m.content as Block[]) : [{ type: "text", text: String(m.content) }],
  );
  const isReminder = (b: Block) =>
    b.type === "text" && (b.text ?? "").trimStart().startsWith("<system-reminder>");
  const messages = jsonTokens(body.messages);
  const messagesOrchestrator = sum(blocks.filter((b) => !isReminder(b)));
  const total = jsonTokens(body);
  return {
    systemCli: system - systemOrchestrator,
    systemOrchestrator,
    toolsBuiltin: sum(tools.filter((t) => !isMcp(t))),
    toolsOrchestrator: sum(tools.filter(isMcp)),
    messagesOrchestrator,
    messagesCli: messages - messagesOrchestrator,
    other: total - system - jsonTokens(tools) - messages,
    total,
    builtinNames: tools.filter((t) => !isMcp(t)).map((t) => t.name),
    mcpNames: tools.filter(isMcp).map((t) => t.name),
  };
}

const stageOf = (body: MessagesBody): string =>
  JSON.stringify(body.messages?.[0] ?? null).match(/\[engineering (\w+)/)?.[1] ?? "";

/** The acceptance folder the Architect is told to use for `web-service`, when its prompt names one. */
const acceptanceDirIn = (body: MessagesBody): string | null =>
  JSON.stringify(body.messages?.[0] ?? null).match(
    /`web-service`:[^`]*acceptance tests in `([^`]+?)\/?`/,
  )?.[1] ?? null;

const report = (status: "complete" | "failed", summary: string): FakeReply => ({
  toolUse: { name: "mcp__orchestrator__report", input: { status, summary } },
});

/**
 * The model's side of the run: the Architect finds its folder, writes SPEC.md (and an acceptance
 * test where the template has a folder for them) and reports; the Developer reports `failed` at
 * once (only its first request is measured), which ends the run.
 */
function responder(): FakeReplyFn {
  const steps: Record<string, FakeReply[]> = {
    developer: [report("failed", "bench/engineering measures the first request only"), "Stopped."],
  };
  return (body) => {
    const stage = stageOf(body);
    if (stage === "architect" && !steps.architect) {
      const ws = lastToolResultText(body)?.trim() ?? "";
      if (!ws) {
        return { toolUse: { name: "Bash", input: { command: "pwd", description: "Where am I" } } };
      }
      const dir = acceptanceDirIn(body);
      const write = (path: string, content: string): FakeReply => ({
        toolUse: { name: "Write", input: { file_path: `${ws}/${path}`, content } },
      });
      steps.architect = [
        write("SPEC.md", SPEC),
        ...(dir ? [write(`${dir}/time.test.ts`, ACCEPTANCE_PLACEHOLDER)] : []),
        report("complete", "SPEC.md written; template web-service"),
        "SPEC.md is written.",
      ];
    }
    const next = steps[stage]?.shift();
    if (!next) throw new Error(`bench/engineering: nothing scripted for a ${stage || "unknown"} request`);
    return next;
  };
}

export type StageRequests = Record<"architect" | "developer", RequestParts>;

/** One engineering run with the real CLI (lean turns or as shipped); the first request of each stage. */
export async function measureFirstRequests(isLean: boolean): Promise<StageRequests> {
  const fake = await startFakeAnthropic({ apiKey: KEY });
  const h = await startEngineHarness({
    backends: { "claude-code": new ClaudeCodeBackend({ isLean }) },
    agentBackend: "claude-code",
    agentEnv: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: KEY },
  });
  try {
    const respond = responder();
    fake.enqueue(...Array.from({ length: 12 }, () => respond));
    const slug = `bench-requests-${isLean ? "lean" : "default"}`;
    const project = await h.store.projects.create({ name: slug, slug, description: "bench/engineering" });
    const done = await h.waitForEnd((await h.start({ projectId: project.id, brief: BRIEF })).id);
    const parts = async (role: AgentRole & keyof StageRequests) => {
      const first = fake.conversation().find((r) => stageOf(r.body as MessagesBody) === role);
      if (!first) {
        throw new Error(
          `no ${role} request reached the model; run ${done.status}: ${JSON.stringify(done.error)}`,
        );
      }
      const appended = (await h.store.agentConfigs.get(role)).prompt;
      return requestParts(first.body as MessagesBody, appended);
    };
    return { architect: await parts("architect"), developer: await parts("developer") };
  } finally {
    await h.close();
    await fake.close();
  }
}

/** The developer turn's first request should stay under this many tokens. */
export const DEVELOPER_REQUEST_AIM_TOKENS = 12_000;

/** Prints the before/after table: each part of each stage's first request, as shipped and lean. */
export function printRequestTable(shipped: StageRequests, lean: StageRequests): void {
  const rows: [string, (p: RequestParts) => number][] = [
    ["system: the CLI's prompt", (p) => p.systemCli],
    ["system: the agent config's prompt", (p) => p.systemOrchestrator],
    ["tools: built-in", (p) => p.toolsBuiltin],
    ["tools: orchestrator (MCP)", (p) => p.toolsOrchestrator],
    ["messages: the stage's prompt", (p) => p.messagesOrchestrator],
    ["messages: the CLI's reminders", (p) => p.messagesCli],
    ["other fields", (p) => p.other],
    ["total", (p) => p.total],
  ];
  const ratio = (after: number, before: number) => (before > 0 ? (after / before).toFixed(2) : "n/a");
  console.log(
    "\nfirst model request of a turn, real claude CLI against the fake Anthropic API; " +
      "tokens ≈ ceil(JSON characters / 4), as the fake's count_tokens\n",
  );
  printTable(
    ["part", "architect shipped", "architect lean", "ratio", "developer shipped", "developer lean", "ratio"],
    // Whole tokens as text: the table's number format would print small counts with a decimal.
    rows.map(([label, pick]) => [
      label,
      String(pick(shipped.architect)),
      String(pick(lean.architect)),
      ratio(pick(lean.architect), pick(shipped.architect)),
      String(pick(shipped.developer)),
      String(pick(lean.developer)),
      ratio(pick(lean.developer), pick(shipped.developer)),
    ]),
  );
  const names = (p: RequestParts) => [...p.builtinNames, ...p.mcpNames].join(", ");
  console.log(`\nshipped (developer): ${names(shipped.developer)}`);
  console.log(`lean (developer):    ${names(lean.developer)}`);
  console.log(`lean (architect):    ${names(lean.architect)}`);
  const verdict = lean.developer.total < DEVELOPER_REQUEST_AIM_TOKENS ? "under" : "OVER";
  console.log(
    `developer turn, lean: ${lean.developer.total} tokens, ${verdict} the aim of ${DEVELOPER_REQUEST_AIM_TOKENS}\n`,
  );
}
