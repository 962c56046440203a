import { Octokit } from "@octokit/rest";
import { z } from "zod";
import { AppError, parseOrThrow } from "../../contracts/index.js";
import { basicAuthEnv, type GitAccess } from "../access.js";
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
import { githubError, statusOf } from "./errors.js";
import { sealForGithub } from "./sealed-box.js";

/** Where GitHub repositories are created: the token's own account, or an organisation. */
export const GithubOwner = z.object({
  kind: z.enum(["user", "org"]),
  /** The user's or organisation's login; repositories are named `<login>/<slug>`. */
  login: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, "not a GitHub login"),
});
export type GithubOwner = z.infer<typeof GithubOwner>;

/** How to reach GitHub. Base URLs are configurable so tests (and GitHub Enterprise) point elsewhere. */
export interface GithubForgeOptions {
  /** A token allowed to create repositories for `owner` and write their Actions secrets. Never logged. */
  token: string;
  owner: GithubOwner;
  /** REST API base URL (default `https://api.github.com`). */
  apiBaseUrl?: string;
  /** Base of GitHub's git URLs (default `https://github.com`): `<gitBaseUrl>/<owner>/<repo>.git`. */
  gitBaseUrl?: string;
  /**
   * The API's base URL as workers reach it. Workers clone and push at `<workerBaseUrl>/git/<slug>.git`
   * with their own short-lived API token; the API relays that to GitHub with `token` (see
   * `registerGitHttp`), so GitHub's token never enters a sandbox.
   */
  workerBaseUrl: string;
}

/** An Actions secret name as GitHub accepts it (and not one of GitHub's reserved `GITHUB_` names). */
export const ActionsSecretName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/, "letters, digits and underscores, not starting with a digit")
  .refine((name) => !/^GITHUB_/i.test(name), "names starting with GITHUB_ are reserved");

const RepoPart = /^[A-Za-z0-9_.-]{1,100}$/;
const silent = () => {};

/** An Octokit for `token` at `apiBaseUrl`, logging nothing (its messages could carry request details). */
function octokitFor(token: string, apiBaseUrl = "https://api.github.com"): Octokit {
  return new Octokit({
    auth: token,
    baseUrl: apiBaseUrl.replace(/\/+$/, ""),
    userAgent: "codegen-orchestrator",
    log: { debug: silent, info: silent, warn: silent, error: silent },
  });
}

/**
 * The GitHub forge (Octokit): repositories in a configured user or organisation; workers clone
 * and push through the API's git relay; the orchestrator itself reaches GitHub with its token; CI
 * secrets go in as Actions secrets, sealed to the repository key.
 *
 * A repository is named `owner/slug`; a bare slug (as the engine names a project's repository)
 * means the configured owner's.
 */
export class GithubForge implements Forge {
  readonly kind = "github" as const;
  private readonly octokit: Octokit;
  private readonly owner: GithubOwner;
  private readonly gitBaseUrl: string;
  private readonly workerBaseUrl: string;
  private readonly token: string;

  constructor(opts: GithubForgeOptions) {
    this.token = opts.token;
    this.owner = parseOrThrow(GithubOwner, opts.owner, "GitHub owner");
    this.gitBaseUrl = (opts.gitBaseUrl ?? "https://github.com").replace(/\/+$/, "");
    this.workerBaseUrl = opts.workerBaseUrl.replace(/\/+$/, "");
    this.octokit = octokitFor(opts.token, opts.apiBaseUrl);
  }

  /**
   * Checks `token` against GitHub and tells whether `login` is the token's own user or an
   * organisation it sees. A refused token is `unavailable`/`github_unauthorized`; an owner that is
   * neither is `not_found`; an unreachable GitHub is `unavailable`/`github_unavailable`.
   */
  static async resolveOwner(opts: {
    token: string;
    apiBaseUrl?: string;
    login: string;
  }): Promise<GithubOwner> {
    const octokit = octokitFor(opts.token, opts.apiBaseUrl);
    let user: string;
    try {
      user = (await octokit.rest.users.getAuthenticated()).data.login;
    } catch (error) {
      throw githubError(error, "read the token's user");
    }
    if (user.toLowerCase() === opts.login.toLowerCase()) return { kind: "user", login: user };
    try {
      const { data } = await octokit.rest.orgs.get({ org: opts.login });
      return { kind: "org", login: data.login };
    } catch (error) {
      if (statusOf(error) === 404) {
        throw new AppError(
          "not_found",
          "not_found",
          `GitHub: ${opts.login} is neither the token's user nor an organisation it sees`,
          {
            cause: error,
          },
        );
      }
      throw githubError(error, "read the organisation");
    }
  }

