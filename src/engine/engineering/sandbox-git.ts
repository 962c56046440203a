import { AppError } from "../../contracts/index.js";
import { WORKSPACE_CREDENTIAL_HELPER } from "../../git/index.js";
import type { WorkerService } from "../../workers/index.js";

/** Bound on one git command inside a sandbox (a clone of a project repository is far shorter). */
const GIT_IN_SANDBOX_MS = 5 * 60_000;

/**
 * Tries of a clone into a sandbox: the clone goes through the API (any replica behind the
 * address), and one cut short when the API process serving it stops is worth trying again.
 */
export const CLONE_TRIES = 3;
/** Pause before the next try of a clone, times the try number. */
const CLONE_RETRY_PAUSE_MS = 1_000;

/** The identity commits made in workspaces carry. */
export const COMMIT_IDENTITY = { name: "Codegen Orchestrator", email: "orchestrator@localhost" };

/** Runs a command in a worker's sandbox and returns stdout; a non-zero exit is an `unavailable` error. */
export async function execOk(
  workers: WorkerService,
  workerId: string,
  argv: string[],
  what: string,
  timeoutMs = GIT_IN_SANDBOX_MS,
): Promise<string> {
  const out = await workers.exec(workerId, argv, { timeoutMs });
  if (out.exitCode !== 0) {
    const tail = (out.stderr || out.stdout).trim().split("\n").slice(-5).join("\n");
    throw new AppError(
      "unavailable",
      "sandbox_command_failed",
      `${what} failed: ${tail || `exit ${out.exitCode}`}`,
    );
  }
  return out.stdout;
}

/**
 * Clones the repository into the worker's (empty) workspace at `branch` and configures it so the
 * agent's own `git push` authenticates with the sandbox's token through a credential helper: the
 * token is read from the environment at push time, never written to a file, a URL or an argument.
 * The helper and the commit identity are written into the clone's config by the clone itself
 * (`--config` takes effect before the fetch): one command in the sandbox rather than four.
 */
export async function cloneIntoWorkspace(
  workers: WorkerService,
  workerId: string,
  cloneUrl: string,
  branch: string,
): Promise<void> {
  const config = [
    `credential.helper=${WORKSPACE_CREDENTIAL_HELPER}`,
    `user.name=${COMMIT_IDENTITY.name}`,
    `user.email=${COMMIT_IDENTITY.email}`,
  ].flatMap((entry) => ["--config", entry]);
  for (let attempt = 1; ; attempt++) {
    try {
      await execOk(
        workers,
        workerId,
        ["git", "clone", "--quiet", ...config, "--branch", branch, "--", cloneUrl, "."],
        "git clone",
      );
      return;
    } catch (error) {
      // Only a clone that ran and failed is tried again; a lost worker or node is the caller's.
      if (!(error instanceof AppError && error.code === "sandbox_command_failed") || attempt >= CLONE_TRIES)
        throw error;
      await new Promise((resolve) => setTimeout(resolve, CLONE_RETRY_PAUSE_MS * attempt));
      // What the cut clone left would make the next one refuse a non-empty folder.
      await execOk(
        workers,
        workerId,
        ["find", ".", "-mindepth", "1", "-maxdepth", "1", "-exec", "rm", "-rf", "--", "{}", "+"],
        "clearing the workspace after a failed clone",
      );
    }
  }
}
