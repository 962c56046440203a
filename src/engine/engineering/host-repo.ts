import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { AppError } from "../../contracts/index.js";
import { type GitAccess, runGit } from "../../git/index.js";
import { COMMIT_IDENTITY } from "./sandbox-git.js";

/** The trailer naming the run and stage that made a commit, so a replayed stage finds its own work. */
export function stageTrailer(runId: string, stage: string): string {
  return `Orchestrator-Run: ${runId}\nOrchestrator-Stage: ${stage}`;
}

/**
 * A throwaway checkout on the orchestrator's own machine, for the stages that commit without a
 * model (Preparer, merge). Git runs with the forge's access environment; nothing is kept after
 * `dispose`.
 */
export class HostCheckout {
  /** The access environment plus the commit identity (in the environment: no `git config` call per checkout). */
  private readonly env: Record<string, string>;

  private constructor(
    readonly dir: string,
    access: GitAccess,
  ) {
    this.env = {
      ...access.env,
      GIT_AUTHOR_NAME: COMMIT_IDENTITY.name,
      GIT_AUTHOR_EMAIL: COMMIT_IDENTITY.email,
      GIT_COMMITTER_NAME: COMMIT_IDENTITY.name,
      GIT_COMMITTER_EMAIL: COMMIT_IDENTITY.email,
    };
  }

  static async open(tmpRoot: string, access: GitAccess): Promise<HostCheckout> {
    await mkdir(tmpRoot, { recursive: true });
    const dir = await mkdtemp(join(tmpRoot, "checkout-"));
    const checkout = new HostCheckout(dir, access);
    await checkout.git(["init", "--quiet", "--initial-branch=main"]);
    await checkout.git(["remote", "add", "origin", access.url]);
    return checkout;
  }

  /** Runs git in the checkout; a failure is an `unavailable` error with git's last words. */
  async git(args: string[]): Promise<string> {
    const result = await runGit(args, { cwd: this.dir, env: this.env, timeoutMs: 5 * 60_000 });
    if (result.code !== 0) {
      const tail = result.stderr.trim().split("\n").slice(-5).join("\n");
      throw new AppError("unavailable", "git_failed", `git ${args[0] ?? ""} failed: ${tail}`);
    }
    return result.stdout.toString("utf8").trim();
  }

  /** Fetches `branch` and checks it out; false when the remote has no such branch. */
  async checkoutRemoteBranch(branch: string): Promise<boolean> {
    const result = await runGit(
      ["fetch", "--quiet", "origin", `refs/heads/${branch}:refs/remotes/origin/${branch}`],
      {
        cwd: this.dir,
        env: this.env,
        timeoutMs: 5 * 60_000,
      },
    );
    if (result.code !== 0) return false;
    await this.git(["checkout", "--quiet", "-B", branch, `refs/remotes/origin/${branch}`]);
    return true;
  }

  async writeFiles(files: Record<string, string>): Promise<void> {
    for (const [path, content] of Object.entries(files)) {
      const target = join(this.dir, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
  }

  /** Commits everything with the stage trailer and returns the new commit's SHA. */
  async commitAll(message: string, trailer: string): Promise<string> {
    await this.git(["add", "-A"]);
    await this.git(["commit", "--quiet", "--allow-empty", "-m", `${message}\n\n${trailer}`]);
    return this.git(["rev-parse", "HEAD"]);
  }

  async push(branch: string): Promise<void> {
    await this.git(["push", "--quiet", "origin", `HEAD:refs/heads/${branch}`]);
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
