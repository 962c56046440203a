import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Fastify from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeGithub, startFakeGithub } from "../../../test/fakes/github/index.js";
import { type PushSpec, runForgeConformance } from "../forge.conformance.js";
import type { ForgeRepository } from "../forge.js";
import { registerGitHttp } from "../http.js";
import { runGit } from "../local/git-command.js";
import { GithubForge } from "./github-forge.js";

const TOKEN = "ghp_test_admin_token";
/** The short-lived API token a worker holds; only the relay knows it, GitHub never sees it. */
const WORKER = "orc_worker_token";
const READER = "orc_reader_token";

/**
 * The fake GitHub, the API's git relay on a bare Fastify (authorizing `WORKER` to push and `READER`
 * to clone) and a forge creating in `owner` whose workers go through that relay.
 */
async function start(owner: { kind: "user" | "org"; login: string } = { kind: "user", login: "octo-user" }) {
  const fake = await startFakeGithub({ token: TOKEN, userLogin: "octo-user", orgs: ["acme"] });
  const options = { token: TOKEN, owner, apiBaseUrl: fake.url, gitBaseUrl: fake.url };
  const app = Fastify({ logger: false });
  const relayed: { token: string; repo: string; write: boolean }[] = [];
  await registerGitHttp(app, {
    // The relay reads only GitHub's side of the forge; the worker URL is known once it listens.
    forge: new GithubForge({ ...options, workerBaseUrl: "http://127.0.0.1:1" }),
    authorize: async (token, repo, write) => {
      relayed.push({ token, repo, write });
      return token === WORKER || (token === READER && !write);
    },
  });
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  const forge = new GithubForge({ ...options, workerBaseUrl: address });
  const scratch = await mkdtemp(join(tmpdir(), "github-forge-"));
  const close = async () => {
    await app.close();
    await fake.close();
    await rm(scratch, { recursive: true, force: true });
  };
  return { fake, forge, app, relayed, scratch, close };
}

/** Runs git in `cwd` with a fixed identity; throws with stderr when it fails. */
async function git(cwd: string, args: string[], author = "Test"): Promise<string> {
  const identity = {
    GIT_AUTHOR_NAME: author,
    GIT_AUTHOR_EMAIL: "t@example.invalid",
    GIT_COMMITTER_NAME: author,
    GIT_COMMITTER_EMAIL: "t@example.invalid",
  };
  const result = await runGit(args, { cwd, env: identity });
  if (result.code !== 0) throw new Error(`git ${args[0]} failed: ${result.stderr}`);
  return result.stdout.toString("utf8").trim();
}

/** Pushes one commit the way a worker does: clone through the relay with its token, commit, push. */
async function pushAsWorker(forge: GithubForge, work: string, repo: ForgeRepository, spec: PushSpec) {
  const checkout = await mkdtemp(join(work, "clone-"));
  try {
    await git(work, ["clone", "--quiet", forge.cloneUrlFor(repo, { token: WORKER }), checkout]);
    const branch = spec.branch ?? repo.defaultBranch;
    const exists = await runGit(["rev-parse", "--verify", "--quiet", `origin/${branch}`], { cwd: checkout });
    await git(checkout, [
      "checkout",
      "--quiet",
      "-B",
      branch,
      ...(exists.code === 0 ? [`origin/${branch}`] : []),
    ]);
    for (const [path, text] of Object.entries(spec.files)) {
      await mkdir(dirname(join(checkout, path)), { recursive: true });
      await writeFile(join(checkout, path), text);
    }
    await git(checkout, ["add", "--all"]);
    await git(checkout, ["commit", "--quiet", "-m", spec.message], spec.author);
    await git(checkout, ["push", "--quiet", "origin", `HEAD:refs/heads/${branch}`]);
    return await git(checkout, ["rev-parse", "HEAD"]);
  } finally {
    await rm(checkout, { recursive: true, force: true });
  }
}

runForgeConformance(
  "GithubForge against the fake GitHub (REST and git), workers through the relay",
  async () => {
    const s = await start();
    return {
      forge: s.forge,
      push: (repo, spec) => pushAsWorker(s.forge, s.scratch, repo, spec),
      close: s.close,
    };
  },
);

runForgeConformance("GithubForge in an organisation", async () => {
  const s = await start({ kind: "org", login: "acme" });
  return {
    forge: s.forge,
    push: (repo, spec) => pushAsWorker(s.forge, s.scratch, repo, spec),
    close: s.close,
  };
});

