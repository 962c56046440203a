import { z } from "zod";
import { AppError } from "./errors.js";

/**
 * A status enum together with the moves it allows. `assertTransition` is the only way code should
 * change a status, so an illegal move (e.g. a failed run becoming succeeded) throws instead of landing.
 */
export interface StatusMachine<S extends string> {
  readonly name: string;
  readonly schema: z.ZodEnum<{ [K in S]: K }>;
  readonly values: readonly S[];
  readonly terminal: readonly S[];
  canTransition(from: S, to: S): boolean;
  assertTransition(from: S, to: S): S;
  isTerminal(status: S): boolean;
}

function machine<const S extends string>(
  name: string,
  values: readonly [S, ...S[]],
  moves: { [K in S]: readonly S[] },
): StatusMachine<S> {
  const schema = z.enum(values as unknown as [S, ...S[]]) as unknown as z.ZodEnum<{ [K in S]: K }>;
  const terminal = values.filter((s) => moves[s].length === 0);
  const canTransition = (from: S, to: S) => moves[from].includes(to);
  return {
    name,
    schema,
    values,
    terminal,
    canTransition,
    isTerminal: (s) => moves[s].length === 0,
    assertTransition(from, to) {
      if (!canTransition(from, to)) {
        throw new AppError("conflict", "illegal_transition", `${name} cannot move from ${from} to ${to}`, {
          details: [{ path: "status", message: `allowed from ${from}: ${moves[from].join(", ") || "none"}` }],
        });
      }
      return to;
    },
  };
}

export const RunStatusMachine = machine(
  "run",
  ["queued", "running", "awaiting_approval", "succeeded", "failed", "blocked", "cancelled"],
  {
    queued: ["running", "cancelled", "failed"],
    running: ["succeeded", "failed", "blocked", "cancelled", "awaiting_approval"],
    // Paused on its budget: an admin grants more (back to running) or stops it.
    awaiting_approval: ["running", "cancelled", "failed"],
    succeeded: [],
    failed: [],
    blocked: [],
    cancelled: [],
  },
);
export const RunStatus = RunStatusMachine.schema;
export type RunStatus = z.infer<typeof RunStatus>;

export const WorkerStateMachine = machine(
  "worker",
  ["starting", "running", "paused", "stopped", "failed", "gone"],
  {
    starting: ["running", "failed", "stopped", "gone"],
    running: ["paused", "stopped", "failed", "gone"],
    paused: ["running", "stopped", "failed", "gone"],
    stopped: [],
    failed: [],
    gone: [],
  },
);
export const WorkerState = WorkerStateMachine.schema;
export type WorkerState = z.infer<typeof WorkerState>;

export const ProjectStatusMachine = machine(
  "project",
  ["draft", "building", "deploying", "live", "blocked", "failed", "stopped", "archived"],
  {
    draft: ["building", "deploying", "archived"],
    building: ["deploying", "blocked", "failed", "draft", "archived"],
    deploying: ["live", "blocked", "failed", "archived"],
    live: ["building", "deploying", "failed", "stopped", "archived"],
    blocked: ["building", "deploying", "failed", "stopped", "archived"],
    failed: ["building", "deploying", "stopped", "archived"],
    stopped: ["building", "deploying", "archived"],
    archived: [],
  },
);
export const ProjectStatus = ProjectStatusMachine.schema;
export type ProjectStatus = z.infer<typeof ProjectStatus>;

/**
 * A new server is `checking` during its first check; a re-check of a `ready` or `error` server
 * keeps its status until the outcome (so deploys never see a usable server flicker away).
 */
export const ServerStatusMachine = machine("server", ["pending", "checking", "ready", "error", "removed"], {
  pending: ["checking", "removed"],
  checking: ["ready", "error", "removed"],
  ready: ["checking", "ready", "error", "removed"],
  error: ["checking", "ready", "error", "removed"],
  removed: [],
});
export const ServerStatus = ServerStatusMachine.schema;
export type ServerStatus = z.infer<typeof ServerStatus>;

export const DeploymentStatusMachine = machine(
  "deployment",
  ["pending", "in_progress", "healthy", "failed", "superseded", "rolled_back", "stopped"],
  {
    pending: ["in_progress", "failed"],
    in_progress: ["healthy", "failed"],
    // `stopped`: torn down; its URL no longer answers.
    healthy: ["superseded", "rolled_back", "stopped"],
    failed: [],
    superseded: [],
    rolled_back: [],
    stopped: [],
  },
);
export const DeploymentStatus = DeploymentStatusMachine.schema;
export type DeploymentStatus = z.infer<typeof DeploymentStatus>;

/** Every status machine, for documentation and tests. */
export const statusMachines = [
  RunStatusMachine,
  WorkerStateMachine,
  ProjectStatusMachine,
  ServerStatusMachine,
  DeploymentStatusMachine,
] as const;
