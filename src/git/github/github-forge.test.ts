import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeGithub, startFakeGithub } from "../../../test/fakes/github/index.js";
import { runForgeConformance } from "../forge.conformance.js";
import { GithubForge } from "./github-forge.js";

const TOKEN = "ghp_test_admin_token";
/** Why the conformance checks GitHub's `orchestratorAccess` by shape: the fake cannot receive a push. */
const FAKE_SPEAKS_NO_GIT = "the fake GitHub serves the REST API only, not git smart HTTP";

/** The fake GitHub and a forge pointed at it, creating in `owner` (the user, or an organisation). */
async function start(owner: { kind: "user" | "org"; login: string } = { kind: "user", login: "octo-user" }) {
  const fake = await startFakeGithub({ token: TOKEN, userLogin: "octo-user", orgs: ["acme"] });
  const forge = new GithubForge({ token: TOKEN, owner, apiBaseUrl: fake.url, gitBaseUrl: fake.url });
  return { fake, forge };
}

// The fake speaks no git protocol: "push" is simulated by the fake adding the commit itself.
runForgeConformance("GithubForge against the fake GitHub REST API", async () => {
  const { fake, forge } = await start();
  return {
    forge,
    push: async (repo, spec) => fake.push(repo.name, spec),
    orchestratorGit: { shapeOnly: FAKE_SPEAKS_NO_GIT, token: TOKEN },
    close: () => fake.close(),
  };
});

runForgeConformance("GithubForge in an organisation", async () => {
  const { fake, forge } = await start({ kind: "org", login: "acme" });
  return {
    forge,
    push: async (repo, spec) => fake.push(repo.name, spec),
    orchestratorGit: { shapeOnly: FAKE_SPEAKS_NO_GIT, token: TOKEN },
    close: () => fake.close(),
  };
});

describe("GithubForge", () => {
  let fake: FakeGithub;
  let forge: GithubForge;
  beforeEach(async () => {
    ({ fake, forge } = await start());
  });
  afterEach(async () => {
    await fake.close();
  });

  it("creates a private repository with GitHub's names and URLs", async () => {
    const repo = await forge.createRepository({ projectId: "p1", slug: "shop-bot", description: "A shop" });
    expect(repo).toEqual({
      name: "octo-user/shop-bot",
      cloneUrl: `${fake.url}/octo-user/shop-bot.git`,
      defaultBranch: "main",
      webUrl: `${fake.url}/octo-user/shop-bot`,
    });
    expect(forge.cloneUrlFor(repo, { token: "ghs_worker" })).toBe(
      `${fake.url.replace("://", "://x-access-token:ghs_worker@")}/octo-user/shop-bot.git`,
    );
    const posts = fake.requests.filter((r) => r.method === "POST").map((r) => r.url);
    expect(posts).toEqual(["/user/repos"]);
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
    const sha = fake.push(repo.name, { message: "big", author: "Ada", files: { "big.txt": big } });
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
    await expect(forge.hasCommit({ name: "no-owner" }, "a".repeat(40))).rejects.toMatchObject({
      kind: "invalid",
    });
  });
});
