import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { AppError, parseOrThrow } from "../../contracts/index.js";
import type { GitAccess } from "../access.js";
import {
  CommitSha,
  CreateRepositoryInput,
  checkRepoPath,
  type Forge,
  type ForgeCommit,
  type ForgeCredentials,
  type ForgeRepository,
  ListCommitsOptions,
  type RepositoryRef,
  RepositorySlug,
  withTokenInUrl,
} from "../forge.js";
import { runGit, runGitOk } from "./git-command.js";

/** The branch every repository we create starts on. */
export const LOCAL_DEFAULT_BRANCH = "main";

/** Where the local forge keeps repositories and how workers reach them. */
export interface LocalForgeOptions {
  /** The orchestrator's data directory; repositories live in `<dataDir>/git/<slug>.git`. */
  dataDir: string;
  /** The API's base URL as workers see it (e.g. `http://127.0.0.1:8080`); `/git/<slug>.git` is appended. */
  baseUrl: string;
}

/**
 * The embedded forge: bare repositories in the data directory, read with plain git commands and
 * served to workers over git smart HTTP by `registerGitHttp`. Nothing else to run or configure.
 */
export class LocalForge implements Forge {
  readonly kind = "local" as const;
  /** The absolute directory holding every `<slug>.git` (git http-backend's `GIT_PROJECT_ROOT`). */
  readonly root: string;
  private readonly baseUrl: string;

  constructor(opts: LocalForgeOptions) {
    this.root = resolve(opts.dataDir, "git");
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
  }

  async createRepository(input: CreateRepositoryInput): Promise<ForgeRepository> {
    const { projectId, slug, description } = parseOrThrow(CreateRepositoryInput, input, "repository");
    const dir = this.pathOf(slug);
    if (await this.exists(slug)) return this.describe(slug);
    await mkdir(this.root, { recursive: true });
    // Initialise aside and rename into place, so a half-made repository is never visible and two
    // concurrent creations end with one repository.
    const tmp = join(this.root, `.init-${slug}-${randomBytes(6).toString("hex")}`);
    try {
      await runGitOk(["init", "--quiet", "--bare", `--initial-branch=${LOCAL_DEFAULT_BRANCH}`, tmp]);
      await runGitOk(["--git-dir", tmp, "config", "orchestrator.projectid", projectId]);
      await writeFile(join(tmp, "description"), `${description}\n`);
      await rename(tmp, dir);
    } catch (error) {
      await rm(tmp, { recursive: true, force: true });
      if (!(await this.exists(slug))) throw error;
    }
    return this.describe(slug);
  }

  cloneUrlFor(repo: RepositoryRef, credentials: ForgeCredentials): string {
    return withTokenInUrl(this.cloneUrl(this.slugOf(repo)), credentials.token);
  }

  /** The bare repository's own path: the orchestrator shares the filesystem, so no HTTP and no token. */
  async orchestratorAccess(repo: RepositoryRef): Promise<GitAccess> {
    return { url: await this.existingDir(repo), env: {} };
  }

  async defaultBranch(repo: RepositoryRef): Promise<string> {
    const dir = await this.existingDir(repo);
    const out = await runGitOk(["--git-dir", dir, "symbolic-ref", "--short", "HEAD"]);
    return out.toString("utf8").trim();
  }

  async readFile(repo: RepositoryRef, commitSha: string, path: string): Promise<string | null> {
    const dir = await this.existingDir(repo);
    const sha = parseOrThrow(CommitSha, commitSha, "commit");
    checkRepoPath(path);
    if (!(await this.commitExists(dir, sha))) throw AppError.notFound("commit", sha);
    const result = await runGit(["--git-dir", dir, "cat-file", "blob", `${sha}:${path}`]);
    return result.code === 0 ? result.stdout.toString("utf8") : null;
  }

  async listCommits(repo: RepositoryRef, options: ListCommitsOptions): Promise<ForgeCommit[]> {
    const dir = await this.existingDir(repo);
    const { branch, limit } = parseOrThrow(ListCommitsOptions, options, "options");
    const name = branch ?? (await this.defaultBranch(repo));
    const format = "--format=%H%x1f%an%x1f%aI%x1f%B%x1e";
    // `refs/heads/<name>` keeps a branch name from being read as an option or another kind of rev.
    const result = await runGit([
      "--git-dir",
      dir,
      "log",
      format,
      `--max-count=${limit}`,
      `refs/heads/${name}`,
      "--",
    ]);
    if (result.code !== 0) return []; // empty repository or no such branch
    return parseLog(result.stdout.toString("utf8"));
  }

  /** Anything that is not a full SHA is simply not a commit we hold. */
  async hasCommit(repo: RepositoryRef, sha: string): Promise<boolean> {
    const dir = await this.existingDir(repo);
    if (!CommitSha.safeParse(sha).success) return false;
    return this.commitExists(dir, sha);
  }

  /** Whether `<slug>.git` exists and is a repository; `false` for names that are not slugs. */
  async exists(slug: string): Promise<boolean> {
    if (!RepositorySlug.safeParse(slug).success) return false;
    try {
      return (await stat(join(this.pathOf(slug), "HEAD"))).isFile();
    } catch {
      return false;
    }
  }

  private describe(slug: string): ForgeRepository {
    return { name: slug, cloneUrl: this.cloneUrl(slug), defaultBranch: LOCAL_DEFAULT_BRANCH };
  }

  private cloneUrl(slug: string): string {
    return `${this.baseUrl}/git/${slug}.git`;
  }

  private pathOf(slug: string): string {
    return join(this.root, `${slug}.git`);
  }

  private slugOf(repo: RepositoryRef): string {
    return parseOrThrow(RepositorySlug, repo.name, "repository name");
  }

  private async existingDir(repo: RepositoryRef): Promise<string> {
    const slug = this.slugOf(repo);
    if (!(await this.exists(slug))) throw AppError.notFound("repository", slug);
    return this.pathOf(slug);
  }

  private async commitExists(dir: string, sha: string): Promise<boolean> {
    const result = await runGit(["--git-dir", dir, "cat-file", "-e", `${sha}^{commit}`]);
    return result.code === 0;
  }
}

/** Parses the records of the `git log` format above (fields split by US, records by RS). */
export function parseLog(text: string): ForgeCommit[] {
  const commits: ForgeCommit[] = [];
  for (const record of text.split("\x1e")) {
    const trimmed = record.replace(/^\n/, "");
    if (!trimmed) continue;
    const [sha = "", author = "", date = "", message = ""] = trimmed.split("\x1f");
    commits.push({ sha, author, date: new Date(date), message: message.trimEnd() });
  }
  return commits;
}
