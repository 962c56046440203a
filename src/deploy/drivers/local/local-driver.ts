import { mkdir, rm } from "node:fs/promises";
import { z } from "zod";
import { AppError, Id, parseOrThrow, type Server } from "../../../contracts/index.js";
import type { Logger } from "../../../observability/index.js";
import { isLocalPortFree } from "../../allocation/index.js";
import {
  type BuildSpec,
  type DeployDriver,
  type DeployTarget,
  RELEASES_KEPT,
  type RecoveryContext,
  type RecoveryReport,
  type Release,
  type RunSpec,
  type TeardownOptions,
} from "../../driver.js";
import { KeyedLock } from "../../keyed-lock.js";
import { type AdoptCandidate, adoptCandidates, type RecordedRun, readRecordedRuns } from "./adoption.js";
import { STOP_GRACE_MS } from "./child-command.js";
import { BuildSpecInput, LocalDriverSettings, MAX_LOG_LINES, ProjectInput, RunSpecInput } from "./inputs.js";
import { ProjectLayout, readRecord, removeRecord } from "./layout.js";
import type { LineRing } from "./line-ring.js";
import { lastLogFile, tailFile } from "./log-files.js";
import type { LocalDriverOptions, LocalRunning } from "./options.js";
import { endLeftover } from "./orphans.js";
import type { ReleaseOwnership, Taken } from "./ownership.js";
import { DEFAULT_RESTART_POLICY, type RestartPolicy, type SupervisedProcess } from "./process-supervisor.js";
import { LocalRecovery } from "./recovery.js";
import { superviseRelease } from "./release-process.js";
import { buildRelease, listBuilt, pruneReleases, readBuilt, releaseIdFor } from "./releases.js";

/** Default bounds on a release's install and build commands. */
export const INSTALL_TIMEOUT_MS = 10 * 60_000;
export const BUILD_TIMEOUT_MS = 10 * 60_000;

interface Supervised {
  proc: SupervisedProcess;
  release: Release;
  port: number | null;
}

/**
 * The embedded deploy driver: releases are folders under `<root>/<projectId>/releases` built from a
 * commit (git archive, install, build), run as supervised processes on this machine, restarted on
 * crash with backoff. `current.json` per project says what should run, so after an orchestrator
 * restart the reconciler adopts it again (see `adoptable`); a process the dead orchestrator left
 * behind is ended first. With `ownership`, a release belongs to the engine that started it and
 * this driver never ends what a live engine owns (see `ReleaseOwnership`).
 */
export class LocalDriver implements DeployDriver {
  readonly kind = "local" as const;
  readonly needsServer = false;
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
  private readonly ownership: ReleaseOwnership | null;
  private readonly recovery: LocalRecovery;

  constructor(options: LocalDriverOptions) {
    const { logger, ownership, ...settings } = options;
    parseOrThrow(LocalDriverSettings, settings, "local driver options");
    this.root = options.root;
    this.logger = logger;
    this.ownership = ownership ?? null;
    this.installTimeoutMs = options.installTimeoutMs ?? INSTALL_TIMEOUT_MS;
    this.buildTimeoutMs = options.buildTimeoutMs ?? BUILD_TIMEOUT_MS;
    this.policy = { ...DEFAULT_RESTART_POLICY, ...options.restart };
    this.stopGraceMs = options.stopGraceMs ?? STOP_GRACE_MS;
    this.recovery = new LocalRecovery(this, this.root, logger);
  }

  /** Releases run on this machine, whatever record stands for it; the gate calls loopback. */
  target(_server: Server): DeployTarget {
    return { server: null, host: "127.0.0.1" };
  }

  dataDir(projectId: string): string {
    return new ProjectLayout(this.root, parseOrThrow(Id, projectId, "projectId")).dataDir;
  }

  async teardown(projectId: string, _server: Server | null, opts: TeardownOptions): Promise<void> {
    await this.stop(projectId, null);
    if (!opts.deleteData) return;
    const dir = this.dataDir(projectId);
    await this.locks.run(`run:${projectId}`, () => rm(dir, { recursive: true, force: true }));
    this.logger.info({ projectId }, "project data deleted");
  }

