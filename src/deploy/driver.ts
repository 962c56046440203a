import type { Server, TemplateManifest } from "../contracts/index.js";
import type { GitAccess } from "../git/index.js";

/** The deploy drivers: supervised processes here, or Docker Compose on a server over SSH. */
export type DeployDriverKind = "local" | "ssh-compose";

/** Releases kept per project for rollback (older ones are pruned). */
export const RELEASES_KEPT = 5;

/** What a release is built from: one commit of one project's repository. */
export interface BuildSpec {
  projectId: string;
  /** The project's slug: names folders, compose projects and containers. */
  slug: string;
  /** Full commit SHA. */
  commit: string;
  /** How the orchestrator reads the repository (the forge's `orchestratorAccess`). */
  source: GitAccess;
  /** The manifest read from the repository at `commit`. */
  manifest: TemplateManifest;
  /** Where it runs; `null` for the local driver. */
  server: Server | null;
}

/** A built release: the commit's source with its dependencies installed and its build run. */
export interface Release {
  /** `<first 12 of the SHA>-<build time>`: unique, sortable, names the folder. */
  id: string;
  projectId: string;
  commit: string;
  /** Where the release lives (a folder on this machine or on the server). */
  location: string;
  builtAt: string;
}

/** How to run a release: its resolved environment and the port it must listen on, if any. */
export interface RunSpec {
  release: Release;
  /** Fully resolved environment (secrets included): goes to a 0600 file or a process, never a log. */
  env: Record<string, string>;
  /** The allocated port the service listens on (`PORT` in env), or null for a bot. */
  port: number | null;
  manifest: TemplateManifest;
  slug: string;
  server: Server | null;
}

/** Where a driver runs a release for a server record, and which host its health gate reaches. */
export interface DeployTarget {
  /** The server the driver's methods are given (`null`: the driver runs releases here). */
  server: Server | null;
  /** The host a smoke test calls for an HTTP release. */
  host: string;
}

/** What a teardown does beyond stopping: the person's choice about the project's `DATA_DIR`. */
export interface TeardownOptions {
  /** Delete the project's data (the person chose so); it is kept otherwise, for a later deploy. */
  deleteData: boolean;
}

/**
 * What a driver asks of the deploy records when it brings releases back after a restart: which
 * release should serve, and how to run it again (environment resolved afresh, never stored).
 */
export interface RecoveryContext {
  /** The id of the project's serving release (its healthy deployment), or null when none should run. */
  servingRelease(projectId: string): Promise<string | null>;
  /** The run spec of `release` on `port`, or the settings its environment lacks now. */
  runSpecFor(
    projectId: string,
    release: Release,
    port: number | null,
  ): Promise<{ ok: true; spec: RunSpec } | { ok: false; missing: string[] }>;
}

/** What one recovery pass did: the projects brought back, and those it could not (with why). */
export interface RecoveryReport {
  recovered: string[];
  failed: { projectId: string; release: string; reason: string; missing: string[] }[];
}

/**
 * One way of running projects. A driver builds releases from commits and runs exactly one release
 * per project at a time; the health gate, rollback decisions and records live in the devops graph,
 * which talks to this interface only. Every method validates its input and throws `AppError`.
 */
export interface DeployDriver {
  readonly kind: DeployDriverKind;
  /** Whether releases go to a registered server picked per project (else to this machine's record). */
  readonly needsServer: boolean;
  /** Where releases for `server` (the project's allocated record) run, and what the gate reaches. */
  target(server: Server): DeployTarget;
  /** Builds (or finds, when already built) the release of `spec.commit`. Install or build failure: `invalid` with the output tail. */
  build(spec: BuildSpec): Promise<Release>;
  /** Makes `spec.release` the project's running release: stops what ran, starts this one, returns when started. */
  run(spec: RunSpec): Promise<void>;
  /** Stops the project's running release, if any (idempotent). Releases stay for rollback. */
  stop(projectId: string, server: Server | null): Promise<void>;
  /** Whether nothing listens on TCP `port` where releases run (this machine, or the server). */
  isPortFree(port: number, server: Server | null): Promise<boolean>;
  /** Whether the project's release is running now (process alive / container up). */
  isRunning(projectId: string, server: Server | null): Promise<boolean>;
  /** The last `lines` lines of the running (or last run) release's output. */
  logs(projectId: string, server: Server | null, lines: number): Promise<string[]>;
  /** Releases kept for the project, newest first. */
  releases(projectId: string, server: Server | null): Promise<Release[]>;
  /** Removes all but the newest `keep` releases (never the running one); returns how many it removed. */
  prune(projectId: string, server: Server | null, keep: number): Promise<number>;
  /**
   * Garbage collection (`gc.releases`): prunes, to `RELEASES_KEPT`, the releases of the projects
   * this process runs, with what crashed builds left; never another engine's. Returns how many.
   */
  collectReleases(): Promise<number>;
  /**
   * The value a release sees as `DATA_DIR`: the project's folder kept across releases, restarts
   * and rollbacks (a folder here, a named volume on a server) until a teardown deletes it.
   */
  dataDir(projectId: string): string;
  /**
   * `project.teardown`: stops the project wherever it may still run, given the server of its newest
   * attempt (or null), and deletes its data when asked; a target out of reach (a removed server) is
   * logged and passed by.
   */
  teardown(projectId: string, server: Server | null, opts: TeardownOptions): Promise<void>;
  /** Once after the engine starts: brings back the releases that should run and nobody supervises. */
  recover(context: RecoveryContext): Promise<RecoveryReport>;
  /** One periodic supervision pass (handover and adoption); never throws, logs what fails. */
  maintain(context: RecoveryContext): Promise<void>;
  /** Stops everything the driver runs in this process (shutdown); deployments stay recorded. */
  close(): Promise<void>;
}
