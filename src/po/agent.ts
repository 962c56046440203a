import {
  AppError,
  type ChatMessageRole,
  type ModelContent,
  type ModelMessage,
  type Principal,
  type Run,
} from "../contracts/index.js";
import { estimateCostUsd, type ModelProvider } from "../llm/index.js";
import type { Logger } from "../observability/index.js";
import { type ToolRegistry, type ToolServices, toolContextFor } from "../tools/index.js";
import { compactForModel } from "./compact.js";
import { operatingRules, projectsContext } from "./prompt.js";
import {
  ASK_TOOL,
  modelToolsFor,
  parseAsk,
  parseRespond,
  poRegistryTools,
  RESPOND_TOOL,
  startedRun,
} from "./tools.js";

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

export interface PoTurnInput {
  /** Whom the PO acts for: the person (a `user` principal), so it reaches only their projects. */
  principal: Principal;
  /** The `po` AgentConfig's prompt. */
  systemPrompt: string;
  summary: string | null;
  questionsAsked: number;
  history: PoHistoryItem[];
  message: string;
  model?: string;
  /** Model calls for this message (the deps' `maxRounds` when absent). */
  maxRounds?: number;
  /** What the model calls of one message may cost (the `po` AgentConfig's budget); unbounded without. */
  budgetUsd?: number;
  signal?: AbortSignal;
  /**
   * Called as soon as a tool started a run, before the turn goes on: a run can end (blocked with
   * a question, failed) while the model is still answering, and its outcome must find its chat.
   */
  onRunStarted?: (run: Run) => Promise<void>;
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
const DEFAULT_MAX_QUESTIONS = 2;
const MAX_TOOL_RESULT_CHARS = 4_000;

/**
 * The Product Owner: one turn per person's message, a bounded loop of model calls and tool calls
 * through the registry as the person. It ends when the model asks or responds, or at the limit.
 */
export class ProductOwner {
  constructor(private readonly deps: PoDeps) {}

  get provider(): ModelProvider {
    return this.deps.provider;
  }

  async turn(input: PoTurnInput): Promise<PoTurnResult> {
    const { registry, services, provider } = this.deps;
    const maxRounds = input.maxRounds ?? this.deps.maxRounds ?? DEFAULT_MAX_ROUNDS;
    const maxQuestions = this.deps.maxQuestions ?? DEFAULT_MAX_QUESTIONS;
    const tools = poRegistryTools(registry, input.principal);
    const system = [
      input.systemPrompt.trim(),
      operatingRules(maxQuestions),
      await projectsContext(registry, toolContextFor(input.principal, services, { tool: "project.list" })),
      input.summary ? `Summary of the conversation so far:\n${input.summary}` : "",
    ]
      .filter(Boolean)
      .join("\n\n");
    const messages = conversationMessages(input.history, input.message);
    const result: PoTurnResult = {
      replies: [],
      runs: [],
      questionsAsked: input.questionsAsked,
      rounds: 0,
      exhausted: false,
      error: null,
    };
    const modelTools = modelToolsFor(tools);
    let spentUsd = 0;
    while (result.rounds < maxRounds) {
      if (input.budgetUsd !== undefined && spentUsd >= input.budgetUsd) {
        result.error = new AppError(
          "unavailable",
          "po_budget_exhausted",
          `the PO spent $${spentUsd.toFixed(4)} of its $${input.budgetUsd} budget for one message`,
        );
        return result;
      }
      result.rounds += 1;
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
        result.error =
          error instanceof AppError
            ? error
            : new AppError("internal", "internal", "the model call failed", { cause: error });
        return result;
      }
      spentUsd += estimateCostUsd(turn.model, turn.usage).costUsd;
      const calls = turn.content.filter((c) => c.type === "tool_call");
      const text = turn.content
        .filter((c) => c.type === "text")
        .map((c) => c.text)
        .join("")
        .trim();
      if (calls.length === 0) {
        if (text) result.replies.push({ text, asked: false });
        return result;
      }
      messages.push({ role: "assistant", content: turn.content });
      const answers: ModelContent[] = [];
      let ended = false;
      for (const call of calls) {
        const answer = await this.call(call, input, result, maxQuestions);
        ended ||= answer.ends;
        answers.push({
          type: "tool_result",
          callId: call.id,
          content: answer.content,
          isError: answer.isError,
        });
      }
      if (ended) return result;
      messages.push({ role: "user", content: answers });
    }
    result.exhausted = result.replies.length === 0;
    return result;
  }

  /** Runs one tool call; a refusal or a bad input goes back to the model as an error to correct. */
  private async call(
    call: Extract<ModelContent, { type: "tool_call" }>,
    input: PoTurnInput,
    result: PoTurnResult,
    maxQuestions: number,
  ): Promise<{ content: string; isError: boolean; ends: boolean }> {
    if (call.name === ASK_TOOL) {
      const ask = parseAsk(call.input);
      if (!ask.success) return { content: `invalid input: ${ask.error.message}`, isError: true, ends: false };
      if (result.questionsAsked >= maxQuestions) {
        return {
          content: `You have asked ${maxQuestions} questions already. Do not ask more: decide sensible defaults and start the build, or respond.`,
          isError: true,
          ends: false,
        };
      }
      result.questionsAsked += 1;
      result.replies.push({ text: ask.data.question, asked: true });
      return { content: "asked", isError: false, ends: true };
    }
    if (call.name === RESPOND_TOOL) {
      const respond = parseRespond(call.input);
      if (!respond.success) {
        return { content: `invalid input: ${respond.error.message}`, isError: true, ends: false };
      }
      result.replies.push({ text: respond.data.text, asked: false });
      return { content: "sent", isError: false, ends: true };
    }
    const { registry, services, logger } = this.deps;
    const tool = registry.find(call.name);
    if (!tool || !poRegistryTools(registry, input.principal).includes(tool)) {
      return { content: `no tool named ${call.name} is available to you`, isError: true, ends: false };
    }
    try {
      const output = await registry.invoke(
        tool.name,
        call.input,
        toolContextFor(input.principal, services, { tool: tool.name }),
      );
      const run = startedRun(tool.name, output);
      if (run) {
        result.runs.push(run);
        await input
          .onRunStarted?.(run)
          .catch((error: unknown) =>
            logger.warn({ err: error, runId: run.id }, "could not record the run's start at once"),
          );
        // A build started: the next project may be asked about again.
        if (run.kind === "engineering") result.questionsAsked = 0;
      }
      return { content: compactForModel(output, MAX_TOOL_RESULT_CHARS), isError: false, ends: false };
    } catch (error) {
      if (!(error instanceof AppError)) {
        logger.error({ err: error, tool: tool.name }, "PO tool call failed");
        return { content: "the tool failed unexpectedly", isError: true, ends: false };
      }
      return {
        content: compactForModel(
          { error: { code: error.code, message: error.message, details: error.details } },
          MAX_TOOL_RESULT_CHARS,
        ),
        isError: true,
        ends: false,
      };
    }
  }
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
