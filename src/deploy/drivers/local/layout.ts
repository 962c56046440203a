import { renameSync, writeFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { AppError, detailsFromZod, Timestamp } from "../../../contracts/index.js";
import { CommitSha } from "../../../git/index.js";

/** A release id: the first 12 hex digits of the commit, then the UTC build time `yyyymmddhhmmss`. */
export const ReleaseId = z
  .string()
  .regex(/^[0-9a-f]{12}-\d{14}$/, "<first 12 of the SHA>-<yyyymmddhhmmss>, e.g. 0123456789ab-20250101120000");

/**
 * Where one project lives under the driver's root (`<dataDir>/deploy/<projectId>`): built releases,
 * their logs, the package managers' cache (HOME of builds), scratch space, the project's data
 * (`DATA_DIR`, kept across releases) and `current.json`.
 */
export class ProjectLayout {
  readonly dir: string;

  constructor(root: string, projectId: string) {
    this.dir = join(root, projectId);
  }

  get releasesDir(): string {
    return join(this.dir, "releases");
  }
  releaseDir(id: string): string {
    return join(this.releasesDir, id);
  }
  /** The marker a finished build leaves in its release folder (the release as JSON). */
  builtMarker(id: string): string {
    return join(this.releaseDir(id), ".built");
  }
  get logsDir(): string {
    return join(this.dir, "logs");
  }
  logFile(releaseId: string): string {
    return join(this.logsDir, `${releaseId}.log`);
  }
  get cacheDir(): string {
    return join(this.dir, "cache");
  }
  /** The project's `DATA_DIR`: outside every release, so it outlives them. */
  get dataDir(): string {
    return join(this.dir, "data");
  }
  get tmpDir(): string {
    return join(this.dir, "tmp");
  }
  get recordFile(): string {
    return join(this.dir, RECORD_FILE);
  }
}

/** Name of the per-project file that says which release should be running. */
export const RECORD_FILE = "current.json";

/**
 * What `current.json` holds: the release that should be running, where, since when, and the pid of
 * its process group (so a restarted orchestrator can end a process its dead predecessor left).
 * Never the environment: that holds secrets and is resolved afresh on every start.
 */
export const RunRecord = z.strictObject({
  release: ReleaseId,
  commit: CommitSha,
  port: z.number().int().min(1).max(65_535).nullable(),
  startedAt: Timestamp,
  pid: z.number().int().positive().nullable(),
});
export type RunRecord = z.infer<typeof RunRecord>;

/** The record, or null when the project has none (nothing should be running). */
export async function readRecord(file: string): Promise<RunRecord | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new AppError("internal", "deploy_record_corrupt", `${file} is not JSON`, { cause });
  }
  const parsed = RunRecord.safeParse(json);
  if (!parsed.success) {
    throw new AppError("internal", "deploy_record_corrupt", `${file} is not a run record`, {
      details: detailsFromZod(parsed.error),
    });
  }
  return parsed.data;
}

/**
 * Replaces the record atomically (write then rename). Synchronous on purpose: it also runs from the
 * supervisor's exit handler, and a sync write cannot interleave with a later `removeRecord`.
 */
export function writeRecord(file: string, record: RunRecord): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

export async function removeRecord(file: string): Promise<void> {
  await rm(file, { force: true });
}
