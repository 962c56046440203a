import type { AgentResult, AgentBackend as BackendName, Worker } from "../contracts/index.js";
import { failSpan, type Logger, type TraceSpan } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { meteredTotals, meteredTurn, recordUsage } from "./accounting.js";
import type { AgentBackend, TurnRequest } from "./backend.js";
import type { WorkerManagerDeps } from "./manager-deps.js";
import type { Runtime, Sandbox } from "./runtime.js";
import { type LineRing, runInvocation, type StreamEvent } from "./turn.js";

/** Backends whose agent calls models through the gateway when it is on (the scripted one calls none). */
const METERED_BACKENDS: BackendName[] = ["claude-code", "codex", "factory-droid"];

/** Where one turn of a worker runs: its agent, sandbox, environment and deadline. */
export interface TurnCall {
  worker: Worker;
  agent: BackendName;
  runtime: Runtime;
  sandbox: Sandbox;
  env: Record<string, string>;
  timeoutMs: number;
}

/**
 * The logger for what the manager does on behalf of one worker: every line carries the worker's id,
 * its project and (when it works for a run) the run, so a run's log can be followed to its agents.
 */
export function workerLogger(logger: Logger, worker: Pick<Worker, "id" | "projectId" | "runId">): Logger {
  return logger.child({
    workerId: worker.id,
    projectId: worker.projectId,
    ...(worker.runId ? { runId: worker.runId } : {}),
  });
}

/**
 * Runs one invocation of the worker's agent: streams its progress (redacted) as local events and run
 * events, then records what it used (from the gateway's meter when the agent calls models through
 * it, else from the agent's own numbers). Never throws for an agent failure: that is the result.
 */
export async function invokeTurn(
  ctx: {
    deps: WorkerManagerDeps;
    backend: AgentBackend;
    log: LineRing;
    emit: (event: StreamEvent) => void;
  },
  call: TurnCall,
  turn: TurnRequest,
): Promise<Omit<AgentResult, "report">> {
  const { deps } = ctx;
  const { worker, agent, runtime, sandbox, env, timeoutMs } = call;
  const logger = workerLogger(deps.logger, worker);
  const isMetered = deps.modelGateway && METERED_BACKENDS.includes(agent);
  const before = isMetered ? await meteredTotals(deps.store, worker.id) : null;
  // Each append is caught as it is made: one that fails while the turn still runs (the database
  // away) would otherwise be a rejection nobody handles yet, and that ends the process.
  const pending: Promise<void>[] = [];
  const lost: unknown[] = [];
  const result = await runInvocation({
    backend: ctx.backend,
    runtime,
    sandbox,
    turn,
    env,
    timeoutMs,
    log: ctx.log,
    onEvent: (kind, output) => {
      const text = deps.redactor ? deps.redactor.redact(output) : output;
      ctx.emit({ workerId: worker.id, kind, text });
      if (worker.runId) {
        const data = { workerId: worker.id, source: "stream" as const, kind, text: text.slice(0, 500) };
        pending.push(
          deps.journal.append({ runId: worker.runId, type: "worker.progress", data }).then(
            () => undefined,
            (error: unknown) => {
              lost.push(error);
            },
          ),
        );
      }
    },
  });
  await Promise.all(pending);
  if (lost.length > 0) {
    logger.warn({ err: lost[0], count: lost.length }, "progress events not recorded");
  }
  if (!result.ok) logger.warn({ stopReason: result.stopReason, error: result.error }, "agent turn failed");
  if (before) {
    const metered = meteredTurn(before, await meteredTotals(deps.store, worker.id));
    return { ...result, ...metered, model: metered.model ?? result.model };
  }
  return { ...result, ...(await recordUsage(deps, { ...worker, backend: agent }, result)) };
}

/** Whether the worker's run has a budget and has spent it (the gateway then refuses its calls). */
export async function isRunBudgetSpent(store: Store, worker: Worker): Promise<boolean> {
  if (!worker.runId) return false;
  const run = await store.runs.get(worker.runId);
  return run.budgetUsd !== null && run.costUsd >= run.budgetUsd;
}

/** Who a traced turn is: the worker, its role and agent, and the project and run it works for. */
export function workerAttributes(worker: Worker, agent: BackendName) {
  return {
    "worker.role": worker.role,
    "worker.backend": agent,
    "project.id": worker.projectId,
    ...(worker.runId ? { "run.id": worker.runId } : {}),
  };
}

/** What a traced turn came to: its outcome, report status, tokens, cost and duration; no words. */
export function markTurn(span: TraceSpan, result: AgentResult): void {
  span.setAttributes({
    "worker.turn.ok": result.ok,
    "worker.turn.stop_reason": result.stopReason,
    "worker.turn.report": result.report?.status ?? "none",
    "worker.turn.turns": result.turns,
    "worker.turn.duration_ms": result.durationMs,
    "worker.turn.tokens_in": result.usage.inputTokens,
    "worker.turn.tokens_out": result.usage.outputTokens,
    "worker.turn.cost_usd": result.costUsd,
    "worker.turn.cost_source": result.costSource,
    ...(result.model ? { "worker.turn.model": result.model } : {}),
  });
  if (!result.ok) failSpan(span, result.error?.code ?? result.stopReason);
}
