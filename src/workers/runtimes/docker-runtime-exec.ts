import { randomUUID } from "node:crypto";
import type { Duplex } from "node:stream";
import { Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type Dockerode from "dockerode";
import { AppError } from "../../contracts/index.js";
import type { ExecResult, ExecSpec } from "../runtime.js";
import { dockerError, isNotFound } from "./docker-runtime-errors.js";

/**
 * Every exec runs under `setsid -w sh -c WRAPPER pidfile env -u … -- argv`: the command gets its own
 * session (so a timeout can kill its whole process group by the pid recorded in the pidfile), and
 * `env -u` drops the variables the engine adds on its own (PATH, HOSTNAME, HOME) unless the caller
 * gave them, so the command sees exactly `spec.env`. The script is constant: argv is never spliced
 * into a shell string.
 */
const WRAPPER = 'echo $$ >"$0" || exit 125; "$@"; status=$?; rm -f "$0"; exit $status';
/** Kills the process group whose leader's pid is in the pidfile `$0`. */
const KILL_GROUP = 'pid=$(cat "$0" 2>/dev/null) && [ -n "$pid" ] && kill -KILL "-$pid"; rm -f "$0"';
/** Last resort: every process of the sandbox user but PID 1 (an exec that escaped its group). */
const KILL_ALL = "kill -KILL -1";
/** Variables the engine (dockerd/runc) puts into every exec unless they are set explicitly. */
const ENGINE_ADDED_ENV = ["PATH", "HOSTNAME", "HOME", "TERM", "PWD", "SHLVL", "OLDPWD"];
/** How long output may keep flowing after a kill before the stream is cut. */
const KILL_GRACE_MS = 5_000;
const HELPER_TIMEOUT_MS = 10_000;
const EXIT_POLL_MS = 20;
const EXIT_POLL_DEADLINE_MS = 5_000;

/** Collects a stream's text and calls `onLine` with each complete line as it arrives. */
class TextSink extends Writable {
  text = "";
  private readonly decoder = new StringDecoder("utf8");
  private pending = "";

  constructor(private readonly onLine?: (line: string) => void) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.take(this.decoder.write(chunk));
    done();
  }

  /** Flushes a trailing partial line (output that did not end with a newline). */
  finish(): void {
    this.take(this.decoder.end());
    if (this.onLine && this.pending !== "") this.onLine(this.pending);
    this.pending = "";
  }

  private take(text: string): void {
    if (text === "") return;
    this.text += text;
    if (!this.onLine) return;
    const parts = (this.pending + text).split("\n");
    this.pending = parts.pop() ?? "";
    for (const line of parts) this.onLine(line);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when the hijacked stream ends or closes, or with false after `ms` (0 = no limit). */
function ended(stream: Duplex, ms: number): Promise<boolean> {
  if (stream.destroyed || stream.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = ms > 0 ? setTimeout(() => finish(false), ms) : null;
    const finish = (value: boolean) => {
      if (timer) clearTimeout(timer);
      stream.off("end", onEnd);
      stream.off("close", onEnd);
      stream.off("error", onEnd);
      resolve(value);
    };
    const onEnd = () => finish(true);
    stream.once("end", onEnd);
    stream.once("close", onEnd);
    stream.once("error", onEnd);
  });
}

/** Runs a fixed helper script in the container (kill, chmod), waiting for it with a deadline. */
export async function runHelper(container: Dockerode.Container, argv: string[]): Promise<number | null> {
  const exec = await container.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
  const stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
  stream.resume();
  const done = await ended(stream, HELPER_TIMEOUT_MS);
  if (!done) stream.destroy();
  const info = await exec.inspect();
  return info.Running ? null : info.ExitCode;
}

/** Reads the exit code once the engine has noticed the process ended (shortly after the stream). */
async function exitCodeOf(exec: Dockerode.Exec): Promise<number | null> {
  const deadline = Date.now() + EXIT_POLL_DEADLINE_MS;
  for (;;) {
    const info = await exec.inspect();
    if (!info.Running) return info.ExitCode;
    if (Date.now() > deadline) return null;
    await sleep(EXIT_POLL_MS);
  }
}

/**
 * Waits until the engine has really started the exec's process (it reports a pid) or given up on
 * it. Freezing a container while runc is still joining it hangs that runc for good, so a pause
 * must not overlap this window.
 */
async function processStarted(exec: Dockerode.Exec): Promise<void> {
  const deadline = Date.now() + EXIT_POLL_DEADLINE_MS;
  for (;;) {
    const info = (await exec.inspect()) as Dockerode.ExecInspectInfo & { Pid?: number };
    if (!info.Running || (info.Pid ?? 0) > 0 || Date.now() > deadline) return;
    await sleep(EXIT_POLL_MS);
  }
}

/** The argv actually handed to the engine for `spec` (see WRAPPER). */
export function wrappedArgv(spec: ExecSpec, pidFile: string): string[] {
  const unset = ENGINE_ADDED_ENV.filter((name) => !(name in spec.env)).flatMap((name) => ["-u", name]);
  return [
    "/usr/bin/setsid",
    "-w",
    "/bin/sh",
    "-c",
    WRAPPER,
    pidFile,
    "/usr/bin/env",
    ...unset,
    "--",
    ...spec.argv,
  ];
}

/**
 * Runs one command in a running container through the exec API: exactly `spec.env`, stdin written
 * then closed, stdout/stderr demultiplexed, stdout lines streamed. On timeout the command's process
 * group is killed (then, if output still flows, every sandbox process but PID 1) and the result says
 * `timedOut` with signal SIGKILL. Engine failures (paused, gone, unreachable) throw an `AppError`.
 * `onStarted` is called once the process runs (or starting it failed).
 */
export async function dockerExec(
  docker: Dockerode,
  container: Dockerode.Container,
  spec: ExecSpec,
  defaultCwd: string,
  onStarted: () => void = () => {},
): Promise<ExecResult> {
  if (spec.argv.length === 0) throw new AppError("invalid", "invalid_input", "exec needs a non-empty argv");
  const started = Date.now();
  const pidFile = `/tmp/.orchestrator-exec-${randomUUID()}.pid`;
  const hasStdin = spec.stdin !== undefined;
  let exec: Dockerode.Exec;
  let stream: Duplex;
  try {
    exec = await container.exec({
      Cmd: wrappedArgv(spec, pidFile),
      Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
      WorkingDir: spec.cwd ?? defaultCwd,
      AttachStdin: hasStdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    stream = (await exec.start({ hijack: true, stdin: hasStdin })) as Duplex;
    await processStarted(exec);
  } catch (error) {
    throw dockerError(error, "exec");
  } finally {
    onStarted();
  }

  const stdout = new TextSink(spec.onStdoutLine);
  const stderr = new TextSink();
  docker.modem.demuxStream(stream, stdout, stderr);
  if (hasStdin) stream.end(spec.stdin);

  let timedOut = false;
  const done = ended(stream, 0);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), Math.max(1, spec.timeoutMs));
  });
  const outcome = await Promise.race([done.then(() => "done" as const), timeout]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    timedOut = true;
    await runHelper(container, ["/bin/sh", "-c", KILL_GROUP, pidFile]).catch(() => null);
    if (!(await ended(stream, KILL_GRACE_MS))) {
      await runHelper(container, ["/bin/sh", "-c", KILL_ALL]).catch(() => null);
      if (!(await ended(stream, KILL_GRACE_MS))) stream.destroy();
    }
  }
  stdout.finish();
  stderr.finish();

  let exitCode: number | null = null;
  let signal: string | null = timedOut ? "SIGKILL" : null;
  // After a kill the engine may already have dropped the exec: its exit code is moot then.
  if (!timedOut) {
    try {
      exitCode = await exitCodeOf(exec);
    } catch (error) {
      // The sandbox was destroyed under the command: it was killed with it.
      if (!isNotFound(error)) throw dockerError(error, "exec inspect");
      signal = "SIGKILL";
    }
  }
  return {
    exitCode,
    signal,
    stdout: stdout.text,
    stderr: stderr.text,
    timedOut,
    durationMs: Date.now() - started,
  };
}
