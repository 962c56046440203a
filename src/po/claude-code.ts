import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AgentResult, AppError } from "../contracts/index.js";
import { inSpan, type Metrics } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { type AgentBackend, recordUsage, runCommand, type TurnRequest } from "../workers/index.js";
import type { PoHistoryItem, PoTurnInput, PoTurnResult } from "./agent.js";
import { DEFAULT_MAX_QUESTIONS, poSystemPrompt, poTurnAttributes } from "./agent.js";
import { PO_MCP_PATH, type PoTurns } from "./mcp.js";
import { PoToolbox, type PoToolboxDeps } from "./toolbox.js";

export interface CliProductOwnerDeps extends PoToolboxDeps {
  store: Store;
  metrics: Pick<Metrics, "agentTokens" | "agentCostUsd">;
  /** The agent CLI (Claude Code) that runs a turn. */
  backend: AgentBackend;
  turns: PoTurns;
  /** The API as the CLI reaches it; its MCP endpoint serves the turn's tools. */
  apiUrl: string;
  /** What the CLI needs to reach its model (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`). */
  env: Record<string, string>;
  /** How long one turn may take before the CLI is stopped. */
  timeoutMs: number;
}

type CliTurnInput = PoTurnInput & { model: string; budgetUsd: number; maxRounds: number };

/**
 * The Product Owner as a CLI agent (the `po` AgentConfig's backend `claude-code`): each turn runs the
 * CLI once with no built-in tools (no shell, no files), only the orchestrator's tools over MCP: the
 * same tools, as the same person, with the same question limit as the in-process loop, served by
 * the API for as long as the turn lasts. Its tokens and cost are recorded like a worker's.
 */
export class CliProductOwner {
  constructor(private readonly deps: CliProductOwnerDeps) {}

  /** One turn, traced as a `po.turn` span like the in-process PO's. */
  turn(input: CliTurnInput): Promise<PoTurnResult> {
    const attributes = { "po.backend": "claude-code", "po.model": input.model };
    return inSpan("po.turn", attributes, async (span) => {
      const result = await this.#turn(input);
      span.setAttributes(poTurnAttributes(result));
      return result;
    });
  }

  async #turn(input: CliTurnInput): Promise<PoTurnResult> {
    const { deps } = this;
    const toolbox = new PoToolbox(deps, { ...input, maxQuestions: DEFAULT_MAX_QUESTIONS });
    const system = await poSystemPrompt(deps, input, DEFAULT_MAX_QUESTIONS);
    const dir = await mkdtemp(join(tmpdir(), "po-turn-"));
    const access = deps.turns.begin(toolbox);
    try {
      const home = join(dir, "home");
      await mkdir(home, { mode: 0o700 });
      const mcpConfigPath = join(dir, "mcp.json");
      // The turn's secret goes in a file only the CLI reads, never on its command line.
      await writeFile(mcpConfigPath, JSON.stringify(mcpConfig(deps.apiUrl, access.secret)), { mode: 0o600 });
      const request: TurnRequest = {
        prompt: turnPrompt(input.history, input.message),
        resumeSessionId: null,
        newSessionId: null,
        model: input.model,
        systemPrompt: system,
        maxTurns: input.maxRounds,
        budgetUsd: input.budgetUsd,
        mcpConfigPath,
        workspace: dir,
        builtinTools: [],
      };
      const invocation = deps.backend.invocation(request);
      const output = await runCommand(invocation.argv, {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, ...deps.env, ...invocation.env },
        stdin: invocation.stdin ?? "",
        timeoutMs: deps.timeoutMs,
        ...(input.signal ? { signal: input.signal } : {}),
        onError: (error) => deps.logger.warn({ err: error }, "could not stop the PO's CLI"),
      });
      const result = deps.backend.parse(output, request);
      if (result.usage.inputTokens + result.usage.outputTokens > 0) {
        await recordUsage(
          deps,
          { id: null, projectId: null, runId: null, backend: deps.backend.name },
          result,
        );
      }
      const turn: PoTurnResult = {
        replies: toolbox.replies,
        runs: toolbox.runs,
        questionsAsked: toolbox.questionsAsked,
        rounds: result.turns,
        exhausted: false,
        error: null,
      };
      if (toolbox.replies.length > 0) return turn;
      // The CLI ended without `respond` or `ask`: its last words, when it has any and ended well.
      if (result.ok && result.finalText?.trim()) {
        return { ...turn, replies: [{ text: result.finalText.trim(), asked: false }] };
      }
      if (result.stopReason === "max_turns") return { ...turn, exhausted: true };
      return { ...turn, error: turnError(result, input.budgetUsd) };
    } finally {
      access.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** The MCP config naming the API's endpoint for this turn, with the turn's secret as its bearer. */
function mcpConfig(apiUrl: string, secret: string) {
  return {
    mcpServers: {
      orchestrator: {
        type: "http",
        url: `${apiUrl.replace(/\/+$/, "")}${PO_MCP_PATH}`,
        headers: { Authorization: `Bearer ${secret}` },
      },
    },
  };
}

/** The conversation so far and the new message, as the one prompt of a print-mode turn. */
export function turnPrompt(history: readonly PoHistoryItem[], message: string): string {
  const said = { person: "Person", po: "You", system: "System" } as const;
  const lines = history.map((item) => `${said[item.role]}: ${item.text}`);
  return [
    ...(lines.length > 0 ? ["The conversation so far:", ...lines, ""] : []),
    "The person's new message:",
    message,
    "",
    "Act with the orchestrator's tools, then answer the person with `respond` or `ask`.",
  ].join("\n");
}

/** A failed CLI turn as the model errors the chat already tells people about. */
function turnError(result: Omit<AgentResult, "report">, budgetUsd: number): AppError {
  const message = result.error?.message ?? `the Product Owner's CLI stopped (${result.stopReason})`;
  if (result.stopReason === "budget") {
    return new AppError("unavailable", "po_budget_exhausted", `the PO spent its $${budgetUsd} budget`);
  }
  if (result.stopReason === "timeout") return new AppError("unavailable", "model_timeout", message);
  switch (result.error?.code) {
    case "auth_failed":
      return new AppError("unavailable", "model_unauthorized", message);
    case "rate_limited":
    case "overloaded":
    case "api_error":
    case "api_unreachable":
      return new AppError("unavailable", "model_unavailable", message);
    default:
      return new AppError("internal", "internal", message);
  }
}
