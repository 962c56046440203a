import { type AgentResult, AppError } from "../contracts/index.js";
import type { SecretRedactor } from "../observability/index.js";
import type { AgentBackend, TurnRequest } from "./backend.js";
import type { Runtime, Sandbox } from "./runtime.js";

/** A progress event read from an agent's output stream while a turn runs. */
export interface StreamEvent {
  workerId: string;
  kind: string;
  text: string;
}

/**
 * Last lines of a worker's output, kept for `logs`; each line is redacted as it comes in (before it
 * is cut), so what is kept holds no secret the redactor knows.
 */
export class LineRing {
  private readonly lines: string[] = [];
  constructor(
    private readonly capacity = 500,
    private readonly redactor: Pick<SecretRedactor, "redact"> | null = null,
  ) {}
  push(raw: string): void {
    const line = this.redactor ? this.redactor.redact(raw) : raw;
    this.lines.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }
  tail(n: number): string[] {
    return this.lines.slice(-n);
  }
}

/**
 * Runs one headless invocation: builds the command with the backend, executes it in the sandbox
 * with a timeout, forwards stream events and parses the outcome. Never throws: a runtime failure
 * (engine gone, sandbox missing) becomes a failed result with its message.
 */
export async function runInvocation(opts: {
  backend: AgentBackend;
  runtime: Runtime;
  sandbox: Sandbox;
  turn: TurnRequest;
  env: Record<string, string>;
  timeoutMs: number;
  log: LineRing;
  onEvent: (kind: string, text: string) => void;
}): Promise<Omit<AgentResult, "report">> {
  const invocation = opts.backend.invocation(opts.turn);
  const started = Date.now();
  try {
    const output = await opts.runtime.exec(opts.sandbox, {
      argv: invocation.argv,
      env: { ...opts.env, ...invocation.env },
      stdin: invocation.stdin,
      timeoutMs: opts.timeoutMs,
      onStdoutLine: (line) => {
        opts.log.push(line);
        const event = opts.backend.streamEvent?.(line);
        if (event) opts.onEvent(event.kind, event.text);
      },
    });
    for (const line of output.stderr.split("\n").filter(Boolean).slice(-50))
      opts.log.push(`[stderr] ${line}`);
    return opts.backend.parse(output, opts.turn);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      stopReason: "error",
      finalText: "",
      sessionId: opts.turn.resumeSessionId ?? opts.turn.newSessionId,
      model: opts.turn.model,
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
      costUsd: 0,
      costSource: "unknown",
      turns: 0,
      durationMs: Date.now() - started,
      error: { code: error instanceof AppError ? error.code : "runtime_error", message },
    };
  }
}