  async createRepository(input: CreateRepositoryInput): Promise<ForgeRepository> {
    const { slug, description } = parseOrThrow(CreateRepositoryInput, input, "repository");
    const body = { name: slug, description, private: true, auto_init: false };
    try {
      const { data } =
        this.owner.kind === "org"
          ? await this.octokit.rest.repos.createInOrg({ org: this.owner.login, ...body })
          : await this.octokit.rest.repos.createForAuthenticatedUser(body);
      return this.describe(data.full_name, data.default_branch, data.html_url);
    } catch (error) {
      if (!isNameTaken(error)) throw githubError(error, "create repository");
    }
    const { data } = await this.call("read repository", () =>
      this.octokit.rest.repos.get({ owner: this.owner.login, repo: slug }),
    );
    return this.describe(data.full_name, data.default_branch, data.html_url);
  }

  /** The relay URL on the API (see `workerBaseUrl`) with the worker's token in it. */
  cloneUrlFor(repo: RepositoryRef, credentials: ForgeCredentials): string {
    const { name } = this.split(repo);
    return withTokenInUrl(this.workerCloneUrl(name), credentials.token);
  }

  /**
   * GitHub's https clone URL and this forge's own token as an `Authorization` header in git's
   * environment (for the orchestrator's own git: seeding, merging, the deploy's fetch; never a
   * sandbox). Checks that the repository exists first (`not_found` otherwise).
   */
  async orchestratorAccess(repo: RepositoryRef): Promise<GitAccess> {
    const { owner, name } = this.split(repo);
    await this.defaultBranch(repo);
    return { url: this.githubCloneUrl(owner, name), env: basicAuthEnv(this.token) };
  }

  /**
   * Where the API's git relay sends a worker's request for `slug`, and the header that
   * authenticates it there. For the relay only: the header holds the forge's token.
   */
  gitUpstream(slug: string): { url: string; headers: Record<string, string> } {
    const name = parseOrThrow(RepositorySlug, slug, "repository name");
    const basic = Buffer.from(`x-access-token:${this.token}`, "utf8").toString("base64");
    return { url: this.githubCloneUrl(this.owner.login, name), headers: { authorization: `Basic ${basic}` } };
  }

  async defaultBranch(repo: RepositoryRef): Promise<string> {
    const { owner, name } = this.split(repo);
    const { data } = await this.call("read repository", () =>
      this.octokit.rest.repos.get({ owner, repo: name }),
    );
    return data.default_branch;
  }

  async readFile(repo: RepositoryRef, commitSha: string, path: string): Promise<string | null> {
    const { owner, name } = this.split(repo);
    const ref = parseOrThrow(CommitSha, commitSha, "commit");
    checkRepoPath(path);
    try {
      const { data } = await this.octokit.rest.repos.getContent({ owner, repo: name, path, ref });
      // A directory answers with a list; symlinks and submodules are not files either.
      if (Array.isArray(data) || data.type !== "file" || !("content" in data)) return null;
      if (data.encoding !== "none") return Buffer.from(data.content, "base64").toString("utf8");
      // Files over 1 MB come without content (`encoding: "none"`): ask for the raw bytes instead.
      const raw = await this.octokit.rest.repos.getContent({
        owner,
        repo: name,
        path,
        ref,
        mediaType: { format: "raw" },
      });
      const body: unknown = raw.data;
      if (typeof body === "string") return body;
      if (body instanceof ArrayBuffer) return Buffer.from(body).toString("utf8");
      throw new AppError(
        "internal",
        "github_error",
        "GitHub answered a raw file read with an unexpected body",
      );
    } catch (error) {
      if (statusOf(error) !== 404) throw githubError(error, "read file");
    }
    // 404 means a missing path, a missing commit or a missing repository: tell them apart.
    if (!(await this.hasCommit(repo, ref))) throw AppError.notFound("commit", ref);
    return null;
  }