describe("GithubForge", () => {
  let s: Awaited<ReturnType<typeof start>>;
  let fake: FakeGithub;
  let forge: GithubForge;
  beforeEach(async () => {
    s = await start();
    ({ fake, forge } = s);
  });
  afterEach(async () => {
    await s.close();
  });

  it("creates a private repository on GitHub; workers are given the relay's URL, a person GitHub's page", async () => {
    const repo = await forge.createRepository({ projectId: "p1", slug: "shop-bot", description: "A shop" });
    const relay = s.app.server.address() as { port: number };
    expect(repo).toEqual({
      name: "octo-user/shop-bot",
      cloneUrl: `http://127.0.0.1:${relay.port}/git/shop-bot.git`,
      defaultBranch: "main",
      webUrl: `${fake.url}/octo-user/shop-bot`,
    });
    expect(forge.cloneUrlFor(repo, { token: "orc_w" })).toBe(
      `http://x-access-token:orc_w@127.0.0.1:${relay.port}/git/shop-bot.git`,
    );
    const posts = fake.requests.filter((r) => r.method === "POST").map((r) => r.url);
    expect(posts).toEqual(["/user/repos"]);
    // The orchestrator's own git goes to GitHub itself.
    expect((await forge.orchestratorAccess(repo)).url).toBe(`${fake.url}/octo-user/shop-bot.git`);
  });

  it("names a repository by its slug as the configured owner's (as the engine names a project's)", async () => {
    const repo = await forge.createRepository({ projectId: "p1", slug: "by-slug" });
    const sha = await fake.push(repo.name, { message: "m", author: "Ada", files: { "a.txt": "a\n" } });
    expect(await forge.hasCommit({ name: "by-slug" }, sha)).toBe(true);
    expect(await forge.readFile({ name: "by-slug" }, sha, "a.txt")).toBe("a\n");
    expect((await forge.orchestratorAccess({ name: "by-slug" })).url).toBe(
      `${fake.url}/octo-user/by-slug.git`,
    );
    await expect(forge.defaultBranch({ name: "no-such-slug" })).rejects.toMatchObject({ kind: "not_found" });
  });

  it("seals an Actions secret to the repository key; the fake opens it to the same value", async () => {
    const repo = await forge.createRepository({ projectId: "p1", slug: "deploy-me" });
    const value = `ssh-key-${randomBytes(8).toString("hex")}\nline two ✓`;
    await forge.setActionsSecret(repo, "DEPLOY_SSH_KEY", value);
    expect(await fake.secret(repo.name, "DEPLOY_SSH_KEY")).toBe(value);
    const sealed = fake.sealedSecret(repo.name, "DEPLOY_SSH_KEY");
    expect(sealed?.encrypted_value).not.toContain("ssh-key");
    // Replacing it works too (GitHub answers 204 the second time).
    await forge.setActionsSecret(repo, "DEPLOY_SSH_KEY", "v2");
    expect(await fake.secret(repo.name, "DEPLOY_SSH_KEY")).toBe("v2");
  });

  it("reads a file over 1 MB through the raw media type (the contents API leaves it empty)", async () => {
    const repo = await forge.createRepository({ projectId: "p1", slug: "big-file" });
    const big = "x".repeat(1024 * 1024 + 10);
    const sha = await fake.push(repo.name, { message: "big", author: "Ada", files: { "big.txt": big } });
    expect(await forge.readFile(repo, sha, "big.txt")).toBe(big);
  });

  it("refuses reserved or malformed secret names and empty values before calling GitHub", async () => {
    const repo = await forge.createRepository({ projectId: "p1", slug: "names" });
    const before = fake.requests.length;
    for (const bad of ["GITHUB_TOKEN", "1ABC", "A-B", ""]) {
      await expect(forge.setActionsSecret(repo, bad, "x")).rejects.toMatchObject({ kind: "invalid" });
    }
    await expect(forge.setActionsSecret(repo, "OK_NAME", "")).rejects.toMatchObject({ kind: "invalid" });
    expect(fake.requests.length).toBe(before);
  });

  it("maps a refused token to an unavailable AppError without the token in it", async () => {
    const bad = new GithubForge({
      token: "ghp_wrong_token",
      owner: { kind: "user", login: "octo-user" },
      apiBaseUrl: fake.url,
      workerBaseUrl: "http://127.0.0.1:1",
    });
    const error = await bad.createRepository({ projectId: "p1", slug: "x" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "unavailable", code: "github_unauthorized" });
    expect(JSON.stringify(error)).not.toContain("ghp_wrong_token");
    expect((error as Error).message).not.toContain("ghp_wrong_token");
  });

  it("refuses a repository name that could change the request path", async () => {
    await expect(forge.listCommits({ name: "octo-user/../x" }, { limit: 1 })).rejects.toMatchObject({
      kind: "invalid",
    });
    await expect(forge.hasCommit({ name: "a/b/c" }, "a".repeat(40))).rejects.toMatchObject({
      kind: "invalid",
    });
    expect(() => forge.gitUpstream("../x")).toThrow(/repository name/);
  });

  it("tells a user owner from an organisation, and names a refused token or an unknown owner", async () => {
    const base = { token: TOKEN, apiBaseUrl: fake.url };
    expect(await GithubForge.resolveOwner({ ...base, login: "Octo-User" })).toEqual({
      kind: "user",
      login: "octo-user",
    });
    expect(await GithubForge.resolveOwner({ ...base, login: "acme" })).toEqual({
      kind: "org",
      login: "acme",
    });
    await expect(GithubForge.resolveOwner({ ...base, login: "nobody" })).rejects.toMatchObject({
      kind: "not_found",
    });
    const refused = await GithubForge.resolveOwner({ ...base, token: "ghp_nope", login: "acme" }).catch(
      (e: unknown) => e,
    );
    expect(refused).toMatchObject({ code: "github_unauthorized" });
    expect(JSON.stringify(refused)).not.toContain("ghp_nope");
  });
});

