import {
  AppError,
  type ChatMessageRole,
  type ModelContent,
  type ModelMessage,
  type Run,
} from "../contracts/index.js";
import { estimateCostUsd, type ModelProvider } from "../llm/index.js";
import { inSpan, type Logger, type TraceSpan } from "../observability/index.js";
import { type ToolRegistry, type ToolServices, toolContextFor } from "../tools/index.js";
import { operatingRules, projectsContext } from "./prompt.js";
import { PoToolbox, type PoTurnTools } from "./toolbox.js";

export interface PoDeps {
  provider: ModelProvider;
  registry: ToolRegistry;
  services: ToolServices;
  logger: Logger;
  /** Model calls per person's message; past it the turn ends and the person is told. */
  maxRounds?: number;
  /** Product questions before a build starts. */
  maxQuestions?: number;
}

/** A message the PO saw earlier in the conversation. */
export interface PoHistoryItem {
  role: ChatMessageRole;
  text: string;
}

export interface PoTurnInput extends PoTurnTools {
  /** The `po` AgentConfig's prompt. */
  systemPrompt: string;
  summary: string | null;
  history: PoHistoryItem[];
  message: string;
  model?: string;
  /** Model calls for this message (the deps' `maxRounds` when absent). */
  maxRounds?: number;
  /** What the model calls of one message may cost (the `po` AgentConfig's budget); unbounded without. */
  budgetUsd?: number;
  signal?: AbortSignal;
}

export interface PoTurnResult {
  replies: { text: string; asked: boolean }[];
  /** Runs its tools started, to tie to the conversation (also when a later round failed). */
  runs: Run[];
  questionsAsked: number;
  rounds: number;
  /** The round limit ended the turn before the PO said anything. */
  exhausted: boolean;
  /** The model failed (timeout, outage, refused key): the person is told, the runs stand. */
  error: AppError | null;
}

const DEFAULT_MAX_ROUNDS = 8;
/** Product questions before a build starts, unless the deps say otherwise. */
export const DEFAULT_MAX_QUESTIONS = 2;

/**
 * The Product Owner: one turn per person's message, a bounded loop of model calls and tool calls
 * through the registry as the person. It ends when the model asks or responds, or at the limit.
 */
export class ProductOwner {
  constructor(private readonly deps: PoDeps) {}

  get provider(): ModelProvider {
    return this.deps.provider;
  }

  /** One turn, traced as a `po.turn` span (rounds, runs started, tokens and the error code as attributes). */
  turn(input: PoTurnInput): Promise<PoTurnResult> {
    const attributes = {
      "po.backend": "api",
      "po.provider": this.deps.provider.kind,
      "po.model": input.model,
    };
    return inSpan("po.turn", attributes, async (span) => {
      const result = await this.#turn(input, span);
      span.setAttributes(poTurnAttributes(result));
      return result;
    });
  }

