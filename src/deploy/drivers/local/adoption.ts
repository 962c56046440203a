import { readdir } from "node:fs/promises";
import { Id } from "../../../contracts/index.js";
import type { ReleaseOwner } from "../../../store/index.js";
import { ProjectLayout, type RunRecord, readRecord } from "./layout.js";
import type { ReleaseOwnership } from "./ownership.js";

/** A project's `current.json`: the release that should run after an orchestrator restart. */
export interface RecordedRun extends RunRecord {
  projectId: string;
}

/**
 * Every project's `current.json` under `root`: what ran when the orchestrator stopped. The
 * reconciler resolves each one's environment again and adopts it.
 */
export async function readRecordedRuns(root: string): Promise<RecordedRun[]> {
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

/**
 * A release nobody supervises that a driver may start again (`LocalDriver.adopt`): what should
 * run, on which port, and the ownership record as read (null: no engine ever claimed it).
 */
export interface AdoptCandidate {
  projectId: string;
  release: string;
  port: number | null;
  seen: ReleaseOwner | null;
}

/**
 * What a driver may adopt. Without ownership: every recorded release it does not run (after a
 * restart, all were its own). With it: those whose owner is gone or gave them up, and records no
 * engine ever claimed (written before ownership was kept).
 */
export async function adoptCandidates(
  ownership: ReleaseOwnership | null,
  recorded: RecordedRun[],
  isSupervised: (projectId: string) => boolean,
): Promise<AdoptCandidate[]> {
  const fromRecords = (records: RecordedRun[]) =>
    records
      .filter((r) => !isSupervised(r.projectId))
      .map((r) => ({ projectId: r.projectId, release: r.release, port: r.port, seen: null }));
  if (!ownership) return fromRecords(recorded);
  const records = await ownership.records();
  const claimed = new Set(records.map((r) => r.projectId));
  const owned: AdoptCandidate[] = [];
  for (const seen of await ownership.adoptable(records)) {
    if (seen.release !== null && !isSupervised(seen.projectId)) {
      owned.push({ projectId: seen.projectId, release: seen.release, port: seen.port, seen });
    }
  }
  return [...owned, ...fromRecords(recorded.filter((r) => !claimed.has(r.projectId)))];
}
