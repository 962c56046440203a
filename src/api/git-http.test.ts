import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import { issueToken } from "../auth/index.js";
import type { AgentRole, Project } from "../contracts/index.js";
import {
  basicAuthEnv,
  type ForgeRepository,
  type LocalForge,
  WORKSPACE_CREDENTIAL_HELPER,
} from "../git/index.js";
import { authorizeGit } from "./routes/git.js";

// Real git against the API listening on loopback, serving a LocalForge: clone and push with API
// tokens as a worker (Basic auth from the environment or from the workspace credential helper).

let h: ApiHarness & { url: string | null };
let forge: LocalForge;
let work: string;
let mine: { project: Project; repo: ForgeRepository };
let other: { project: Project; repo: ForgeRepository };
/** Every token these tests hand to git: none may show up in the API's log. */
const issued: string[] = [];

const IDENTITY = {
  GIT_AUTHOR_NAME: "Worker",
  GIT_AUTHOR_EMAIL: "worker@example.invalid",
  GIT_COMMITTER_NAME: "Worker",
  GIT_COMMITTER_EMAIL: "worker@example.invalid",
};

/**
 * Runs git as a worker's sandbox would: a clean environment (no user or system config, no prompts)
 * with the test identity plus `env`. Resolves with the exit code and output whatever the code.
 */
