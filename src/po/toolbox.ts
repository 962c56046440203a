import { AppError, type ModelTool, type Principal, type Run } from "../contracts/index.js";
import { bindToActiveTrace, inSpan, type Logger } from "../observability/index.js";
import { type AnyToolDef, type ToolRegistry, type ToolServices, toolContextFor } from "../tools/index.js";
import { compactForModel } from "./compact.js";
import {
  ASK_TOOL,
  modelToolsFor,
  PROJECT_WORK_TOOLS,
  parseAsk,
  parseRespond,
  parseSecretRequest,
  poRegistryTools,
  RESPOND_TOOL,
  SECRET_REQUEST_TOOL,
  startedRun,
} from "./tools.js";

const MAX_TOOL_RESULT_CHARS = 4_000;

/** What a tool call gives back to the model; `ends` when it said something to the person. */
export interface ToolAnswer {
  content: string;
  isError: boolean;
  ends: boolean;
}

export interface PoToolboxDeps {
  registry: ToolRegistry;
  services: ToolServices;
  logger: Logger;
}

/** What a turn's tools need of the turn (a `PoTurnInput` is one): whom they act for, and its hooks. */
export interface PoTurnTools {
  /** Whom the PO acts for: the person (a `user` principal), so it reaches only their projects. */
  principal: Principal;
  questionsAsked: number;
  /**
   * Called as soon as a tool started a run, before the turn goes on: a run can end (blocked with
   * a question, failed) while the model is still answering, and its outcome must find its chat.
   */
  onRunStarted?: (run: Run) => Promise<void>;
  /**
   * Called with each project the turn builds or deploys: before `engineering.start` or
   * `deploy.start` runs for it, and once `project.create` made it (the chat hands it the secrets the
   * person pasted). Reading a project does not count. Its failure is logged; the tool call goes on.
   */
  onProject?: (projectId: string) => Promise<void>;
  /**
   * Called when `secret.request` asked the person for secrets still missing: the chat takes the
   * next bare value (or the web's masked field) as the first of them.
   */
  onSecretsRequested?: (projectId: string, keys: string[]) => Promise<void>;
}

export interface PoToolboxTurn extends PoTurnTools {
  maxQuestions: number;
}

/**
 * The tools of one PO turn, whoever runs the model (the in-process loop, or a CLI agent over MCP):
 * the registry's tools as the person, and `ask`/`respond`, which collect the words for the person
 * and count the product questions. What the turn said and started is read back from it.
 */
export class PoToolbox {
  readonly replies: { text: string; asked: boolean }[] = [];
  readonly runs: Run[] = [];
  questionsAsked: number;
  private readonly tools: AnyToolDef[];
  /** The turn's trace: a tool call is its span, also when a CLI agent's call arrives over MCP. */
  private readonly inTurn = bindToActiveTrace();

  constructor(
    private readonly deps: PoToolboxDeps,
    private readonly turn: PoToolboxTurn,
  ) {
    this.questionsAsked = turn.questionsAsked;
    this.tools = poRegistryTools(deps.registry, turn.principal);
  }

  /** Every tool, by the name and schema the model sees. */
  modelTools(): ModelTool[] {
    return modelToolsFor(this.tools);
  }

  /**
   * Runs one tool call; a refusal or a bad input goes back to the model as an error to correct.
   * Traced as a `po.tool` span of the turn (a run a tool starts is created inside it).
   */
  call(name: string, input: unknown): Promise<ToolAnswer> {
    const own = name === ASK_TOOL || name === RESPOND_TOOL ? name : this.deps.registry.find(name)?.name;
    // The registry's name (`engineering.start`); one the model made up is its text, not ours.
    const attributes = { "po.tool.name": own ?? "unknown" };
    return this.inTurn(() =>
      inSpan("po.tool", attributes, async (span) => {
        const answer = await this.#call(name, input);
        span.setAttribute("po.tool.is_error", answer.isError);
        return answer;
      }),
    );
  }

  async #call(name: string, input: unknown): Promise<ToolAnswer> {
    if (name === ASK_TOOL) return this.ask(input);
    if (name === RESPOND_TOOL) {
      const respond = parseRespond(input);
      if (!respond.success) {
        return { content: `invalid input: ${respond.error.message}`, isError: true, ends: false };
      }
      this.replies.push({ text: respond.data.text, asked: false });
      return { content: "sent", isError: false, ends: true };
    }
    const { registry, services, logger } = this.deps;
    const tool = registry.find(name);
    if (!tool || !this.tools.includes(tool)) {
      return { content: `no tool named ${name} is available to you`, isError: true, ends: false };
    }
    try {
      const named = PROJECT_WORK_TOOLS.includes(tool.name) ? idIn(input, "projectId") : null;
      if (named) await this.touched(named);
      const output = await registry.invoke(
        tool.name,
        input,
        toolContextFor(this.turn.principal, services, { tool: tool.name }),
      );
      const run = startedRun(tool.name, output);
      if (run) await this.started(run);
      const created = tool.name === "project.create" ? idIn(output, "id") : null;
      if (created) await this.touched(created);
      if (tool.name === SECRET_REQUEST_TOOL) await this.requested(output);
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

  private ask(input: unknown): ToolAnswer {
    const ask = parseAsk(input);
    if (!ask.success) return { content: `invalid input: ${ask.error.message}`, isError: true, ends: false };
    const { maxQuestions } = this.turn;
    if (this.questionsAsked >= maxQuestions) {
      return {
        content: `You have asked ${maxQuestions} questions already. Do not ask more: decide sensible defaults and start the build, or respond.`,
        isError: true,
        ends: false,
      };
    }
    this.questionsAsked += 1;
    this.replies.push({ text: ask.data.question, asked: true });
    return { content: "asked", isError: false, ends: true };
  }

  private async touched(projectId: string): Promise<void> {
    await this.turn
      .onProject?.(projectId)
      .catch((error: unknown) =>
        this.deps.logger.warn({ err: error, projectId }, "could not hand the project what the chat holds"),
      );
  }

  /** `secret.request` answered: the names still missing are what the person's next value fills. */
  private async requested(output: unknown): Promise<void> {
    const asked = parseSecretRequest(output);
    if (!asked || asked.missing.length === 0) return;
    await this.turn
      .onSecretsRequested?.(asked.projectId, asked.missing)
      .catch((error: unknown) =>
        this.deps.logger.warn(
          { err: error, projectId: asked.projectId },
          "could not wait for the secrets asked for",
        ),
      );
  }

  private async started(run: Run): Promise<void> {
    this.runs.push(run);
    await this.turn
      .onRunStarted?.(run)
      .catch((error: unknown) =>
        this.deps.logger.warn({ err: error, runId: run.id }, "could not record the run's start at once"),
      );
    // A build started: the next project may be asked about again.
    if (run.kind === "engineering") this.questionsAsked = 0;
  }
}

/** `value[field]` when it is a non-empty string (a project's id in a tool's input or output). */
function idIn(value: unknown, field: string): string | null {
  const id = (value as Record<string, unknown> | null)?.[field];
  return typeof id === "string" && id.length > 0 ? id : null;
}
