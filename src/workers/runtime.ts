/**
 * Where a worker's commands run. A sandbox is created per worker with a workspace and labels; the
 * runtime executes argument arrays in it (never shell strings built by hand), can freeze and thaw
 * everything running in it, and destroys it with all its processes and files.
 */

/** Labels every sandbox carries so a sweeper can tell whose it is. */
export const LABEL_WORKER = "orchestrator.worker.id";
export const LABEL_PROJECT = "orchestrator.project.id";
export const LABEL_RUN = "orchestrator.run.id";

export interface SandboxLimits {
  cpus: number;
  memoryMb: number;
  pids: number;
}

export interface SandboxSpec {
  workerId: string;
  projectId: string;
  runId: string | null;
  /** Extra labels; the three owner labels above are always added by the runtime. */
  labels: Record<string, string>;
  limits: SandboxLimits;
  /**
   * The backend of the agent that will talk to a model here (`claude-code`, `codex`, ...), or null
   * for a sandbox without one (the scripted agent, a Tester's checkout). A runtime that cannot
   * isolate the sandbox refuses one with a model agent unless isolation was turned off on purpose.
   */
  modelAgent: string | null;
}

/** A live sandbox. `workspace` is the path of the workspace as commands inside see it. */
export interface Sandbox {
  readonly id: string;
  readonly workerId: string;
  readonly workspace: string;
  /** The workspace as the orchestrator's host sees it (to seed or inspect files). */
  readonly hostWorkspace: string;
  /** HOME as commands inside see it: writable, private to the sandbox. */
  readonly home: string;
  /**
   * npm's cache as commands inside see it: shared by the sandboxes of one project only and kept
   * when a sandbox is destroyed, so installs do not start empty. Null when the sandbox has none.
   */
  readonly npmCache: string | null;
}

export interface ExecSpec {
  argv: string[];
  /** The complete environment of the command: nothing is inherited from the orchestrator. */
  env: Record<string, string>;
  /** Working directory inside the sandbox; defaults to the workspace. */
  cwd?: string;
  stdin?: string;
  timeoutMs: number;
  /** Called with each complete line of stdout as it arrives (stream-json progress). */
  onStdoutLine?: (line: string) => void;
}

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

/** What a sweep finds: a sandbox and its owner labels. */
export interface SandboxInfo {
  id: string;
  workerId: string;
  labels: Record<string, string>;
}

export interface Runtime {
  readonly kind: "process" | "docker";
  create(spec: SandboxSpec): Promise<Sandbox>;
  /** Looks up a sandbox created earlier (also by a previous process), or null when it is gone. */
  attach(workerId: string): Promise<Sandbox | null>;
  /** Runs a command to completion or until `timeoutMs`, then kills everything it started. */
  exec(sandbox: Sandbox, spec: ExecSpec): Promise<ExecResult>;
  /** Freezes every process in the sandbox (no CPU time while paused). */
  pause(sandbox: Sandbox): Promise<void>;
  resume(sandbox: Sandbox): Promise<void>;
  /** Kills everything in the sandbox and removes it with its workspace. Idempotent. */
  destroy(sandbox: Sandbox): Promise<void>;
  /** Every sandbox this runtime finds carrying our labels, live or left over. */
  list(): Promise<SandboxInfo[]>;
  /** Removes a sandbox known only by its info (orphans found by `list`). */
  remove(info: SandboxInfo): Promise<void>;
  /** CPU time used so far by everything in the sandbox, in milliseconds (pause checks, stats). */
  cpuTimeMs(sandbox: Sandbox): Promise<number>;
}
