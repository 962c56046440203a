import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../contracts/index.js";
import type { GitAccess } from "./access.js";
import type { Forge, ForgeRepository } from "./forge.js";
import { runGit } from "./local/git-command.js";

/** One commit a harness pushes the way a worker would. */
export interface PushSpec {
  /** Branch to push to (default: the repository's default branch). */
  branch?: string;
  message: string;
  author: string;
  /** Files written (added or replaced) by this commit, path -> text. */
  files: Record<string, string>;
}

/** What the suite needs from a provider: the forge and a way to push a commit to one of its repos. */
export interface ForgeHarness {
  forge: Forge;
  /** Pushes one commit on top of the branch and returns its SHA. */
  push(repo: ForgeRepository, spec: PushSpec): Promise<string>;
  close(): Promise<void>;
}

/** Clones with `access`, writes one file, commits and pushes to `branch`; returns the new commit's SHA. */
async function pushWithAccess(
  access: GitAccess,
  branch: string,
  file: string,
  text: string,
): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), "forge-access-"));
  const env = {
    ...access.env,
    GIT_AUTHOR_NAME: "Orchestrator",
    GIT_AUTHOR_EMAIL: "orchestrator@example.invalid",
    GIT_COMMITTER_NAME: "Orchestrator",
    GIT_COMMITTER_EMAIL: "orchestrator@example.invalid",
  };
  const git = async (cwd: string, args: string[]) => {
    const result = await runGit(args, { cwd, env });
    if (result.code !== 0) throw new Error(`git ${args[0]} failed: ${result.stderr}`);
    return result.stdout.toString("utf8").trim();
  };
  try {
    const checkout = join(work, "checkout");
    await git(work, ["clone", "--quiet", access.url, checkout]);
    await git(checkout, ["checkout", "--quiet", "-B", branch]);
    await writeFile(join(checkout, file), text);
    await git(checkout, ["add", "--all"]);
    await git(checkout, ["commit", "--quiet", "-m", `orchestrator writes ${file}`]);
    await git(checkout, ["push", "--quiet", "origin", `HEAD:refs/heads/${branch}`]);
    return await git(checkout, ["rev-parse", "HEAD"]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The one behavioural suite every `Forge` provider passes. `open` gives a fresh harness per test;
 * repository slugs are random so providers may share state between tests.
 */
export function runForgeConformance(name: string, open: () => Promise<ForgeHarness>): void {
  describe(`Forge conformance: ${name}`, () => {
    let h: ForgeHarness;
    let slug: string;
    beforeEach(async () => {
      h = await open();
      slug = `proj-${randomBytes(4).toString("hex")}`;
    });
    afterEach(async () => {
      await h.close();
    });

    const create = () => h.forge.createRepository({ projectId: "p1", slug, description: "a test project" });

    it("creates an empty repository on main, and creating it again returns the same one", async () => {
      const repo = await create();
      expect(repo.defaultBranch).toBe("main");
      expect(repo.name).toContain(slug);
      const url = new URL(repo.cloneUrl);
      expect(url.username).toBe("");
      expect(url.password).toBe("");
      expect(await create()).toEqual(repo);
      expect(await h.forge.defaultBranch(repo)).toBe("main");
      expect(await h.forge.listCommits(repo, { limit: 10 })).toEqual([]);
      expect(await h.forge.hasCommit(repo, "0".repeat(40))).toBe(false);
    });

    it("puts the token in the clone URL for workers only", async () => {
      const repo = await create();
      const withToken = new URL(h.forge.cloneUrlFor(repo, { token: "tok-123" }));
      expect(withToken.username).toBe("x-access-token");
      expect(withToken.password).toBe("tok-123");
      withToken.username = "";
      withToken.password = "";
      expect(withToken.toString()).toBe(repo.cloneUrl);
      expect(() => h.forge.cloneUrlFor(repo, { token: "" })).toThrow(AppError);
    });

    it("gives the orchestrator git access without credentials in the URL, and it clones and pushes", async () => {
      const repo = await create();
      const base = await h.push(repo, { message: "base", author: "Ada", files: { "a.txt": "a\n" } });
      const access = await h.forge.orchestratorAccess(repo);
      if (URL.canParse(access.url)) {
        const url = new URL(access.url);
        expect(url.username).toBe("");
        expect(url.password).toBe("");
      }
      const ghost = { name: repo.name.replace(slug, `${slug}-ghost`) };
      await expect(h.forge.orchestratorAccess(ghost)).rejects.toMatchObject({ kind: "not_found" });

      const sha = await pushWithAccess(access, repo.defaultBranch, "orchestrator.txt", "seeded\n");
      expect(await h.forge.hasCommit(repo, sha)).toBe(true);
      expect((await h.forge.listCommits(repo, { limit: 10 })).map((c) => c.sha)).toEqual([sha, base]);
      expect(await h.forge.readFile(repo, sha, "orchestrator.txt")).toBe("seeded\n");
    });

    it("refuses a slug that could escape a directory or URL", async () => {
      for (const bad of ["../x", "a/b", "Upper", "-dash", "x.git", ""]) {
        await expect(
          h.forge.createRepository({ projectId: "p1", slug: bad, description: "" }),
        ).rejects.toMatchObject({ kind: "invalid" });
      }
    });

    it("sees pushed commits: hasCommit, readFile at each commit, listCommits newest first", async () => {
      const repo = await create();
      const first = await h.push(repo, {
        message: "first commit",
        author: "Ada",
        files: { "README.md": "hello\n", "src/app.ts": "export const a = 1;\n" },
      });
      const second = await h.push(repo, {
        message: "second commit\n\nwith a body",
        author: "Grace",
        files: { "README.md": "hello again\n" },
      });
      expect(await h.forge.hasCommit(repo, first)).toBe(true);
      expect(await h.forge.hasCommit(repo, second)).toBe(true);
      expect(await h.forge.hasCommit(repo, "1".repeat(40))).toBe(false);
      expect(await h.forge.hasCommit(repo, "not-a-sha")).toBe(false);

      expect(await h.forge.readFile(repo, first, "README.md")).toBe("hello\n");
      expect(await h.forge.readFile(repo, second, "README.md")).toBe("hello again\n");
      expect(await h.forge.readFile(repo, second, "src/app.ts")).toBe("export const a = 1;\n");
      expect(await h.forge.readFile(repo, second, "missing.txt")).toBeNull();
      expect(await h.forge.readFile(repo, second, "src")).toBeNull();

      const commits = await h.forge.listCommits(repo, { limit: 10 });
      expect(commits.map((c) => c.sha)).toEqual([second, first]);
      expect(commits[0]).toMatchObject({ author: "Grace", message: "second commit\n\nwith a body" });
      expect(commits[1]).toMatchObject({ author: "Ada", message: "first commit" });
      expect(commits[0]?.date).toBeInstanceOf(Date);
      expect(Number.isNaN(commits[0]?.date.getTime())).toBe(false);
      expect((await h.forge.listCommits(repo, { limit: 1 })).map((c) => c.sha)).toEqual([second]);
    });

    it("lists a branch apart from the default branch; an unknown branch is empty", async () => {
      const repo = await create();
      const onMain = await h.push(repo, { message: "base", author: "Ada", files: { "a.txt": "a\n" } });
      const onFeature = await h.push(repo, {
        branch: "feature-x",
        message: "feature",
        author: "Ada",
        files: { "b.txt": "b\n" },
      });
      expect((await h.forge.listCommits(repo, { limit: 10 })).map((c) => c.sha)).toEqual([onMain]);
      const feature = await h.forge.listCommits(repo, { branch: "feature-x", limit: 10 });
      expect(feature.map((c) => c.sha)).toEqual([onFeature, onMain]);
      expect(await h.forge.listCommits(repo, { branch: "nope", limit: 10 })).toEqual([]);
      for (const bad of ["main..feature-x", "-all", "a//b", "x@{1}"]) {
        await expect(h.forge.listCommits(repo, { branch: bad, limit: 10 })).rejects.toMatchObject({
          kind: "invalid",
        });
      }
      expect(await h.forge.readFile(repo, onFeature, "b.txt")).toBe("b\n");
    });

    it("answers not_found for an unknown commit or repository and invalid for bad input", async () => {
      const repo = await create();
      const sha = await h.push(repo, { message: "m", author: "Ada", files: { "a.txt": "a\n" } });
      await expect(h.forge.readFile(repo, "2".repeat(40), "a.txt")).rejects.toMatchObject({
        kind: "not_found",
      });
      await expect(h.forge.readFile(repo, sha, "../etc/passwd")).rejects.toMatchObject({ kind: "invalid" });
      await expect(h.forge.readFile(repo, "HEAD", "a.txt")).rejects.toMatchObject({ kind: "invalid" });
      const ghost = { name: repo.name.replace(slug, `${slug}-ghost`) };
      await expect(h.forge.listCommits(ghost, { limit: 1 })).rejects.toMatchObject({ kind: "not_found" });
      await expect(h.forge.hasCommit(ghost, sha)).rejects.toMatchObject({ kind: "not_found" });
    });
  });
}