  /** Adopts the releases nobody supervises (see `LocalRecovery`). */
  recover(context: RecoveryContext): Promise<RecoveryReport> {
    return this.recovery.recover(context);
  }

  /** Yields what another engine took, then adopts what nobody holds (see `LocalRecovery`). */
  async maintain(context: RecoveryContext): Promise<void> {
    if (!this.closing.signal.aborted) await this.recovery.maintain(context);
  }

  /** Every project's `current.json` under `root` (see `readRecordedRuns`). */
  static recorded(root: string): Promise<RecordedRun[]> {
    return readRecordedRuns(root);
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
    await this.start(spec, async (projectId, want) =>
      this.ownership ? this.ownership.take(projectId, want) : { leftoverPid: null },
    );
  }

  /**
   * Starts a release nobody supervises (its engine stopped or died) under this driver, taking it
   * only from the ownership record as the caller read it, so a deploy a live engine made meanwhile
   * wins. False when another engine changed the record first (nothing was started).
   */
  async adopt(spec: RunSpec, candidate: AdoptCandidate): Promise<boolean> {
    return this.start(spec, async (projectId, want) =>
      this.ownership ? this.ownership.adopt(projectId, candidate.seen, want) : { leftoverPid: null },
    );
  }

  /** Releases this driver may adopt (see `adoptCandidates`), given the `current.json` records. */
  adoptable(recorded: RecordedRun[]): Promise<AdoptCandidate[]> {
    return adoptCandidates(this.ownership, recorded, (projectId) => this.supervised.has(projectId));
  }

  /**
   * The old owner's half of a handover: stops this driver's copy of every project another engine
   * took over (or whose record is gone), then tells the engines waiting on it. Run periodically by
   * the engine; returns the projects stopped.
   */
  async yieldLost(): Promise<string[]> {
    const ownership = this.ownership;
    if (!ownership || this.closing.signal.aborted) return [];
    const stopped: string[] = [];
    for (const projectId of await ownership.toYield([...this.supervised.keys()])) {
      await this.locks.run(`run:${projectId}`, async () => {
        // Read again under the lock: a deploy here may have taken the project back meanwhile.
        const now = await ownership.get(projectId);
        if (ownership.isSelf(now?.owner ?? null)) return;
        const current = this.supervised.get(projectId);
        if (current) {
          this.supervised.delete(projectId);
          await current.proc.stop();
          this.lastOutput.set(projectId, current.proc.output);
          stopped.push(projectId);
          this.logger.warn(
            { projectId, release: current.release.id, owner: now?.owner?.id ?? null },
            "another engine took this release over: stopped this engine's copy",
          );
        }
        if (ownership.isSelf(now?.handover ?? null)) await ownership.acknowledge(projectId);
      });
    }
    return stopped;
  }

  async stop(projectId: string, server: Server | null): Promise<void> {
    parseOrThrow(ProjectInput, { projectId, server }, "stop");
    const layout = new ProjectLayout(this.root, projectId);
    await this.track(
      this.locks.run(`run:${projectId}`, async () => {
        // Taken with nothing to run: a live owner stops its copy, and no engine adopts it after.
        const taken = this.ownership
          ? await this.ownership.take(projectId, { release: null, port: null })
          : null;
        await this.stopCurrent(projectId, layout, taken?.leftoverPid ?? null);
        await removeRecord(layout.recordFile);
        await this.ownership?.relinquish(projectId);
      }),
    );
  }

  isPortFree(port: number): Promise<boolean> {
    return isLocalPortFree(port);
  }

