import { z } from "zod";
import { AppError } from "../contracts/index.js";
import type { GitAccess } from "./access.js";

/** Which forge holds a project's repository: bare repositories of our own, or GitHub. */
export const ForgeKind = z.enum(["local", "github"]);
export type ForgeKind = z.infer<typeof ForgeKind>;

/**
 * A repository slug: lowercase letters, digits and inner dashes. It becomes a directory name and a
 * URL segment, so nothing else (no dots, no slashes) may get through.
 */
export const RepositorySlug = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$/, "not a repository slug");

/** A commit id as git prints it (full SHA-1 or SHA-256; abbreviations are refused). */
export const CommitSha = z.string().regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, "not a full commit SHA");

/** What `createRepository` needs: the project it belongs to, its slug and a one-line description. */
export const CreateRepositoryInput = z.object({
  projectId: z.string().min(1),
  slug: RepositorySlug,
  description: z.string().max(350).default(""),
});
export type CreateRepositoryInput = z.input<typeof CreateRepositoryInput>;

/**
 * A repository on a forge. `name` is what the forge calls it (`slug` locally, `owner/slug` on
 * GitHub); `cloneUrl` never carries credentials, so it may be stored, logged and shown.
 */
export const ForgeRepository = z.object({
  name: z.string().min(1),
  cloneUrl: z.string().url(),
  defaultBranch: z.string().min(1),
  webUrl: z.string().url().optional(),
});
export type ForgeRepository = z.infer<typeof ForgeRepository>;

/** How a forge method names a repository: a `ForgeRepository` or just its `name`. */
export type RepositoryRef = Pick<ForgeRepository, "name">;

/** Credentials handed to a worker for one clone URL. */
export interface ForgeCredentials {
  token: string;
}

/** One commit as `listCommits` returns it; `author` is the author's name. */
export const ForgeCommit = z.object({
  sha: CommitSha,
  message: z.string(),
  author: z.string(),
  date: z.date(),
});
export type ForgeCommit = z.infer<typeof ForgeCommit>;

/**
 * A branch name git accepts that cannot be read as a revision range or an option (no `..`, no
 * leading `-` or `/`, no `//`, no `@{`, spaces or control characters).
 */
export const BranchName = z
  .string()
  .regex(/^(?![-/])(?!.*\.\.)(?!.*\/\/)(?!.*[/.]$)(?!.*\.lock$)[A-Za-z0-9._/-]{1,200}$/, "not a branch name");

/** `listCommits` options: a branch (default: the default branch) and how many commits, newest first. */
export const ListCommitsOptions = z.object({
  branch: BranchName.optional(),
  limit: z.number().int().min(1).max(100),
});
export type ListCommitsOptions = z.infer<typeof ListCommitsOptions>;

/**
 * A place where project repositories live. The engine talks to this only, so a run works the same
 * on the embedded local forge and on GitHub. Every method validates its input and throws `AppError`
 * (`invalid` for bad input, `not_found` for an unknown repository or commit, `unavailable` when the
 * forge cannot be reached). Read methods answer "absent" with `null`, `[]` or `false`, never with
 * an error, so callers can check whether a worker really pushed.
 */
export interface Forge {
  readonly kind: ForgeKind;
  /** Creates the repository, empty; creating one that already exists returns it (idempotent). */
  createRepository(input: CreateRepositoryInput): Promise<ForgeRepository>;
  /** The clone/push URL with `credentials` inside, for a worker only: never log or store it. */
  cloneUrlFor(repo: RepositoryRef, credentials: ForgeCredentials): string;
  /**
   * How the orchestrator itself clones and pushes (to seed a repository, merge, tag): a URL without
   * credentials and the environment that authenticates a `git` child. Unknown repository: `not_found`.
   */
  orchestratorAccess(repo: RepositoryRef): Promise<GitAccess>;
  /** The branch runs merge into (`main` for repositories we create). */
  defaultBranch(repo: RepositoryRef): Promise<string>;
  /** A file's text at a commit; `null` when the path is not a file there. Unknown commit: `not_found`. */
  readFile(repo: RepositoryRef, commitSha: string, path: string): Promise<string | null>;
  /** Commits reachable from `branch`, newest first; `[]` for an empty repository or unknown branch. */
  listCommits(repo: RepositoryRef, options: ListCommitsOptions): Promise<ForgeCommit[]>;
  /** Whether the forge holds this commit (a worker's claim is checked against this). */
  hasCommit(repo: RepositoryRef, sha: string): Promise<boolean>;
}

/**
 * Puts `x-access-token:<token>` as the user part of an https/http clone URL, the way git sends
 * a token over Basic auth to both GitHub and our own git HTTP endpoint.
 */
export function withTokenInUrl(cloneUrl: string, token: string): string {
  if (!token) throw new AppError("invalid", "invalid_input", "a token is required for a clone URL");
  const url = new URL(cloneUrl);
  url.username = "x-access-token";
  url.password = token;
  return url.toString();
}

/** A repository-relative file path: no leading slash, no `..` segments, no empty segments. */
export function checkRepoPath(path: string): string {
  const segments = path.split("/");
  if (!path || segments.some((s) => s === "" || s === "." || s === "..") || path.includes("\0")) {
    throw new AppError("invalid", "invalid_input", "invalid file path", {
      details: [{ path: "path", message: "a relative path inside the repository" }],
    });
  }
  return path;
}
