import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { AppError, type Argv } from "../../../contracts/index.js";
import type { Logger } from "../../../observability/index.js";
import { signalGroup } from "./child-command.js";
import { LineRing } from "./line-ring.js";

/**
 * When a supervised process that should run exits, it is started again after `initialDelayMs`,
 * doubling per consecutive exit up to `maxDelayMs`; an uptime of `resetAfterMs` forgives the past.
 * After `maxRestarts` consecutive restarts it is left down (a crash loop, not a hiccup).
 */
export interface RestartPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  resetAfterMs: number;
  maxRestarts: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  resetAfterMs: 60_000,
  maxRestarts: 10,
};

/** Delay before the `consecutive`-th restart in a row (1-based): 1 s, 2 s, 4 s ... capped. */
export function restartDelayMs(consecutive: number, policy: RestartPolicy): number {
  return Math.min(policy.initialDelayMs * 2 ** Math.max(0, consecutive - 1), policy.maxDelayMs);
}

/** `running`: a process is up; `backoff`: waiting to restart; `crashed`: gave up; `stopped`: on purpose. */
export type SupervisedState = "running" | "backoff" | "crashed" | "stopped";

export interface SupervisedProcessOptions {
  argv: Argv;
  cwd: string;
  /** The child's whole environment (nothing of the parent's is added). */
  env: Record<string, string>;
  /** Output (and the supervisor's notes) is appended here, across restarts. */
  logFile: string;
  policy: RestartPolicy;
  stopGraceMs: number;
  /** Lines kept in memory for `output`. */
  outputLines: number;
  logger: Logger;
  /** Called after every successful start (the first and each restart) with the new pid. */
  onSpawn?: (pid: number) => void;
}

/**
 * One command kept running: started in its own process group, output captured into a ring and a
 * log file, restarted with exponential backoff when it exits while wanted, stopped politely and
 * then by force. The supervisor of the `local` deploy driver, one per running release.
 */
export class SupervisedProcess {
  readonly output: LineRing;
  private readonly log: WriteStream;
  private isLogClosed = false;
  private child: ChildProcess | null = null;
  private isWanted = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private spawnedAt = 0;
  private consecutive = 0;
  private crashCount = 0;
  private stateValue: SupervisedState = "stopped";

  constructor(private readonly opts: SupervisedProcessOptions) {
    this.output = new LineRing(opts.outputLines);
    this.log = createWriteStream(opts.logFile, { flags: "a", mode: 0o600 });
    this.log.on("error", (error) => opts.logger.error({ err: error }, "cannot write the release log"));
  }

  get state(): SupervisedState {
    return this.stateValue;
  }

  /** Exits while wanted, over the whole life of this supervisor. */
  get crashes(): number {
    return this.crashCount;
  }

  get pid(): number | null {
    return this.isAlive ? (this.child?.pid ?? null) : null;
  }

  get isAlive(): boolean {
    const child = this.child;
    return child !== null && child.exitCode === null && child.signalCode === null;
  }

  /** Starts the command; resolves once the process runs. Cannot be started: `invalid` `start_failed`. */
  async start(): Promise<void> {
    this.isWanted = true;
    try {
      await this.spawnOnce();
    } catch (error) {
      this.isWanted = false;
      this.stateValue = "stopped";
      await this.closeLog();
      throw new AppError("invalid", "start_failed", `cannot start ${this.opts.argv[0]}`, {
        details: [
          { path: "commands.start", message: error instanceof Error ? error.message : String(error) },
        ],
        cause: error,
      });
    }
  }

  /** Stops supervising and ends the process group: SIGTERM, SIGKILL after the grace. Idempotent. */
  async stop(): Promise<void> {
    this.isWanted = false;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child?.pid !== undefined && this.isAlive) {
      const pid = child.pid;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      signalGroup(pid, "SIGTERM");
      const killTimer = setTimeout(() => signalGroup(pid, "SIGKILL"), this.opts.stopGraceMs);
      await exited;
      clearTimeout(killTimer);
    }
    this.stateValue = "stopped";
    await this.closeLog();
  }

  private spawnOnce(): Promise<void> {
    const [program, ...args] = this.opts.argv;
    const child = spawn(program as string, args, {
      cwd: this.opts.cwd,
      env: this.opts.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new Promise<void>((resolve, reject) => {
      child.once("error", reject);
      child.once("spawn", () => {
        child.off("error", reject);
        child.on("error", (error) => this.opts.logger.error({ err: error }, "supervised process error"));
        // A restart that was already under way when `stop` came: end it at once.
        if (!this.isWanted) {
          if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
          resolve();
          return;
        }
        this.child = child;
        this.spawnedAt = Date.now();
        this.stateValue = "running";
        for (const [name, stream] of [
          ["stdout", child.stdout],
          ["stderr", child.stderr],
        ] as const) {
          stream?.on("data", (chunk: Buffer) => {
            this.output.write(name, chunk.toString("utf8"));
            if (!this.isLogClosed) this.log.write(chunk);
          });
          stream?.on("end", () => this.output.flush(name));
        }
        child.once("exit", (code, signal) => this.onExit(child, code, signal));
        if (child.pid !== undefined) this.opts.onSpawn?.(child.pid);
        resolve();
      });
    });
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    // Whatever the leader left in its group goes with it, so a restart finds the port free.
    if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
    const uptimeMs = Date.now() - this.spawnedAt;
    this.note(`exited (${signal ? `signal ${signal}` : `code ${code}`}) after ${uptimeMs} ms`);
    if (!this.isWanted) return;
    this.crashCount += 1;
    this.consecutive = uptimeMs >= this.opts.policy.resetAfterMs ? 1 : this.consecutive + 1;
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.consecutive > this.opts.policy.maxRestarts) {
      this.isWanted = false;
      this.stateValue = "crashed";
      this.note(`gave up after ${this.opts.policy.maxRestarts} restarts in a row`);
      this.opts.logger.error({ crashes: this.crashCount }, "release keeps crashing: left down");
      return;
    }
    const delayMs = restartDelayMs(this.consecutive, this.opts.policy);
    this.stateValue = "backoff";
    this.note(`restart ${this.consecutive} in ${delayMs} ms`);
    this.opts.logger.warn({ crashes: this.crashCount, delayMs }, "release exited: restarting");
    this.restartTimer = setTimeout(() => {
      if (!this.isWanted) return;
      this.spawnOnce().catch((error: unknown) => {
        this.note(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
        this.crashCount += 1;
        this.consecutive += 1;
        this.scheduleRestart();
      });
    }, delayMs);
  }

  /** A line of the supervisor's own in the output and the log, so restarts show beside the crash. */
  private note(message: string): void {
    const line = `[supervisor ${new Date().toISOString()}] ${message}`;
    this.output.push(line);
    if (!this.isLogClosed) this.log.write(`${line}\n`);
  }

  private async closeLog(): Promise<void> {
    if (this.isLogClosed) return;
    this.isLogClosed = true;
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}