  /** Supervised here: whether its process is up. Owned by another live engine: whether its recorded process is. */
  async isRunning(projectId: string, server: Server | null): Promise<boolean> {
    parseOrThrow(ProjectInput, { projectId, server }, "isRunning");
    const local = this.supervised.get(projectId);
    if (local || !this.ownership) return local?.proc.isAlive ?? false;
    return this.ownership.isRunningElsewhere(projectId, new ProjectLayout(this.root, projectId).releasesDir);
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

  async prune(projectId: string, server: Server | null, keep: number): Promise<number> {
    parseOrThrow(
      ProjectInput.extend({ keep: z.number().int().min(0).max(1000) }),
      { projectId, server, keep },
      "prune",
    );
    const layout = new ProjectLayout(this.root, projectId);
    return this.locks.run(`run:${projectId}`, async () => {
      const protect = new Set<string>();
      const running = this.supervised.get(projectId)?.release.id;
      if (running) protect.add(running);
      const recorded = (await readRecord(layout.recordFile))?.release;
      if (recorded) protect.add(recorded);
      const building = (name: string) => this.building.has(`${projectId}/${name}`);
      // A minute over the bounds for the fetch and archive before the install.
      const unfinishedAfterMs = this.installTimeoutMs + this.buildTimeoutMs + 60_000;
      const doomed = await pruneReleases(layout, keep, protect, building, unfinishedAfterMs);
      if (doomed.length > 0) this.logger.info({ projectId, releases: doomed }, "releases pruned");
      return doomed.length;
    });
  }

  async collectReleases(): Promise<number> {
    let removed = 0;
    // Only what this process supervises: another engine's projects are its own to prune.
    for (const projectId of [...this.supervised.keys()]) {
      if (this.closing.signal.aborted) break;
      removed += await this.prune(projectId, null, RELEASES_KEPT);
    }
    return removed;
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
   * builds under way) and waits for them. `current.json` files stay for the next start; with
   * ownership, the releases are given up so a live engine adopts them at once.
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
    // Only once stopped: an engine adopting earlier would find our process on the port.
    await this.ownership?.giveUpAll();
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

  /**
   * Starts a release as the project's running one: under the project's lock, `take` makes this
   * engine its owner (or says another engine was quicker: null, nothing happens), then what ran is
   * stopped, a process a gone owner left is ended, and the release starts. True when it started.
   */
  private async start(
    spec: RunSpec,
    take: (projectId: string, want: { release: string; port: number | null }) => Promise<Taken | null>,
  ): Promise<boolean> {
    const input = parseOrThrow(RunSpecInput, spec, "run spec");
    const projectId = input.release.projectId;
    const layout = new ProjectLayout(this.root, projectId);
    return this.track(
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
        const taken = await take(projectId, { release: release.id, port: input.port });
        if (!taken) return false;
        await this.stopCurrent(projectId, layout, taken.leftoverPid);
        await mkdir(layout.logsDir, { recursive: true });
        await mkdir(layout.dataDir, { recursive: true, mode: 0o700 });
        const logger = this.logger.child({ projectId, release: release.id });
        const proc = superviseRelease({
          layout,
          release,
          argv: input.manifest.commands.start,
          env: input.env,
          port: input.port,
          policy: this.policy,
          stopGraceMs: this.stopGraceMs,
          logger,
          onPid: (pid) => this.notePid(projectId, pid, logger),
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
        return true;
      }),
    );
  }

  /** Records a (re)started release's pid with its ownership, tracked so `close` waits for it. */
  private notePid(projectId: string, pid: number, logger: Logger): void {
    if (!this.ownership) return;
    const noted = this.ownership.recordPid(projectId, pid).catch((error: unknown) => {
      logger.warn({ err: error }, "cannot record the release's pid in the store");
    });
    this.pending.add(noted);
    void noted.finally(() => this.pending.delete(noted));
  }

  /**
   * Stops what this driver runs for the project and what a gone predecessor left running: the pid
   * in `current.json` and the one the ownership record named (`leftoverPid`), each only while it
   * is still a release process of this project. Called only once this engine holds the project.
   */
  private async stopCurrent(
    projectId: string,
    layout: ProjectLayout,
    leftoverPid: number | null,
  ): Promise<void> {
    const current = this.supervised.get(projectId);
    if (current) {
      this.supervised.delete(projectId);
      await current.proc.stop();
      this.logger.info({ projectId, release: current.release.id }, "release stopped");
    }
    // Once ours is stopped, a recorded pid still alive in this project's releases is not ours.
    const recordedPid = (await readRecord(layout.recordFile))?.pid ?? null;
    for (const pid of new Set([recordedPid, leftoverPid])) {
      if (pid && (await endLeftover(pid, layout.releasesDir, this.stopGraceMs))) {
        this.logger.warn({ projectId, pid }, "ended a release process left by an orchestrator that is gone");
      }
    }
  }
}
