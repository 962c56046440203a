import { Annotation } from "@langchain/langgraph";
import type { DeployRunInput, HealthCheck, RunOutcomeCode, TemplateManifest } from "../../contracts/index.js";

/** A decided end of a deploy run; the runner writes it to the run and as a typed event. */
export interface DeployOutcome {
  status: "succeeded" | "failed" | "blocked";
  code: RunOutcomeCode;
  message: string;
  missing: string[];
  url: string | null;
  botUsername: string | null;
  restoredPrevious: boolean;
}

const keep = <T>(initial: T) => Annotation<T>({ reducer: (_old, next) => next, default: () => initial });

/**
 * The devops graph's state, checkpointed after every stage. It never holds a secret value: the
 * environment is resolved again, in memory, by the stage that starts the release.
 */
export const DevopsState = Annotation.Root({
  runId: keep<string>(""),
  input: keep<Required<DeployRunInput>>({
    projectId: "",
    action: "deploy",
    commit: null,
    sourceRunId: null,
    resumes: null,
    data: "keep",
  }),
  commit: keep<string | null>(null),
  manifest: keep<TemplateManifest | null>(null),
  serverId: keep<string | null>(null),
  ports: keep<Record<string, number>>({}),
  deploymentId: keep<string | null>(null),
  release: keep<string | null>(null),
  /** The deployment that was serving before this one (kept or restored when the gate fails). */
  previousDeploymentId: keep<string | null>(null),
  gate: keep<Record<string, unknown> | null>(null),
  /** Why the started release failed (start or health gate): the rollback step ends the run with it. */
  failure: keep<{ code: RunOutcomeCode; message: string } | null>(null),
  outcome: keep<DeployOutcome | null>(null),
});
export type DevopsStateValue = typeof DevopsState.State;
export type DevopsUpdate = typeof DevopsState.Update;

/** The URL a person reaches an HTTP release at, or null for a bot. */
export function publicUrl(check: HealthCheck, host: string, port: number | null): string | null {
  return check.kind === "http" && port !== null ? `http://${host}:${port}` : null;
}
