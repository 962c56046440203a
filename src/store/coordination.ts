import type { Instance, InstanceBeat } from "../contracts/index.js";

/*
 * Records processes use to coordinate: heartbeats, owners of local releases, leases of scheduled
 * jobs. Each is judged by the database's clock, so processes on several machines agree.
 */

/** Heartbeats of running processes: who is alive, and who restarted. */
export interface InstanceRepository {
  /** Records that the process is alive for `ttlMs` more (creating its record the first time). */
  beat(input: InstanceBeat): Promise<Instance>;
  get(id: string): Promise<Instance | null>;
  /** Every process with a record, alive or not, by id. */
  list(): Promise<Instance[]>;
  /** A clean stop: removes the record, if it is still this incarnation's. */
  end(id: string, incarnation: string): Promise<void>;
}

/** An orchestrator process as an owner: its instance id and the incarnation that holds the thing. */
export interface OwnerRef {
  id: string;
  incarnation: string;
}

/** Who supervises a project's `local` release (see `ReleaseOwnerRepository`). */
export interface ReleaseOwner {
  projectId: string;
  /** The release that should run; null after a teardown (nothing should run). */
  release: string | null;
  port: number | null;
  /** The engine supervising it; null when it was given up at a clean stop (adoptable at once). */
  owner: OwnerRef | null;
  /** The machine the owner runs it on (where its pid means something). */
  host: string | null;
  /** The leader of the release's process group now; null between restarts or when stopped. */
  pid: number | null;
  /** The previous owner, alive when the project was taken from it, until it has stopped its copy. */
  handover: OwnerRef | null;
  /** Raised by every change of ownership; `claim` compares it. */
  version: number;
  updatedAt: string;
}

/** What a `claim` writes: the new owner, where, what should run, and who must still hand over. */
export interface ReleaseClaim {
  owner: OwnerRef;
  host: string;
  release: string | null;
  port: number | null;
  handover: OwnerRef | null;
}

/**
 * Ownership of local releases among engine processes (principle "ownership is recorded"): one
 * record per project, changed only by compare-and-set, so two engines can never both hold one.
 */
export interface ReleaseOwnerRepository {
  get(projectId: string): Promise<ReleaseOwner | null>;
  /** Every record, by project id. */
  list(): Promise<ReleaseOwner[]>;
  /**
   * Takes the project when its record is still the one the caller read (`seen`, same version), or
   * still absent (`seen` null); the pid starts empty. Null when another writer changed it first.
   */
  claim(projectId: string, seen: ReleaseOwner | null, next: ReleaseClaim): Promise<ReleaseOwner | null>;
  /** Records the release's new pid while `owner` still holds the project; false when it does not. */
  setPid(projectId: string, owner: OwnerRef, pid: number | null): Promise<boolean>;
  /** The previous owner says it stopped its copy: clears the handover mark if it names `from`. */
  ackHandover(projectId: string, from: OwnerRef): Promise<boolean>;
  /** Gives the project up (no owner, no pid; release and port stay): only `owner`'s own. */
  relinquish(projectId: string, owner: OwnerRef): Promise<boolean>;
}

/**
 * Leadership of scheduled jobs among processes: one holder per job at a time, each lease judged by
 * the database's clock so processes whose clocks differ agree on who leads.
 */
export interface JobLeaseRepository {
  /**
   * Takes the job's lease for `ttlMs` when it is free, expired or already `holder`'s (a renewal).
   * True when `holder` holds it now.
   */
  tryAcquire(job: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up at once, only if `holder` holds it, so another process can take over. */
  release(job: string, holder: string): Promise<void>;
  /** The current holder of an unexpired lease, or null. */
  holder(job: string): Promise<string | null>;
}
