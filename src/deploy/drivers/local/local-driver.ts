import { mkdir, readdir, rm } from "node:fs/promises";
import { z } from "zod";
import { AppError, Id, parseOrThrow, type Server } from "../../../contracts/index.js";
import type { Logger } from "../../../observability/index.js";
import { isLocalPortFree } from "../../allocation/index.js";
import type { BuildSpec, DeployDriver, Release, RunSpec } from "../../driver.js";
import { KeyedLock } from "../../keyed-lock.js";
import { hostPath, STOP_GRACE_MS } from "./child-command.js";
import { BuildSpecInput, LocalDriverSettings, MAX_LOG_LINES, ProjectInput, RunSpecInput } from "./inputs.js";
import {
  ProjectLayout,
  RECORD_FILE,
  type RunRecord,
  readRecord,
  removeRecord,
  writeRecord,
} from "./layout.js";
import type { LineRing } from "./line-ring.js";
import { lastLogFile, tailFile } from "./log-files.js";
import { endLeftover } from "./orphans.js";
import {
  DEFAULT_RESTART_POLICY,
  type RestartPolicy,
  SupervisedProcess,
  type SupervisedState,
} from "./process-supervisor.js";
import { buildRelease, listBuilt, listUnfinished, readBuilt, releaseIdFor } from "./releases.js";

/** Default bounds on a release's install and build commands. */
export const INSTALL_TIMEOUT_MS = 10 * 60_000;
export const BUILD_TIMEOUT_MS = 10 * 60_000;
/** Output lines of a running release kept in memory for `logs`. */
const OUTPUT_LINES_KEPT = 2_000;

export interface LocalDriverOptions {
  /** `<dataDir>/deploy`: one folder per project with its releases, logs and `current.json`. */
  root: string;
  logger: Logger;
  installTimeoutMs?: number;
  buildTimeoutMs?: number;
  /** Restart backoff of crashed releases (defaults: 1 s doubling to 30 s, reset after 60 s up). */
  restart?: Partial<RestartPolicy>;
  /** SIGTERM to SIGKILL grace when a release is stopped. */
  stopGraceMs?: number;
}

/** A project the driver supervises now: what runs, its current pid (null between restarts). */
export interface LocalRunning {
  projectId: string;
  release: string;
  port: number | null;
  pid: number | null;
  state: SupervisedState;
  /** Exits while it should have been running, since this driver started it. */
  crashes: number;
}

/** A project's `current.json`: the release that should run after an orchestrator restart. */
export interface RecordedRun extends RunRecord {
  projectId: string;
}

interface Supervised {
  proc: SupervisedProcess;
  release: Release;
  port: number | null;
}

/**
 * The embedded deploy driver: releases are folders under `<root>/<projectId>/releases` built from a
 * commit (git archive, install, build), run as supervised processes on this machine, restarted on
 * crash with backoff. `current.json` per project says what should run, so after an orchestrator
 * restart the reconciler calls `run` again (see `recorded`); a process the dead orchestrator left
 * behind is ended first.
 */
export class LocalDriver implements DeployDriver {
  readonly kind = "local" as const;
  private readonly root: string;
  private readonly logger: Logger;
  private readonly installTimeoutMs: number;
  private readonly buildTimeoutMs: number;
  private readonly policy: RestartPolicy;
  private readonly stopGraceMs: number;
  private readonly supervised = new Map<string, Supervised>();
  /** Output of releases stopped by this driver, for `logs` after `stop`. */
  private readonly lastOutput = new Map<string, LineRing>();
  /** `<projectId>/<releaseId>` of builds under way (never pruned). */
  private readonly building = new Set<string>();
  /** Builds, starts and stops under way: `close` waits for them before it ends what runs. */
  private readonly pending = new Set<Promise<unknown>>();
  private readonly locks = new KeyedLock();
  private readonly closing = new AbortController();

  constructor(options: LocalDriverOptions) {
    const { logger, ...settings } = options;
    parseOrThrow(LocalDriverSettings, settings, "local driver options");
    this.root = options.root;
    this.logger = logger;
    this.installTimeoutMs = options.installTimeoutMs ?? INSTALL_TIMEOUT_MS;
    this.buildTimeoutMs = options.buildTimeoutMs ?? BUILD_TIMEOUT_MS;
    this.policy = { ...DEFAULT_RESTART_POLICY, ...options.restart };
    this.stopGraceMs = options.stopGraceMs ?? STOP_GRACE_MS;
  }