  async listCommits(repo: RepositoryRef, options: ListCommitsOptions): Promise<ForgeCommit[]> {
    const { owner, name } = this.split(repo);
    const { branch, limit } = parseOrThrow(ListCommitsOptions, options, "options");
    const sha = branch ?? (await this.defaultBranch(repo));
    try {
      const { data } = await this.octokit.rest.repos.listCommits({ owner, repo: name, sha, per_page: limit });
      return data.slice(0, limit).map((c) => ({
        sha: c.sha,
        message: c.commit.message,
        author: c.commit.author?.name ?? "",
        date: new Date(c.commit.author?.date ?? c.commit.committer?.date ?? 0),
      }));
    } catch (error) {
      const status = statusOf(error);
      // 409: the repository is empty; 404/422: no such branch. The repository itself exists
      // (defaultBranch above would have failed otherwise).
      if (status === 409 || status === 404 || status === 422) return [];
      throw githubError(error, "list commits");
    }
  }

  /** Anything that is not a full SHA is simply not a commit we hold. */
  async hasCommit(repo: RepositoryRef, sha: string): Promise<boolean> {
    const { owner, name } = this.split(repo);
    if (!CommitSha.safeParse(sha).success) {
      await this.defaultBranch(repo); // still answers not_found for a missing repository
      return false;
    }
    try {
      const { data } = await this.octokit.rest.repos.getCommit({ owner, repo: name, ref: sha });
      return data.sha === sha;
    } catch (error) {
      const status = statusOf(error);
      if (status !== 404 && status !== 409 && status !== 422) throw githubError(error, "read commit");
    }
    await this.defaultBranch(repo);
    return false;
  }

  /**
   * Writes (creates or replaces) an Actions secret: the value is sealed to the repository's public
   * key before it leaves the process, so neither our logs nor GitHub's API ever see it in clear.
   */
  async setActionsSecret(repo: RepositoryRef, secretName: string, value: string): Promise<void> {
    const { owner, name } = this.split(repo);
    const secret = parseOrThrow(ActionsSecretName, secretName, "secret name");
    if (value.length === 0 || Buffer.byteLength(value) > 48 * 1024) {
      throw new AppError("invalid", "invalid_input", "a secret value must be 1 byte to 48 KiB", {
        details: [{ path: "value", message: "empty or too large" }],
      });
    }
    const { data: key } = await this.call("read Actions public key", () =>
      this.octokit.rest.actions.getRepoPublicKey({ owner, repo: name }),
    );
    const encrypted = await sealForGithub(key.key, value);
    await this.call("write Actions secret", () =>
      this.octokit.rest.actions.createOrUpdateRepoSecret({
        owner,
        repo: name,
        secret_name: secret,
        encrypted_value: encrypted,
        key_id: key.key_id,
      }),
    );
  }

  /** Workers see the relay URL; GitHub's page of the repository is the `webUrl` a person opens. */
  private describe(fullName: string, defaultBranch: string, webUrl: string): ForgeRepository {
    const { name } = this.split({ name: fullName });
    return { name: fullName, cloneUrl: this.workerCloneUrl(name), defaultBranch, webUrl };
  }

  private githubCloneUrl(owner: string, name: string): string {
    return `${this.gitBaseUrl}/${owner}/${name}.git`;
  }

  private workerCloneUrl(name: string): string {
    return `${this.workerBaseUrl}/git/${name}.git`;
  }

  /**
   * `owner/repo` (or a bare slug: the configured owner's) into its parts, refusing anything that
   * could change the request path.
   */
  private split(repo: RepositoryRef): { owner: string; name: string } {
    const parts = repo.name.split("/");
    const [owner = "", name = "", ...extra] = parts.length === 1 ? [this.owner.login, ...parts] : parts;
    if (extra.length > 0 || !RepoPart.test(owner) || !RepoPart.test(name) || /^\.+$/.test(name)) {
      throw new AppError(
        "invalid",
        "invalid_input",
        "a GitHub repository is named owner/name or by its slug",
        {
          details: [{ path: "name", message: "expected owner/name or a slug" }],
        },
      );
    }
    return { owner, name };
  }

  private async call<T>(what: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw githubError(error, what);
    }
  }
}

/** GitHub's answer to creating a repository whose name is taken: 422 with "name already exists". */
function isNameTaken(error: unknown): boolean {
  if (statusOf(error) !== 422) return false;
  const errors = (error as { response?: { data?: { errors?: { message?: string }[] } } }).response?.data
    ?.errors;
  return (errors ?? []).some((e) => typeof e.message === "string" && e.message.includes("already exists"));
}
