import { spawn } from "node:child_process";
import { StringDecoder } from "node:string_decoder";
import { AppError } from "../../contracts/index.js";
import type { ExecResult } from "../runtime.js";

/** How much of each output stream an exec keeps (the end of it). */
export const OUTPUT_LIMIT_BYTES = 1024 * 1024;
/** A stdout line longer than this is handed to `onStdoutLine` in pieces. */
const LINE_LIMIT_CHARS = 8 * 1024 * 1024;
/** After the command exits, how long its output pipes may stay open (held by an escaped child). */
const CLOSE_WAIT_MS = 2_000;

/** One child process to run: the command as data plus the hooks the runtime uses to track it. */
export interface ChildRun {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  stdin?: string;
  timeoutMs: number;
  killGraceMs: number;
  onStdoutLine?: (line: string) => void;
  /** Called synchronously once the child has a pid (its process group id too: it is detached). */
  onSpawn(pid: number): void;
  /** Called once the run is over, whatever the outcome. */
  onDone(pid: number): void;
  /** Signals everything the command started while it still runs (group and descendants). */
  signalTree(pid: number, signal: NodeJS.Signals): Promise<void>;
  /** Signals what is left of the group after the command exited (descendants are reparented). */
  signalGroup(pid: number, signal: NodeJS.Signals): void;
  /** Reports a failure inside a background step (a kill that could not be sent). */
  onError(error: unknown): void;
}

/**
 * Runs a child in its own process group with exactly the given environment, feeds and closes
 * stdin, keeps the last `OUTPUT_LIMIT_BYTES` of each stream and streams stdout lines. On timeout it
 * sends SIGTERM to everything the command started and SIGKILL after the grace period. When the
 * command exits, whatever it left running in its group is killed: an exec never outlives itself.
 */
export function runChild(run: ChildRun): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    const started = Date.now();
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(run.command, run.args, {
        cwd: run.cwd,
        env: run.env,
        detached: true,
        stdio: ["pipe", "pipe", "pipe"],
      });
    } catch (cause) {
      reject(new AppError("invalid", "invalid_exec", "the command could not be started", { cause }));
      return;
    }
    const stdout = new TailBuffer(OUTPUT_LIMIT_BYTES);
    const stderr = new TailBuffer(OUTPUT_LIMIT_BYTES);
    const lines = new LineSplitter(run.onStdoutLine);
    const pid = child.pid;
    let timedOut = false;
    let settled = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    const timers: NodeJS.Timeout[] = [];

    const finish = (code: number | null, signal: NodeJS.Signals | null, error?: string) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      lines.end();
      if (pid !== undefined) run.onDone(pid);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({
        exitCode: code,
        signal,
        stdout: stdout.text(),
        stderr: error ? `${stderr.text()}${error}\n` : stderr.text(),
        timedOut,
        durationMs: Date.now() - started,
      });
    };

    child.stdout?.on("data", (chunk: Buffer) => {
      stdout.push(chunk);
      lines.push(chunk);
    });
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
    // EPIPE when the command exits without reading its input: not an error of the run.
    child.stdin?.on("error", () => {});
    child.stdin?.end(run.stdin ?? "");

    child.on("error", (error) => {
      // Only a failed spawn gets here without a pid (e.g. the program does not exist).
      if (pid === undefined) finish(127, null, `cannot run ${run.command}: ${error.message}`);
    });
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      if (pid !== undefined) run.signalGroup(pid, "SIGKILL");
      timers.push(setTimeout(() => finish(code, signal), CLOSE_WAIT_MS));
    });
    child.on("close", (code, signal) => {
      // A failed spawn is finished by the "error" handler, with its reason.
      if (pid !== undefined) finish(exit?.code ?? code, exit?.signal ?? signal);
    });

    if (pid === undefined) return;
    run.onSpawn(pid);
    timers.push(
      setTimeout(() => {
        timedOut = true;
        run.signalTree(pid, "SIGTERM").catch(run.onError);
        timers.push(
          setTimeout(() => {
            if (!settled) run.signalTree(pid, "SIGKILL").catch(run.onError);
          }, run.killGraceMs),
        );
      }, run.timeoutMs),
    );
  });
}

/** Keeps the last `limit` bytes of a stream. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit && this.chunks.length > 0) {
      const first = this.chunks[0] as Buffer;
      const excess = this.size - this.limit;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

/** Splits a byte stream into text lines (without the newline) for a callback; the last partial line is flushed at the end. */
class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private partial = "";

  constructor(private readonly onLine?: (line: string) => void) {}

  push(chunk: Buffer): void {
    if (!this.onLine) return;
    this.partial += this.decoder.write(chunk);
    let newline = this.partial.indexOf("\n");
    while (newline >= 0) {
      this.emit(this.partial.slice(0, newline));
      this.partial = this.partial.slice(newline + 1);
      newline = this.partial.indexOf("\n");
    }
    if (this.partial.length > LINE_LIMIT_CHARS) {
      this.emit(this.partial);
      this.partial = "";
    }
  }

  end(): void {
    if (!this.onLine) return;
    this.partial += this.decoder.end();
    if (this.partial) this.emit(this.partial);
    this.partial = "";
  }

  private emit(line: string): void {
    try {
      this.onLine?.(line.endsWith("\r") ? line.slice(0, -1) : line);
    } catch {
      // A failing listener must not break the run; its owner logs what it needs.
    }
  }
}
