import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import {
  type AgentConfig,
  type AgentResult,
  AppError,
  type AgentBackend as BackendName,
  parseOrThrow,
  type Worker,
  type WorkerRuntime,
  type WorkerState,
} from "../contracts/index.js";
import { inSpan, type TraceSpan } from "../observability/index.js";
import { sumUsage } from "./accounting.js";
import type { AgentBackend, TurnRequest } from "./backend.js";
import { WorkerCredentials } from "./credentials.js";
import { runCommand } from "./exec.js";
import { LABEL_NODE, type LoopOutcome, type WorkerManagerDeps } from "./manager-deps.js";
import {
  invokeTurn,
  isRunBudgetSpent,
  markTurn,
  type TurnCall,
  workerAttributes,
  workerLogger,
} from "./manager-turn.js";
import { ROLE_BUILTIN_TOOLS } from "./role-tools.js";
import type { Runtime, Sandbox } from "./runtime.js";
import { sandboxFilePath } from "./sandbox-files.js";
import { decideSession, freshSessionPrompt, REPORT_REMINDER } from "./sessions.js";
import { CreateWorkerSpec, ExecCall, type ExecOptions, type ExecOutcome, SendOptions } from "./spec.js";
import { LineRing, type StreamEvent } from "./turn.js";

export { LABEL_NODE, type LoopOutcome, nodeOf, type WorkerManagerDeps } from "./manager-deps.js";

/**
 * Creates agent workers for a role on a project, runs headless turns in their sandboxes and manages
 * their life. The store holds each worker's record and state; the runtime holds its sandbox; a turn
 * always ends in a typed `AgentResult`, and success needs the agent's own report.
 */
export class WorkerManager {
  /** `progress` (StreamEvent) while turns run; `state` on every state change. */
  readonly events = new EventEmitter<{
    progress: [StreamEvent];
    state: [{ workerId: string; from: WorkerState; to: WorkerState }];
  }>();
  private readonly credentials: WorkerCredentials;
  private readonly outputs = new Map<string, LineRing>();
  private readonly busy = new Set<string>();
  /** The config version each worker's last turn was recorded on, so a run tells each version once. */
  private readonly versionsTold = new Map<string, number>();

  /** See `WorkerManagerDeps.node`. */
  readonly node: string;

  constructor(private readonly deps: WorkerManagerDeps) {
    this.node = deps.node ?? "local";
    this.credentials = new WorkerCredentials(deps);
  }

  async create(input: CreateWorkerSpec): Promise<Worker> {
    const spec = parseOrThrow(CreateWorkerSpec, input, "worker spec");
    const runtimeKind = spec.runtime ?? this.deps.defaultRuntime;
    const runtime = this.runtime(runtimeKind);
    if (spec.backend !== "none") this.backend(spec.backend);
    await this.deps.store.projects.get(spec.projectId);
    const worker = await this.deps.store.workers.create({
      role: spec.role,
      backend: spec.backend,
      runtime: runtimeKind,
      projectId: spec.projectId,
      runId: spec.runId,
      labels: { "orchestrator.capabilities": spec.capabilities.join(","), [LABEL_NODE]: this.node },
      // The Settings page may have changed the hard TTL since start; a new worker takes it.
      expiresAt: new Date(Date.now() + (await this.hardTtlMs())).toISOString(),
    });
    try {
      const sandbox = await runtime.create({
        workerId: worker.id,
        projectId: worker.projectId,
        runId: worker.runId,
        labels: worker.labels,
        limits: spec.limits,
        modelAgent: spec.backend === "scripted" || spec.backend === "none" ? null : spec.backend,
      });
      const base = await this.credentials.prepare(worker, runtime, sandbox);
      await this.credentials.setExtraEnv(worker, runtime, sandbox, base, spec.env);
      return await this.setState(worker.id, "running");
    } catch (error) {
      await this.setState(worker.id, "failed").catch(() => undefined);
      throw error instanceof AppError
        ? error
        : new AppError("unavailable", "sandbox_failed", "could not create the worker's sandbox", {
            cause: error,
          });
    }
  }

  /**
   * Runs one headless turn. A paused worker is resumed first. A turn that ends without a report is
   * resumed once with a reminder; if there is still no report it fails with `no_report`. After the
   * turn the worker is paused until the next message.
   */
  send(workerId: string, message: string, options: SendOptions = {}): Promise<AgentResult> {
    return inSpan("worker.turn", { "worker.id": workerId }, async (span) => {
      const result = await this.#send(workerId, message, options, span);
      markTurn(span, result);
      return result;
    });
  }