  /**
   * Every project's `current.json` under `root`: what ran when the orchestrator stopped. The
   * reconciler resolves each one's environment again and calls `run` with it.
   */
  static async recorded(root: string): Promise<RecordedRun[]> {
    let names: string[];
    try {
      names = await readdir(root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const runs: RecordedRun[] = [];
    for (const projectId of names.sort()) {
      if (!Id.safeParse(projectId).success) continue;
      const record = await readRecord(new ProjectLayout(root, projectId).recordFile);
      if (record) runs.push({ projectId, ...record });
    }
    return runs;
  }

  async build(spec: BuildSpec): Promise<Release> {
    const input = parseOrThrow(BuildSpecInput, spec, "build spec");
    this.assertOpen();
    const layout = new ProjectLayout(this.root, input.projectId);
    return this.track(
      this.locks.run(`build:${input.projectId}`, async () => {
        this.assertOpen();
        const existing = (await listBuilt(layout)).find((release) => release.commit === input.commit);
        if (existing) return existing;
        const id = releaseIdFor(input.commit, new Date());
        const key = `${input.projectId}/${id}`;
        this.building.add(key);
        try {
          const release = await buildRelease({
            layout,
            projectId: input.projectId,
            commit: input.commit,
            source: input.source,
            manifest: input.manifest,
            id,
            installTimeoutMs: this.installTimeoutMs,
            buildTimeoutMs: this.buildTimeoutMs,
            signal: this.closing.signal,
            logger: this.logger.child({ projectId: input.projectId }),
          });
          this.logger.info({ projectId: input.projectId, release: id }, "release built");
          return release;
        } finally {
          this.building.delete(key);
        }
      }),
    );
  }

  async run(spec: RunSpec): Promise<void> {
    const input = parseOrThrow(RunSpecInput, spec, "run spec");
    const projectId = input.release.projectId;
    const layout = new ProjectLayout(this.root, projectId);
    await this.track(
      this.locks.run(`run:${projectId}`, async () => {
        this.assertOpen();
        const release = await readBuilt(layout, input.release.id);
        if (!release) {
          throw new AppError("not_found", "release_not_found", `release ${input.release.id} is not built`, {
            details: [{ path: "release.id", message: "no finished build with this id" }],
          });
        }
        if (release.commit !== input.release.commit) {
          throw new AppError("invalid", "invalid_input", `release ${release.id} is not of that commit`, {
            details: [{ path: "release.commit", message: `the release was built from ${release.commit}` }],
          });
        }
        await this.stopCurrent(projectId, layout);
        await mkdir(layout.logsDir, { recursive: true });
        const startedAt = new Date().toISOString();
        const record = (pid: number | null): RunRecord => ({
          release: release.id,
          commit: release.commit,
          port: input.port,
          startedAt,
          pid,
        });
        const logger = this.logger.child({ projectId, release: release.id });
        const proc = new SupervisedProcess({
          argv: input.manifest.commands.start,
          cwd: release.location,
          env: { ...input.env, PATH: hostPath() },
          logFile: layout.logFile(release.id),
          policy: this.policy,
          stopGraceMs: this.stopGraceMs,
          outputLines: OUTPUT_LINES_KEPT,
          logger,
          onSpawn: (pid) => {
            try {
              writeRecord(layout.recordFile, record(pid));
            } catch (error) {
              logger.error({ err: error }, `cannot update ${RECORD_FILE}`);
            }
          },
        });
        this.lastOutput.set(projectId, proc.output);
        try {
          await proc.start();
        } catch (error) {
          await removeRecord(layout.recordFile);
          throw error;
        }
        this.supervised.set(projectId, { proc, release, port: input.port });
        logger.info({ port: input.port, pid: proc.pid }, "release started");
      }),
    );
  }

  async stop(projectId: string, server: Server | null): Promise<void> {
    parseOrThrow(ProjectInput, { projectId, server }, "stop");
    const layout = new ProjectLayout(this.root, projectId);
    await this.track(
      this.locks.run(`run:${projectId}`, async () => {
        await this.stopCurrent(projectId, layout);
        await removeRecord(layout.recordFile);
      }),
    );
  }

  isPortFree(port: number): Promise<boolean> {
    return isLocalPortFree(port);
  }

  async isRunning(projectId: string, server: Server | null): Promise<boolean> {
    parseOrThrow(ProjectInput, { projectId, server }, "isRunning");
    return this.supervised.get(projectId)?.proc.isAlive ?? false;
  }

  async logs(projectId: string, server: Server | null, lines: number): Promise<string[]> {
    const input = parseOrThrow(
      ProjectInput.extend({ lines: z.number().int().min(1).max(MAX_LOG_LINES) }),
      { projectId, server, lines },
      "logs",
    );
    const ring = this.supervised.get(projectId)?.proc.output ?? this.lastOutput.get(projectId);
    if (ring) return ring.tail(input.lines);
    const layout = new ProjectLayout(this.root, projectId);
    const file = await lastLogFile(layout);
    return file ? tailFile(file, input.lines) : [];
  }

  async releases(projectId: string, server: Server | null): Promise<Release[]> {
    parseOrThrow(ProjectInput, { projectId, server }, "releases");
    return listBuilt(new ProjectLayout(this.root, projectId));
  }

  async prune(projectId: string, server: Server | null, keep: number): Promise<void> {
    parseOrThrow(
      ProjectInput.extend({ keep: z.number().int().min(0).max(1000) }),
      { projectId, server, keep },
      "prune",
    );
    const layout = new ProjectLayout(this.root, projectId);
    await this.locks.run(`run:${projectId}`, async () => {
      const kept = new Set<string>();
      const running = this.supervised.get(projectId)?.release.id;
      if (running) kept.add(running);
      const recorded = (await readRecord(layout.recordFile))?.release;
      if (recorded) kept.add(recorded);
      const built = await listBuilt(layout);
      for (const release of built.slice(0, keep)) kept.add(release.id);
      const doomed = built.filter((release) => !kept.has(release.id)).map((release) => release.id);
      for (const name of await listUnfinished(layout)) {
        if (!this.building.has(`${projectId}/${name}`)) doomed.push(name);
      }
      for (const id of doomed) {
        await rm(layout.releaseDir(id), { recursive: true, force: true });
        await rm(layout.logFile(id), { force: true });
      }
      if (doomed.length > 0) this.logger.info({ projectId, releases: doomed }, "releases pruned");
    });
  }

  /** Projects this driver supervises now, with their current pid (for operators and tests). */
  running(): LocalRunning[] {
    return [...this.supervised.entries()].map(([projectId, entry]) => ({
      projectId,
      release: entry.release.id,
      port: entry.port,
      pid: entry.proc.pid,
      state: entry.proc.state,
      crashes: entry.proc.crashes,
    }));
  }

  /**
   * Shutdown: stops supervising, ends every process this driver started (running releases and
   * builds under way) and waits for them. `current.json` files stay for the next start.
   */
  async close(): Promise<void> {
    if (!this.closing.signal.aborted) this.closing.abort();
    // Aborting kills the builds' commands; a start under way finishes and is stopped below.
    await Promise.allSettled([...this.pending]);
    const entries = [...this.supervised.entries()];
    this.supervised.clear();
    await Promise.all(
      entries.map(async ([projectId, entry]) => {
        await entry.proc.stop();
        this.lastOutput.set(projectId, entry.proc.output);
      }),
    );
  }

  /** Registers an operation `close` must wait for. */
  private async track<T>(operation: Promise<T>): Promise<T> {
    this.pending.add(operation);
    try {
      return await operation;
    } finally {
      this.pending.delete(operation);
    }
  }

  private assertOpen(): void {
    if (this.closing.signal.aborted) {
      throw new AppError("unavailable", "driver_closed", "the local deploy driver is shut down");
    }
  }

  /** Stops what this driver runs for the project, or what a dead predecessor left running. */
  private async stopCurrent(projectId: string, layout: ProjectLayout): Promise<void> {
    const current = this.supervised.get(projectId);
    if (current) {
      this.supervised.delete(projectId);
      await current.proc.stop();
      this.logger.info({ projectId, release: current.release.id }, "release stopped");
      return;
    }
    const pid = (await readRecord(layout.recordFile))?.pid;
    if (pid && (await endLeftover(pid, layout.releasesDir, this.stopGraceMs))) {
      this.logger.warn({ projectId, pid }, "ended a release process left by an earlier orchestrator");
    }
  }
}
