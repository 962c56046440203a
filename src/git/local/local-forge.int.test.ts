import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { type ClientRequest, request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type PushSpec, runForgeConformance } from "../forge.conformance.js";
import type { ForgeRepository } from "../forge.js";
import { registerGitHttp } from "../http.js";
import { runGit } from "./git-command.js";
import { LocalForge } from "./local-forge.js";

const GOOD = "tok-good";
const READER = "tok-reader";

/** A data dir, a LocalForge and the git HTTP plugin on a bare Fastify listening on 127.0.0.1:0. */
async function startServer(requestTimeoutMs?: number) {
  const dir = await mkdtemp(join(tmpdir(), "local-forge-"));
  const app = Fastify({ logger: false });
  const forge = new LocalForge({ dataDir: join(dir, "data"), baseUrl: "http://127.0.0.1:1" });
  const calls: { token: string; repo: string; write: boolean }[] = [];
  const encodings: string[] = [];
  app.addHook("onRequest", async (request) => {
    const encoding = request.headers["content-encoding"];
    if (typeof encoding === "string") encodings.push(encoding);
  });
  await registerGitHttp(app, {
    forge,
    ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
    authorize: async (token, repo, write) => {
      calls.push({ token, repo, write });
      return token === GOOD || (token === READER && !write);
    },
  });
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  // The forge must hand out URLs to the real listener: rebuild it with the bound address.
  const served = new LocalForge({ dataDir: join(dir, "data"), baseUrl: address });
  return { dir, app, forge: served, calls, encodings };
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

/** Pushes one commit the way a worker does: clone over HTTP with a token, commit, push. */
async function pushOverHttp(forge: LocalForge, work: string, repo: ForgeRepository, spec: PushSpec) {
  const checkout = await mkdtemp(join(work, "clone-"));
  try {
    await git(work, ["clone", "--quiet", forge.cloneUrlFor(repo, { token: GOOD }), checkout]);
    const branch = spec.branch ?? repo.defaultBranch;
    await git(checkout, ["checkout", "--quiet", "-B", branch]);
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

runForgeConformance("LocalForge over git smart HTTP", async () => {
  const s = await startServer();
  return {
    forge: s.forge,
    push: (repo, spec) => pushOverHttp(s.forge, s.dir, repo, spec),
    close: async () => {
      await s.app.close();
      await rm(s.dir, { recursive: true, force: true });
    },
  };
});

describe("git smart HTTP plugin", () => {
  let s: Awaited<ReturnType<typeof startServer>>;
  let app: FastifyInstance;
  beforeEach(async () => {
    s = await startServer();
    app = s.app;
  });
  afterEach(async () => {
    await app.close();
    await rm(s.dir, { recursive: true, force: true });
  });

  it("clones, pushes and is seen by the forge; authorize gets the repo and read/write", async () => {
    const repo = await s.forge.createRepository({ projectId: "p1", slug: "shop-bot" });
    const sha = await pushOverHttp(s.forge, s.dir, repo, {
      message: "add app",
      author: "Dev",
      files: { "app.txt": "v1\n" },
    });
    expect(await s.forge.hasCommit(repo, sha)).toBe(true);
    expect(await s.forge.readFile(repo, sha, "app.txt")).toBe("v1\n");
    expect((await s.forge.listCommits(repo, { limit: 5 }))[0]).toMatchObject({ sha, author: "Dev" });
    expect(s.calls.some((c) => c.repo === "shop-bot" && c.write)).toBe(true);
    expect(s.calls.some((c) => c.repo === "shop-bot" && !c.write)).toBe(true);
    expect(s.calls.every((c) => c.token === GOOD)).toBe(true);
  });

  it("answers 401 with a Basic challenge without or with a wrong token, and git clone fails", async () => {
    const repo = await s.forge.createRepository({ projectId: "p1", slug: "locked" });
    const res = await fetch(`${repo.cloneUrl}/info/refs?service=git-upload-pack`);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Basic realm="orchestrator"');
    const target = join(s.dir, "denied");
    const result = await runGit(["clone", s.forge.cloneUrlFor(repo, { token: "wrong" }), target]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/401|Authentication failed/);
    expect(result.stderr).not.toContain("wrong");
  });

  it("lets a read-only token clone but refuses its push with 403", async () => {
    const repo = await s.forge.createRepository({ projectId: "p1", slug: "read-only" });
    const sha = await pushOverHttp(s.forge, s.dir, repo, {
      message: "base",
      author: "Dev",
      files: { "a.txt": "a\n" },
    });
    const checkout = join(s.dir, "reader");
    await git(s.dir, ["clone", "--quiet", s.forge.cloneUrlFor(repo, { token: READER }), checkout]);
    await writeFile(join(checkout, "a.txt"), "changed\n");
    await git(checkout, ["commit", "--quiet", "-am", "try"]);
    const push = await runGit(["push", "origin", "HEAD:refs/heads/main"], { cwd: checkout });
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(/403/);
    expect((await s.forge.listCommits(repo, { limit: 5 })).map((c) => c.sha)).toEqual([sha]);
  });

  it("accepts gzip-encoded request bodies (git compresses large fetch negotiations)", async () => {
    const repo = await s.forge.createRepository({ projectId: "p1", slug: "many-branches" });
    await pushOverHttp(s.forge, s.dir, repo, { message: "base", author: "Dev", files: { "a.txt": "a\n" } });
    const checkout = join(s.dir, "brancher");
    await git(s.dir, ["clone", "--quiet", s.forge.cloneUrlFor(repo, { token: GOOD }), checkout]);
    // Enough distinct tips that the clone's want list passes git's 1 KiB gzip threshold.
    for (let i = 0; i < 40; i++) {
      await git(checkout, ["commit", "--quiet", "--allow-empty", "-m", `c${i}`]);
      await git(checkout, ["branch", `b${i}`]);
    }
    await git(checkout, ["push", "--quiet", "origin", "--all"]);
    const again = join(s.dir, "again");
    await git(s.dir, [
      "clone",
      "--quiet",
      "--no-single-branch",
      s.forge.cloneUrlFor(repo, { token: GOOD }),
      again,
    ]);
    expect(await git(again, ["rev-parse", "origin/b39"])).toBe(await git(checkout, ["rev-parse", "b39"]));
    expect(s.encodings).toContain("gzip");
  });

  it("hands the orchestrator the bare repository's absolute path and no credentials", async () => {
    const repo = await s.forge.createRepository({ projectId: "p1", slug: "seeded" });
    expect(await s.forge.orchestratorAccess(repo)).toEqual({
      url: join(s.forge.root, "seeded.git"),
      env: {},
    });
    expect(isAbsolute(s.forge.root)).toBe(true);
    const relative = new LocalForge({ dataDir: "relative-data", baseUrl: "http://127.0.0.1:1" });
    expect(isAbsolute(relative.root)).toBe(true);
  });

  it("creates one repository when two creations race, leaving no temporary directory", async () => {
    const input = { projectId: "p1", slug: "raced" };
    const [a, b] = await Promise.all([s.forge.createRepository(input), s.forge.createRepository(input)]);
    expect(a).toEqual(b);
    expect(await readdir(s.forge.root)).toEqual(["raced.git"]);
  });

  it("cuts off a request whose body never ends once its deadline passes", async () => {
    const slow = await startServer(300);
    try {
      const repo = await slow.forge.createRepository({ projectId: "p1", slug: "slow" });
      const url = new URL(`${repo.cloneUrl}/git-receive-pack`);
      let slowRequest: ClientRequest | undefined;
      const outcome = await new Promise<string>((resolve) => {
        const req = request(url, {
          method: "POST",
          headers: {
            "content-type": "application/x-git-receive-pack-request",
            authorization: `Basic ${Buffer.from(`x-access-token:${GOOD}`).toString("base64")}`,
          },
        });
        req.on("response", (res) => {
          res.resume();
          res.on("error", () => resolve("reset"));
          res.on("close", () => resolve(res.complete ? `complete ${res.statusCode}` : "reset"));
        });
        req.on("error", () => resolve("reset"));
        // A pkt-line header announcing more bytes than ever come: receive-pack waits on its input.
        req.write("00a0");
        slowRequest = req;
      });
      slowRequest?.destroy();
      expect(outcome).toBe("reset");
    } finally {
      await slow.app.close();
      await rm(slow.dir, { recursive: true, force: true });
    }
  });

  it("answers 404 for an unknown repository or a path outside the smart protocol", async () => {
    const auth = { authorization: `Basic ${Buffer.from(`x-access-token:${GOOD}`).toString("base64")}` };
    const repo = await s.forge.createRepository({ projectId: "p1", slug: "known" });
    const base = repo.cloneUrl.replace(/\/git\/known\.git$/, "");
    expect(
      (await fetch(`${base}/git/ghost.git/info/refs?service=git-upload-pack`, { headers: auth })).status,
    ).toBe(404);
    expect((await fetch(`${base}/git/known.git/config`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${base}/git/..%2Fknown.git/info/refs`, { headers: auth })).status).toBe(404);
  });
});