  async #send(
    workerId: string,
    message: string,
    options: SendOptions,
    span: TraceSpan,
  ): Promise<AgentResult> {
    const opts = parseOrThrow(SendOptions, options, "send options");
    if (!message.trim())
      throw new AppError("invalid", "invalid_input", "empty message", {
        details: [{ path: "message", message: "required" }],
      });
    this.claim(workerId);
    try {
      let worker = await this.live(workerId);
      const agent = agentOf(worker);
      span.setAttributes(workerAttributes(worker, agent));
      const { runtime, sandbox } = await this.sandboxOf(worker);
      if (worker.state === "paused") worker = await this.resume(workerId);
      const config = await this.deps.store.agentConfigs.get(worker.role);
      await this.tellConfigUsed(worker, config);
      const project = await this.deps.store.projects.get(worker.projectId);
      const env = await this.credentials.turnEnv(worker, runtime, sandbox);
      const decision = decideSession(worker, opts.resume, await this.sessionLimits(), Date.now());
      const newSessionId = decision.resume ? null : randomUUID();
      await this.deps.store.workers.setReport(worker.id, null);
      const turn = {
        prompt: decision.resume ? message : freshSessionPrompt(project.name, project.summary, message),
        resumeSessionId: decision.resume ? decision.sessionId : null,
        newSessionId,
        model: config.model,
        systemPrompt: config.prompt || null,
        maxTurns: opts.maxTurns ?? config.maxTurns,
        budgetUsd: opts.budgetUsd ?? config.budgetUsd,
        mcpConfigPath: sandboxFilePath(sandbox, "mcp.json"),
        workspace: sandbox.workspace,
        builtinTools: ROLE_BUILTIN_TOOLS[worker.role],
      };
      const timeoutMs = opts.timeoutMs ?? config.timeoutMs;
      const call = { worker, agent, runtime, sandbox, env, timeoutMs };
      let result = await this.invoke(call, turn);
      let context = result.usage;
      let report = (await this.deps.store.workers.get(worker.id)).report;
      const isFirstTurnOk = result.ok;
      if (isFirstTurnOk && !report && result.sessionId) {
        const reminder = {
          ...turn,
          prompt: REPORT_REMINDER,
          resumeSessionId: result.sessionId,
          newSessionId: null,
        };
        const again = await this.invoke(call, reminder);
        report = (await this.deps.store.workers.get(worker.id)).report;
        context = again.usage;
        result = sumUsage(again, result);
      }
      if (!report && isFirstTurnOk) {
        result = {
          ...result,
          ok: false,
          stopReason: "no_report",
          error: { code: "no_report", message: "agent exited without reporting" },
        };
      }
      await this.deps.store.workers.touch(worker.id, {
        sessionId: result.sessionId ?? worker.sessionId,
        contextTokens: context.inputTokens + context.cacheReadTokens,
      });
      await this.afterTurn(worker, runtime, sandbox);
      if (!result.ok && (await isRunBudgetSpent(this.deps.store, worker))) {
        // Not the agent's failure: the run pauses for an admin, and this turn is asked again.
        throw new AppError(
          "conflict",
          "run_budget_exhausted",
          `the run's model budget is spent (${result.error?.message ?? result.stopReason})`,
        );
      }
      return { ...result, report };
    } finally {
      this.busy.delete(workerId);
    }
  }

  /** The seed's loop: re-invoke the same session with the goal until the report says complete. */
  async runUntilComplete(
    workerId: string,
    goal: string,
    opts: { maxIterations: number } & SendOptions,
  ): Promise<LoopOutcome> {
    const { maxIterations, ...send } = opts;
    if (!Number.isInteger(maxIterations) || maxIterations < 1) {
      throw new AppError("invalid", "invalid_input", "invalid loop", {
        details: [{ path: "maxIterations", message: "a positive integer" }],
      });
    }
    let result: AgentResult | null = null;
    for (let i = 1; i <= maxIterations; i++) {
      const prompt = i === 1 ? goal : `Keep working toward the same goal, then report.\n\nGoal:\n${goal}`;
      result = await this.send(workerId, prompt, send);
      if (result.report?.status === "complete") return { result, iterations: i, isComplete: true };
      if (result.report?.status === "blocked") return { result, iterations: i, isComplete: false };
    }
    return { result: result as AgentResult, iterations: maxIterations, isComplete: false };
  }

  /**
   * Runs one command (an argument array, no shell) in the worker's sandbox with the environment its
   * turns get, plus `options.env`. A paused worker's sandbox is thawed for the command and frozen
   * again after it; its record stays `paused` (with the activity noted), so a command between turns
   * writes no pair of state changes to the run's journal. A command that fails is an outcome (its
   * exit code), not an error. The only way to use a worker without an agent (backend `none`).
   */
  async exec(workerId: string, argv: string[], options: ExecOptions = {}): Promise<ExecOutcome> {
    const call = parseOrThrow(ExecCall, { ...options, argv }, "exec");
    this.claim(workerId);
    try {
      const worker = await this.live(workerId);
      const { runtime, sandbox } = await this.sandboxOf(worker);
      const wasPaused = worker.state === "paused";
      if (wasPaused) await runtime.resume(sandbox);
      try {
        const env = await this.credentials.turnEnv(worker, runtime, sandbox);
        return await runCommand({ runtime, sandbox, call, env, log: this.ring(workerId) });
      } finally {
        await this.afterExec(worker, runtime, sandbox, wasPaused);
      }
    } finally {
      this.busy.delete(workerId);
    }
  }

  async pause(workerId: string): Promise<Worker> {
    const worker = await this.live(workerId);
    if (worker.state === "paused") return worker;
    const { runtime, sandbox } = await this.sandboxOf(worker);
    await runtime.pause(sandbox);
    return this.setState(workerId, "paused");
  }

  async resume(workerId: string): Promise<Worker> {
    const worker = await this.live(workerId);
    if (worker.state !== "paused") return worker;
    const { runtime, sandbox } = await this.sandboxOf(worker);
    await runtime.resume(sandbox);
    return this.setState(workerId, "running");
  }

  /** Stops the worker for good: sandbox and workspace removed, tokens revoked. Idempotent. */
  async terminate(workerId: string, reason = "terminated"): Promise<Worker> {
    const worker = await this.deps.store.workers.get(workerId);
    const runtime = this.deps.runtimes[worker.runtime];
    const sandbox = runtime ? await runtime.attach(worker.id) : null;
    if (runtime && sandbox) await runtime.destroy(sandbox);
    await this.deps.store.apiTokens.revokeForWorker(worker.id);
    this.forget(worker.id);
    workerLogger(this.deps.logger, worker).info({ reason }, "worker terminated");
    if (worker.state === "stopped" || worker.state === "failed" || worker.state === "gone") return worker;
    return this.setState(workerId, "stopped");
  }

  async status(workerId: string): Promise<Worker & { hasSandbox: boolean; isBusy: boolean }> {
    const worker = await this.deps.store.workers.get(workerId);
    const runtime = this.deps.runtimes[worker.runtime];
    const hasSandbox = runtime ? (await runtime.attach(worker.id)) !== null : false;
    return { ...worker, hasSandbox, isBusy: this.busy.has(workerId) };
  }

  /** Marks a worker whose sandbox vanished (found by the sweeper) and revokes its token. */
  async markGone(workerId: string): Promise<Worker> {
    await this.deps.store.apiTokens.revokeForWorker(workerId);
    this.forget(workerId);
    try {
      return await this.setState(workerId, "gone");
    } catch (error) {
      // Ended meanwhile (its run terminated it between the sweep's read and its look at the
      // sandboxes): there is nothing left to mark.
      const now = await this.deps.store.workers.get(workerId);
      if (now.state === "stopped" || now.state === "failed" || now.state === "gone") return now;
      throw error;
    }
  }

  isBusy(workerId: string): boolean {
    return this.busy.has(workerId);
  }

  /** The last `lines` lines of output this process saw from the worker's turns. */
  logs(workerId: string, lines = 200): string[] {
    return this.outputs.get(workerId)?.tail(lines) ?? [];
  }

  list(
    filter: {
      projectId?: string;
      state?: Worker["state"];
      role?: Worker["role"];
      limit?: number;
      offset?: number;
    } = {},
  ) {
    return this.deps.store.workers.list({ ...filter, limit: filter.limit ?? 50, offset: filter.offset ?? 0 });
  }

  private invoke(call: TurnCall, turn: TurnRequest) {
    const emit = (event: StreamEvent) => this.events.emit("progress", event);
    const ctx = { deps: this.deps, backend: this.backend(call.agent), log: this.ring(call.worker.id), emit };
    return invokeTurn(ctx, call, turn);
  }

  /** After a turn: pause the worker, or mark it gone when its sandbox did not survive. */
  private async afterTurn(worker: Worker, runtime: Runtime, sandbox: Sandbox): Promise<void> {
    if ((await runtime.attach(worker.id)) === null) {
      await this.setState(worker.id, "gone");
      this.forget(worker.id);
      return;
    }
    await runtime.pause(sandbox);
    await this.setState(worker.id, "paused");
  }

  /** After a command: the sandbox back to how it was (frozen or running), or the worker gone with it. */
  private async afterExec(worker: Worker, runtime: Runtime, sandbox: Sandbox, wasPaused: boolean) {
    if ((await runtime.attach(worker.id)) === null) {
      await this.setState(worker.id, "gone");
      this.forget(worker.id);
      return;
    }
    if (wasPaused) await runtime.pause(sandbox);
    await this.deps.store.workers.touch(worker.id, {});
  }

  /** One turn or command at a time per worker; the sweeper leaves a busy worker alone. */
  private claim(workerId: string): void {
    if (this.busy.has(workerId))
      throw new AppError(
        "conflict",
        "worker_busy",
        `worker ${workerId} is already running a turn or command`,
      );
    this.busy.add(workerId);
  }

  private async live(workerId: string): Promise<Worker> {
    const worker = await this.deps.store.workers.get(workerId);
    if (worker.state === "stopped" || worker.state === "failed" || worker.state === "gone") {
      throw new AppError("conflict", "worker_ended", `worker ${workerId} is ${worker.state}`);
    }
    return worker;
  }

  private async sandboxOf(worker: Worker): Promise<{ runtime: Runtime; sandbox: Sandbox }> {
    const runtime = this.runtime(worker.runtime);
    const sandbox = await runtime.attach(worker.id);
    if (!sandbox) {
      await this.setState(worker.id, "gone");
      this.forget(worker.id);
      throw new AppError("conflict", "worker_gone", `the sandbox of worker ${worker.id} no longer exists`);
    }
    return { runtime, sandbox };
  }

  private runtime(kind: WorkerRuntime): Runtime {
    const runtime = this.deps.runtimes[kind];
    if (!runtime)
      throw new AppError("invalid", "runtime_unavailable", `runtime ${kind} is not configured here`, {
        details: [{ path: "runtime", message: "not configured" }],
      });
    return runtime;
  }

  private backend(name: BackendName): AgentBackend {
    const backend = this.deps.backends[name];
    if (!backend)
      throw new AppError("invalid", "backend_unavailable", `agent backend ${name} is not configured here`, {
        details: [{ path: "backend", message: "not configured" }],
      });
    return backend;
  }

  /** Every state change goes through here: stored, then told as a run event and a local event. */
  private async setState(workerId: string, to: WorkerState): Promise<Worker> {
    const before = await this.deps.store.workers.get(workerId);
    const after = await this.deps.store.workers.setState(workerId, to);
    const change = { workerId, from: before.state, to };
    this.events.emit("state", change);
    if (after.runId)
      await this.deps.journal.append({
        runId: after.runId,
        type: "worker.state_changed",
        data: change,
      });
    return after;
  }

  /** `WORKER_HARD_TTL`, or the value an admin stored on the Settings page. */
  private async hardTtlMs(): Promise<number> {
    return (await this.deps.store.settings.get("workerHardTtlMs")) ?? this.deps.hardTtlMs;
  }

  /** The session limits, with the idle age an admin stored on the Settings page, if any. */
  private async sessionLimits(): Promise<WorkerManagerDeps["session"]> {
    const maxAgeMs = await this.deps.store.settings.get("agentSessionMaxAgeMs");
    return maxAgeMs === null ? this.deps.session : { ...this.deps.session, maxAgeMs };
  }

  /**
   * Records on the worker's run which saved version of its node's config the turn runs on
   * ("developer v3"), once per worker and version: a run's events then name every version it used.
   */
  private async tellConfigUsed(worker: Worker, config: AgentConfig): Promise<void> {
    if (!worker.runId || this.versionsTold.get(worker.id) === config.version) return;
    await this.deps.journal.append({
      runId: worker.runId,
      type: "agent_config.used",
      data: {
        node: config.node,
        version: config.version,
        workerId: worker.id,
        backend: worker.backend,
        model: config.model,
      },
    });
    this.versionsTold.set(worker.id, config.version);
  }

  private ring(workerId: string): LineRing {
    let ring = this.outputs.get(workerId);
    if (!ring) {
      ring = new LineRing(undefined, this.deps.redactor ?? null);
      this.outputs.set(workerId, ring);
    }
    return ring;
  }

  private forget(workerId: string): void {
    this.credentials.forget(workerId);
    this.versionsTold.delete(workerId);
  }
}

/** The worker's agent backend; a worker without one (backend `none`) refuses turns. */
function agentOf(worker: Worker): BackendName {
  if (worker.backend === "none")
    throw new AppError("conflict", "no_agent", `worker ${worker.id} has no agent; only exec runs in it`);
  return worker.backend;
}