  async #turn(input: PoTurnInput, span: TraceSpan): Promise<PoTurnResult> {
    const { registry, services, provider, logger } = this.deps;
    const maxRounds = input.maxRounds ?? this.deps.maxRounds ?? DEFAULT_MAX_ROUNDS;
    const toolbox = new PoToolbox(
      { registry, services, logger },
      { ...input, maxQuestions: this.deps.maxQuestions ?? DEFAULT_MAX_QUESTIONS },
    );
    const system = await poSystemPrompt({ registry, services }, input, this.deps.maxQuestions);
    const messages = conversationMessages(input.history, input.message);
    let rounds = 0;
    const result = (extra: Partial<PoTurnResult> = {}): PoTurnResult => ({
      replies: toolbox.replies,
      runs: toolbox.runs,
      questionsAsked: toolbox.questionsAsked,
      rounds,
      exhausted: false,
      error: null,
      ...extra,
    });
    const modelTools = toolbox.modelTools();
    let spentUsd = 0;
    let tokensIn = 0;
    let tokensOut = 0;
    while (rounds < maxRounds) {
      if (input.budgetUsd !== undefined && spentUsd >= input.budgetUsd) {
        return result({
          error: new AppError(
            "unavailable",
            "po_budget_exhausted",
            `the PO spent $${spentUsd.toFixed(4)} of its $${input.budgetUsd} budget for one message`,
          ),
        });
      }
      rounds += 1;
      let turn: Awaited<ReturnType<ModelProvider["complete"]>>;
      try {
        turn = await provider.complete(
          {
            system,
            messages,
            tools: modelTools,
            ...(input.model ? { model: input.model } : {}),
            maxTokens: 2_048,
          },
          input.signal ? { signal: input.signal } : {},
        );
      } catch (error) {
        return result({
          error:
            error instanceof AppError
              ? error
              : new AppError("internal", "internal", "the model call failed", { cause: error }),
        });
      }
      spentUsd += estimateCostUsd(turn.model, turn.usage).costUsd;
      tokensIn += turn.usage.inputTokens;
      tokensOut += turn.usage.outputTokens;
      span.setAttributes({ "po.tokens_in": tokensIn, "po.tokens_out": tokensOut, "po.cost_usd": spentUsd });
      const calls = turn.content.filter((c) => c.type === "tool_call");
      const text = turn.content
        .filter((c) => c.type === "text")
        .map((c) => c.text)
        .join("")
        .trim();
      if (calls.length === 0) {
        if (text) toolbox.replies.push({ text, asked: false });
        return result();
      }
      messages.push({ role: "assistant", content: turn.content });
      const answers: ModelContent[] = [];
      let ended = false;
      for (const call of calls) {
        const answer = await toolbox.call(call.name, call.input);
        ended ||= answer.ends;
        answers.push({
          type: "tool_result",
          callId: call.id,
          content: answer.content,
          isError: answer.isError,
        });
      }
      if (ended) return result();
      messages.push({ role: "user", content: answers });
    }
    return result({ exhausted: toolbox.replies.length === 0 });
  }
}

/** What a finished PO turn says about itself in its span: counts and the error's code, no words. */
export function poTurnAttributes(result: PoTurnResult) {
  return {
    "po.rounds": result.rounds,
    "po.replies": result.replies.length,
    "po.runs_started": result.runs.length,
    "po.questions_asked": result.questionsAsked,
    "po.exhausted": result.exhausted,
    ...(result.error ? { "error.type": result.error.code } : {}),
  };
}

/**
 * The PO's system prompt for one turn: the AgentConfig's prompt, the operating rules, the person's
 * projects and the summary of the conversation so far.
 */
export async function poSystemPrompt(
  deps: { registry: ToolRegistry; services: ToolServices },
  input: Pick<PoTurnInput, "systemPrompt" | "principal" | "summary">,
  maxQuestions = DEFAULT_MAX_QUESTIONS,
): Promise<string> {
  return [
    input.systemPrompt.trim(),
    operatingRules(maxQuestions),
    await projectsContext(
      deps.registry,
      toolContextFor(input.principal, deps.services, { tool: "project.list" }),
    ),
    input.summary ? `Summary of the conversation so far:\n${input.summary}` : "",
  ]
    .filter(Boolean)
    .join("\n\n");
}

/**
 * The history as model messages: the person's words and system events on the `user` side, the
 * PO's on the `assistant` side, neighbours of one side merged (providers want them alternating).
 */
export function conversationMessages(history: readonly PoHistoryItem[], message: string): ModelMessage[] {
  const out: ModelMessage[] = [];
  const push = (role: ModelMessage["role"], text: string) => {
    const last = out.at(-1);
    if (last && last.role === role) last.content.push({ type: "text", text });
    else out.push({ role, content: [{ type: "text", text }] });
  };
  for (const item of history) {
    if (item.role === "po") {
      if (out.length > 0) push("assistant", item.text);
    } else push("user", item.role === "system" ? `[system] ${item.text}` : item.text);
  }
  push("user", message);
  return out;
}
