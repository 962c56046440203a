import type { Bus } from "../bus/index.js";
import { type AgentRole, AppError, type Run, type SpendLine } from "../contracts/index.js";
import type { RunJournal } from "../events/index.js";
import type { Store } from "../store/index.js";
import { triggerRun } from "./run-executor.js";

/** The code a stage's error carries when its run's model budget is spent (see `WorkerManager.send`). */
export const BUDGET_EXHAUSTED = "run_budget_exhausted";

/**
 * The model budget of a new run: the project's own override, else what its agents' configs allow
 * (the Architect's turn plus every Developer attempt). Null when neither sets one.
 */
export async function budgetFor(
  store: Store,
  projectId: string,
  roles: { role: AgentRole; turns: number }[],
): Promise<number | null> {
  const project = await store.projects.get(projectId);
  if (project.runBudgetUsd !== null) return project.runBudgetUsd;
  let total = 0;
  for (const { role, turns } of roles) total += (await store.agentConfigs.get(role)).budgetUsd * turns;
  return total > 0 ? Math.round(total * 100) / 100 : null;
}

/** Sets the run's budget once, when it starts; a replayed start keeps what was set (and granted). */
export async function ensureBudget(store: Store, run: Run, budgetUsd: number | null): Promise<Run> {
  if (run.budgetUsd !== null || budgetUsd === null) return run;
  return store.runs.setBudget(run.id, budgetUsd);
}

/** What a run has spent, per agent (from the model gateway's records), most expensive first. */
export async function spendOf(store: Store, runId: string): Promise<SpendLine[]> {
  const rows = await store.tokenUsage.summarize({ runId });
  const lines: SpendLine[] = [];
  for (const row of rows) {
    const worker = row.workerId ? await store.workers.get(row.workerId).catch(() => null) : null;
    lines.push({
      role: worker?.role ?? null,
      workerId: row.workerId,
      backend: row.backend,
      model: row.model,
      calls: row.calls,
      tokensIn: row.inputTokens + row.cacheReadTokens + row.cacheWriteTokens,
      tokensOut: row.outputTokens,
      costUsd: Math.round(row.costUsd * 1_000_000) / 1_000_000,
    });
  }
  return lines.sort((a, b) => b.costUsd - a.costUsd);
}

/**
 * Pauses a run whose budget is spent: `awaiting_approval`, with what it spent and on what, as an
 * error (so `run get` says why it waits) and as a `run.budget_exhausted` event. Its checkpoint and
 * its paused agent stay; a grant resumes it at the stage that was stopped.
 */
export async function pauseForBudget(store: Store, journal: RunJournal, runId: string): Promise<Run> {
  const run = await store.runs.get(runId);
  const spentOn = await spendOf(store, runId);
  const budget = run.budgetUsd ?? 0;
  const what = spentOn
    .slice(0, 3)
    .map((l) => `${l.role ?? "agent"} ${l.model} $${l.costUsd.toFixed(4)}`)
    .join(", ");
  const message = `the run spent $${run.costUsd.toFixed(4)} of its $${budget.toFixed(2)} budget (${what || "no metered calls"}); an admin can grant more or cancel it`;
  await journal.append({
    runId,
    type: "run.budget_exhausted",
    data: { budgetUsd: budget, spentUsd: run.costUsd, stage: run.stage, spentOn },
  });
  return journal.move(runId, "awaiting_approval", { error: { code: "budget_exhausted", message } });
}

/**
 * Raises a run's budget by `addUsd`. A run waiting for approval goes back to `running` and is
 * woken, so an engine resumes it from its checkpoint; a running run just has more to spend.
 */
export async function grantBudget(
  deps: { store: Store; bus: Bus; journal: RunJournal },
  input: { runId: string; addUsd: number },
): Promise<Run> {
  const { store, journal } = deps;
  const run = await store.runs.get(input.runId);
  if (run.status !== "awaiting_approval" && run.status !== "running" && run.status !== "queued") {
    throw new AppError("conflict", "run_ended", `run ${run.id} is ${run.status}: there is nothing to grant`, {
      details: [{ path: "runId", message: `run is ${run.status}` }],
    });
  }
  const before = run.budgetUsd ?? run.costUsd;
  const budgetUsd = Math.round((before + input.addUsd) * 1_000_000) / 1_000_000;
  await store.runs.setBudget(run.id, budgetUsd);
  await journal.append({
    runId: run.id,
    type: "run.budget_granted",
    data: { addUsd: input.addUsd, budgetUsd, spentUsd: run.costUsd },
  });
  if (run.status !== "awaiting_approval") return store.runs.get(run.id);
  const resumed = await journal.move(run.id, "running", { error: null });
  await triggerRun(deps.bus, run.kind, run.id);
  return resumed;
}

/**
 * Stops a run: queued, waiting for approval, or an engineering run under way (the engine executing
 * it sees the run ended at its next lease renewal, stops its graph and ends its agents). A deploy
 * under way is not cut short: it ends by itself within its health gate's deadline, rolled back if red.
 */
export async function cancelRun(
  deps: { store: Store; journal: RunJournal },
  input: { runId: string; reason: string },
): Promise<Run> {
  const run = await deps.store.runs.get(input.runId);
  const isRunningEngineering = run.status === "running" && run.kind === "engineering";
  if (run.status !== "awaiting_approval" && run.status !== "queued" && !isRunningEngineering) {
    throw new AppError(
      "conflict",
      "run_not_cancellable",
      `run ${run.id} is ${run.status}; only a queued run, one waiting for approval or a running engineering run can be cancelled`,
      { details: [{ path: "runId", message: `run is ${run.status}` }] },
    );
  }
  const cancelled = await deps.journal.move(run.id, "cancelled", {
    result: { outcome: "cancelled", reason: input.reason, spentUsd: run.costUsd, budgetUsd: run.budgetUsd },
  });
  if (run.status === "awaiting_approval" || isRunningEngineering) {
    const project = await deps.store.projects.get(run.projectId);
    if (project.status === "building") await deps.store.projects.setStatus(project.id, "draft");
  }
  return cancelled;
}