function git(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    LANG: "C",
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
  };
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd, env: { ...clean, ...IDENTITY, ...env }, stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.stdin.end();
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Like `git`, but throws with stderr when git fails; returns trimmed stdout. */
async function gitOk(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const result = await git(cwd, args, env);
  if (result.code !== 0) throw new Error(`git ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** A fresh directory for one clone. */
async function target(): Promise<string> {
  return join(await mkdtemp(join(work, "clone-")), "repo");
}

/** Commits one file in `checkout` and pushes it to main with `env`; returns git's result and the SHA. */
async function commitAndPush(checkout: string, file: string, env: Record<string, string>) {
  await writeFile(join(checkout, file), `${file}\n`);
  await gitOk(checkout, ["add", "--all"]);
  await gitOk(checkout, ["commit", "--quiet", "-m", `add ${file}`]);
  const sha = await gitOk(checkout, ["rev-parse", "HEAD"]);
  return { push: await git(checkout, ["push", "origin", "HEAD:refs/heads/main"], env), sha };
}

/**
 * What git shows when the server answered 401: with the token in an extra header it then asks for
 * a username (prompts are off, so it fails); with a credential helper it says the credential failed.
 */
const AUTH_FAILED = /could not read Username|Authentication failed/;

/** The status of the first request of a clone (`info/refs`), sent with `token` as git sends it. */
async function refsStatus(repo: ForgeRepository, token: string | null): Promise<number> {
  const headers: Record<string, string> = token
    ? { authorization: `Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}` }
    : {};
  return (await fetch(`${repo.cloneUrl}/info/refs?service=git-upload-pack`, { headers })).status;
}

async function workerToken(project: Project, role: AgentRole): Promise<string> {
  const { token } = await issueToken(h.store, {
    name: `${role}-${project.slug}`,
    kind: "worker",
    projectId: project.id,
    role,
    workerId: null,
    groups: ["projects"],
  });
  issued.push(token);
  return token;
}

/** A project, its repository on the forge, and one first commit pushed with the admin token. */
async function projectWithRepo(name: string) {
  const project = await h.store.projects.create({ name });
  const repo = await forge.createRepository({ projectId: project.id, slug: project.slug });
  const checkout = await target();
  const admin = basicAuthEnv(h.adminToken);
  await gitOk(work, ["clone", "--quiet", repo.cloneUrl, checkout], admin);
  const { push } = await commitAndPush(checkout, "README.md", admin);
  expect(push.code, push.stderr).toBe(0);
  return { project, repo };
}

beforeAll(async () => {
  h = await startApiHarness({ listen: true, localForge: true });
  if (!h.forge) throw new Error("the harness serves no forge");
  forge = h.forge;
  issued.push(h.adminToken);
  work = await mkdtemp(join(tmpdir(), "git-http-"));
  mine = await projectWithRepo("Shop Bot");
  other = await projectWithRepo("Other Shop");
});
afterAll(async () => {
  await h.close();
  await rm(work, { recursive: true, force: true });
});

describe("git smart HTTP on the API", () => {
  it("lets a developer token clone and push its project's repository with the token in git's env only", async () => {
    const token = await workerToken(mine.project, "developer");
    const env = basicAuthEnv(token);
    expect(new URL(mine.repo.cloneUrl).password).toBe("");
    const checkout = await target();
    await gitOk(work, ["clone", "--quiet", mine.repo.cloneUrl, checkout], env);
    const { push, sha } = await commitAndPush(checkout, "env.txt", env);
    expect(push.code, push.stderr).toBe(0);
    expect(await forge.hasCommit(mine.repo, sha)).toBe(true);
    expect((await forge.listCommits(mine.repo, { limit: 1 }))[0]?.sha).toBe(sha);
    expect(await readFile(join(checkout, ".git", "config"), "utf8")).not.toContain(token);
  });

  it("lets a developer clone and push through the workspace credential helper and ORCHESTRATOR_TOKEN", async () => {
    const token = await workerToken(mine.project, "developer");
    const env = { ORCHESTRATOR_TOKEN: token };
    const helper = `credential.helper=${WORKSPACE_CREDENTIAL_HELPER}`;
    const checkout = await target();
    await gitOk(work, ["-c", helper, "clone", "--quiet", mine.repo.cloneUrl, checkout], env);
    // As a workspace is set up: the helper in the repository's config, the token only in the env.
    await gitOk(checkout, ["config", "credential.helper", WORKSPACE_CREDENTIAL_HELPER]);
    const { push, sha } = await commitAndPush(checkout, "helper.txt", env);
    expect(push.code, push.stderr).toBe(0);
    expect(await forge.hasCommit(mine.repo, sha)).toBe(true);
    expect(await readFile(join(checkout, ".git", "config"), "utf8")).not.toContain(token);
    // Without the token in the environment the same workspace cannot fetch.
    const bare = await git(checkout, ["fetch", "--quiet", "origin"]);
    expect(bare.code).not.toBe(0);
  });

  it("refuses a worker token another project's repository", async () => {
    const token = await workerToken(mine.project, "developer");
    const viaEnv = await git(work, ["clone", other.repo.cloneUrl, await target()], basicAuthEnv(token));
    expect(viaEnv.code).not.toBe(0);
    expect(viaEnv.stderr).toMatch(AUTH_FAILED);
    expect(await refsStatus(other.repo, token)).toBe(401);
    expect(await refsStatus(mine.repo, token)).toBe(200);
    const viaHelper = await git(
      work,
      [
        "-c",
        `credential.helper=${WORKSPACE_CREDENTIAL_HELPER}`,
        "clone",
        other.repo.cloneUrl,
        await target(),
      ],
      { ORCHESTRATOR_TOKEN: token },
    );
    expect(viaHelper.code).not.toBe(0);
    expect(viaHelper.stderr).toMatch(/Authentication failed/);
    expect(viaHelper.stderr).not.toContain(token);
  });

  it("lets a tester token clone but refuses its push with 403", async () => {
    const token = await workerToken(mine.project, "tester");
    const env = basicAuthEnv(token);
    const before = (await forge.listCommits(mine.repo, { limit: 1 }))[0]?.sha;
    const checkout = await target();
    await gitOk(work, ["clone", "--quiet", mine.repo.cloneUrl, checkout], env);
    const { push, sha } = await commitAndPush(checkout, "tester.txt", env);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(/403/);
    expect(await forge.hasCommit(mine.repo, sha)).toBe(false);
    expect((await forge.listCommits(mine.repo, { limit: 1 }))[0]?.sha).toBe(before);
  });

  it("refuses a clone without a token or with an unknown one as an authentication failure", async () => {
    const none = await git(work, ["clone", mine.repo.cloneUrl, await target()]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(AUTH_FAILED);
    expect(await refsStatus(mine.repo, null)).toBe(401);
    const wrong = await git(work, ["clone", mine.repo.cloneUrl, await target()], basicAuthEnv("orc_wrong"));
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(AUTH_FAILED);
    expect(await refsStatus(mine.repo, "orc_wrong")).toBe(401);
    const helper = await git(
      work,
      ["-c", `credential.helper=${WORKSPACE_CREDENTIAL_HELPER}`, "clone", mine.repo.cloneUrl, await target()],
      { ORCHESTRATOR_TOKEN: "orc_wrong" },
    );
    expect(helper.code).not.toBe(0);
    expect(helper.stderr).toMatch(/Authentication failed/);
  });

  it("lets the admin token clone any project's repository", async () => {
    for (const { repo } of [mine, other]) {
      const checkout = await target();
      await gitOk(work, ["clone", "--quiet", repo.cloneUrl, checkout], basicAuthEnv(h.adminToken));
      expect(await readFile(join(checkout, "README.md"), "utf8")).toBe("README.md\n");
    }
  });

  it("decides by role: developer and architect push, every role of the project clones", async () => {
    const cases: [AgentRole, boolean][] = [
      ["developer", true],
      ["architect", true],
      ["tester", false],
      ["devops", false],
      ["po", false],
    ];
    for (const [role, canPush] of cases) {
      const token = await workerToken(mine.project, role);
      expect(await authorizeGit(h.store, token, mine.repo.name, false), role).toBe(true);
      expect(await authorizeGit(h.store, token, mine.repo.name, true), role).toBe(canPush);
      expect(await authorizeGit(h.store, token, other.repo.name, false), role).toBe(false);
    }
    const { token, record } = await issueToken(h.store, {
      name: "revoked",
      kind: "worker",
      projectId: mine.project.id,
      role: "developer",
    });
    expect(await authorizeGit(h.store, token, mine.repo.name, true)).toBe(true);
    await h.store.apiTokens.revoke(record.id);
    expect(await authorizeGit(h.store, token, mine.repo.name, false)).toBe(false);
    expect(await authorizeGit(h.store, "orc_unknown", mine.repo.name, false)).toBe(false);
  });

  // Runs last (tests in a file run in order): every token above has been sent to the API by now.
  it("never writes a token to the API's log", () => {
    const log = h.logLines.join("");
    expect(log).toContain("/git/shop-bot.git/git-receive-pack");
    for (const token of issued) expect(log).not.toContain(token);
    const basics = issued.map((t) => Buffer.from(`x-access-token:${t}`).toString("base64"));
    for (const basic of basics) expect(log).not.toContain(basic);
  });
});
