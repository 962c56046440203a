import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { git, gitOk } from "./git.js";
import { type FakeGithub, startFakeGithub } from "./server.js";

let fake: FakeGithub;
let scratch: string;
beforeEach(async () => {
  fake = await startFakeGithub({ token: "ghp_t", orgs: ["acme"] });
  scratch = await mkdtemp(join(tmpdir(), "fake-github-test-"));
});
afterEach(async () => {
  await fake.close();
  await rm(scratch, { recursive: true, force: true });
});

function call(method: string, path: string, body?: unknown, token = "ghp_t") {
  return fetch(`${fake.url}${path}`, {
    method,
    headers: { authorization: `token ${token}`, accept: "application/vnd.github+json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** git's own Basic auth for the fake, through command-scope config (never in the URL). */
function basic(token: string): Record<string, string> {
  return {
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "http.extraHeader",
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`,
    GIT_AUTHOR_NAME: "Ada",
    GIT_AUTHOR_EMAIL: "ada@example.invalid",
    GIT_COMMITTER_NAME: "Ada",
    GIT_COMMITTER_EMAIL: "ada@example.invalid",
  };
}

describe("fake GitHub REST API", () => {
  it("answers GitHub's error shapes: 401 Bad credentials, 404 Not Found, 422 name taken, 409 empty", async () => {
    const denied = await call("GET", "/repos/acme/x", undefined, "nope");
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ message: "Bad credentials", status: "401" });
    expect((await call("GET", "/repos/acme/x")).status).toBe(404);

    expect((await call("POST", "/orgs/acme/repos", { name: "x", private: true })).status).toBe(201);
    const taken = await call("POST", "/orgs/acme/repos", { name: "x" });
    expect(taken.status).toBe(422);
    expect(await taken.json()).toMatchObject({
      message: "Repository creation failed.",
      errors: [{ resource: "Repository", field: "name", message: "name already exists on this account" }],
    });
    expect((await call("GET", "/repos/acme/x/commits")).status).toBe(409);
    expect((await call("POST", "/orgs/other/repos", { name: "y" })).status).toBe(404);
  });

  it("names the token's user and the organisations it sees", async () => {
    expect(await (await call("GET", "/user")).json()).toMatchObject({ login: "octo-user", type: "User" });
    expect(await (await call("GET", "/orgs/acme")).json()).toMatchObject({
      login: "acme",
      type: "Organization",
    });
    expect((await call("GET", "/orgs/nobody")).status).toBe(404);
  });
});

describe("fake GitHub git smart HTTP", () => {
  it("takes a real push and serves it back through contents and commits", async () => {
    await call("POST", "/user/repos", { name: "r" });
    const url = `${fake.url}/octo-user/r.git`;
    const work = join(scratch, "work");
    await gitOk(["clone", "--quiet", url, work], { env: basic("ghp_t") });
    await gitOk(["checkout", "--quiet", "-B", "main"], { cwd: work });
    await writeFile(join(work, "hello.txt"), "hello");
    await gitOk(["add", "hello.txt"], { cwd: work });
    await gitOk(["commit", "--quiet", "-m", "m"], { cwd: work, env: basic("ghp_t") });
    await gitOk(["push", "--quiet", "origin", "HEAD:refs/heads/main"], { cwd: work, env: basic("ghp_t") });
    const sha = (await gitOk(["rev-parse", "HEAD"], { cwd: work })).trim();

    const file = (await (await call("GET", `/repos/octo-user/r/contents/hello.txt?ref=${sha}`)).json()) as {
      type: string;
      encoding: string;
      content: string;
    };
    expect(file).toMatchObject({ type: "file", encoding: "base64" });
    expect(Buffer.from(file.content, "base64").toString()).toBe("hello");
    const list = (await (await call("GET", "/repos/octo-user/r/commits?sha=main&per_page=5")).json()) as {
      sha: string;
      commit: { message: string; author: { name: string } };
    }[];
    expect(list).toMatchObject([{ sha, commit: { message: "m", author: { name: "Ada" } } }]);
    expect((await call("GET", `/repos/octo-user/r/commits/${"0".repeat(40)}`)).status).toBe(422);
    expect(fake.requests.filter((r) => r.kind === "git").map((r) => r.method)).toContain("POST");
  });

  it("refuses git without the token (401 Basic challenge) and a repository that does not exist (404)", async () => {
    await call("POST", "/orgs/acme/repos", { name: "locked" });
    const anonymous = await fetch(`${fake.url}/acme/locked.git/info/refs?service=git-upload-pack`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Basic realm="GitHub"');
    const wrong = await git(["clone", `${fake.url}/acme/locked.git`, join(scratch, "x")], {
      env: basic("ghp_wrong"),
    });
    expect(wrong.code).not.toBe(0);
    const ghost = await git(["clone", `${fake.url}/acme/ghost.git`, join(scratch, "y")], {
      env: basic("ghp_t"),
    });
    expect(ghost.code).not.toBe(0);
    expect(ghost.stderr).toMatch(/not found|404/i);
  });

  it("push() commits with git on top of the branch, folders list their entries", async () => {
    await call("POST", "/user/repos", { name: "p" });
    const first = await fake.push("octo-user/p", {
      message: "one",
      author: "Ada",
      files: { "dir/a.txt": "a" },
    });
    const second = await fake.push("octo-user/p", {
      message: "two",
      author: "Bob",
      files: { "dir/b.txt": "b" },
    });
    const dir = (await (
      await call("GET", `/repos/octo-user/p/contents/dir?ref=${second}`)
    ).json()) as unknown[];
    expect(dir).toEqual([
      { name: "a.txt", path: "dir/a.txt", type: "file" },
      { name: "b.txt", path: "dir/b.txt", type: "file" },
    ]);
    const one = (await (await call("GET", `/repos/octo-user/p/commits/${second}`)).json()) as {
      parents: { sha: string }[];
    };
    expect(one.parents.map((p) => p.sha)).toEqual([first]);
  });
});
