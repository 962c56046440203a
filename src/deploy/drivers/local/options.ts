import type { Logger } from "../../../observability/index.js";
import type { ReleaseOwnership } from "./ownership.js";
import type { RestartPolicy, SupervisedState } from "./process-supervisor.js";

/** How a `LocalDriver` is set up: where releases live, bounds on their commands, restarts and ownership. */
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
  /**
   * Who owns which release, in the store, when several engines share the data directory. Without
   * it this driver is the only one: every record is its own from before a restart.
   */
  ownership?: ReleaseOwnership;
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