describe("the API's git relay to GitHub", () => {
  let s: Awaited<ReturnType<typeof start>>;
  beforeEach(async () => {
    s = await start();
  });
  afterEach(async () => {
    await s.close();
  });

  it("lets a worker clone and push with its own token; GitHub sees only the forge's", async () => {
    const repo = await s.forge.createRepository({ projectId: "p1", slug: "relayed" });
    const sha = await pushAsWorker(s.forge, s.scratch, repo, {
      message: "m",
      author: "Dev",
      files: { "x.txt": "x" },
    });
    // The commit is on GitHub's repository itself, read there with git.
    const dir = s.fake.gitDir(repo.name) ?? "";
    expect((await runGit(["--git-dir", dir, "rev-parse", "refs/heads/main"])).stdout.toString().trim()).toBe(
      sha,
    );
    expect(s.relayed.every((r) => r.token === WORKER && r.repo === "relayed")).toBe(true);
    expect(s.relayed.some((r) => r.write)).toBe(true);
    const git = s.fake.requests.filter((r) => r.kind === "git");
    expect(git.map((r) => r.url)).toContain("/octo-user/relayed.git/git-receive-pack");
  });

  it("refuses a push with a read-only token (403) and any git without a known token (401)", async () => {
    const repo = await s.forge.createRepository({ projectId: "p1", slug: "guarded" });
    await pushAsWorker(s.forge, s.scratch, repo, { message: "base", author: "Dev", files: { "a.txt": "a" } });
    const checkout = join(s.scratch, "reader");
    await git(s.scratch, ["clone", "--quiet", s.forge.cloneUrlFor(repo, { token: READER }), checkout]);
    await writeFile(join(checkout, "a.txt"), "changed");
    await git(checkout, ["commit", "--quiet", "-am", "try"]);
    const push = await runGit(["push", "origin", "HEAD:refs/heads/main"], { cwd: checkout });
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(/403/);
    const anonymous = await fetch(`${repo.cloneUrl}/info/refs?service=git-upload-pack`);
    expect(anonymous.status).toBe(401);
    const stranger = await runGit([
      "clone",
      s.forge.cloneUrlFor(repo, { token: "orc_stranger" }),
      join(s.scratch, "s"),
    ]);
    expect(stranger.code).not.toBe(0);
  });

  it("answers 404 for a repository GitHub does not have, and 502 when GitHub refuses the forge's token", async () => {
    const repo = await s.forge.createRepository({ projectId: "p1", slug: "exists" });
    const auth = { authorization: `Basic ${Buffer.from(`x-access-token:${WORKER}`).toString("base64")}` };
    const ghost = repo.cloneUrl.replace("exists.git", "ghost.git");
    expect((await fetch(`${ghost}/info/refs?service=git-upload-pack`, { headers: auth })).status).toBe(404);

    const app = Fastify({ logger: false });
    await registerGitHttp(app, {
      forge: new GithubForge({
        token: "ghp_revoked",
        owner: { kind: "user", login: "octo-user" },
        apiBaseUrl: s.fake.url,
        gitBaseUrl: s.fake.url,
        workerBaseUrl: "http://127.0.0.1:1",
      }),
      authorize: async () => true,
    });
    const address = await app.listen({ host: "127.0.0.1", port: 0 });
    try {
      const res = await fetch(`${address}/git/exists.git/info/refs?service=git-upload-pack`, {
        headers: auth,
      });
      expect(res.status).toBe(502);
      expect(res.headers.get("www-authenticate")).toBeNull();
      expect(await res.text()).not.toContain("ghp_revoked");
    } finally {
      await app.close();
    }
  });
});
