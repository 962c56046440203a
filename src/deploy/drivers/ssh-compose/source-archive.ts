import { execFile } from "node:child_process";
import { join } from "node:path";
import { AppError } from "../../../contracts/index.js";
import type { GitAccess } from "../../../git/index.js";

const GIT_TIMEOUT_MS = 120_000;
const MAX_BUFFER = 16 * 1024 * 1024;

interface GitResult {
  code: number;
  output: string;
}

/** Runs git with an allow-listed environment (PATH, a scratch HOME, the source's auth variables). */
function git(args: string[], cwd: string, access: GitAccess): Promise<GitResult> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: cwd,
    LANG: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    ...access.env,
  };
  return new Promise((resolve) => {
    execFile(
      "git",
      args,
      { cwd, env, timeout: GIT_TIMEOUT_MS, maxBuffer: MAX_BUFFER },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}`.slice(-4000) });
      },
    );
  });
}

/**
 * Writes `git archive --format=tar` of exactly `commit` to `<scratch>/source.tar` and returns its
 * path: the commit is fetched from `source` into a bare repository under `scratch` (by SHA, or
 * every branch from servers that refuse fetching a SHA). `source.url` carries no credentials.
 */
export async function archiveCommit(source: GitAccess, commit: string, scratch: string): Promise<string> {
  const repo = join(scratch, "repo.git");
  const init = await git(["init", "--quiet", "--bare", repo], scratch, source);
  if (init.code !== 0) throw new AppError("internal", "git_failed", `git init failed: ${init.output}`);
  const bySha = await git(["fetch", "--quiet", "--no-tags", "--depth=1", source.url, commit], repo, source);
  if (bySha.code !== 0) {
    const all = await git(
      ["fetch", "--quiet", "--no-tags", source.url, "+refs/heads/*:refs/heads/*"],
      repo,
      source,
    );
    if (all.code !== 0) {
      throw new AppError("unavailable", "source_unavailable", `cannot fetch from ${source.url}`, {
        details: [{ path: "source.url", message: all.output.trim().slice(-1000) }],
      });
    }
  }
  const exists = await git(["cat-file", "-e", `${commit}^{commit}`], repo, source);
  if (exists.code !== 0) {
    throw new AppError("not_found", "commit_not_found", `commit ${commit} is not in ${source.url}`, {
      details: [{ path: "commit", message: "no such commit in the repository" }],
    });
  }
  const archive = join(scratch, "source.tar");
  const written = await git(["archive", "--format=tar", `--output=${archive}`, commit], repo, source);
  if (written.code !== 0)
    throw new AppError("internal", "git_failed", `git archive failed: ${written.output}`);
  return archive;
}
