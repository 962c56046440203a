import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { gitEnv } from "../../../test/support/git.js";
import { freePort } from "../../../test/support/ports.js";
import { executeStep, type StepContext } from "./scripted-agent-steps.js";

/** An API stand-in answering each tool call with the next status of `statuses` (then the last). */
async function api(statuses: number[]): Promise<{ url: string; calls: unknown[]; server: Server }> {
  const calls: unknown[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      calls.push(JSON.parse(body));
      const status = statuses[Math.min(calls.length, statuses.length) - 1] ?? 200;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(
        JSON.stringify(status === 200 ? { data: { recorded: true } } : { error: { code: `s${status}` } }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

const context = (url: string, apiRetryWindowMs = 10_000): StepContext => ({
  workspace: "/nonexistent",
  env: { ORCHESTRATOR_API_URL: url, ORCHESTRATOR_TOKEN: "orc_worker" },
  apiRetryWindowMs,
});
const report = { report: { status: "failed", summary: "could not do it" } } as const;

describe("the scripted agent's tool calls", () => {
  it("try again while the API answers 503, and succeed once it answers", async () => {
    const { url, calls } = await api([503, 502, 200]);
    const outcome = await executeStep(context(url), report);
    expect(outcome).toEqual({ ok: true, detail: "report: HTTP 200 (try 3)" });
    expect(calls).toHaveLength(3);
    expect(calls[2]).toMatchObject({ status: "failed", summary: "could not do it" });
  });

  it("try again while nothing listens, and reach the API once it is up", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const calls: unknown[] = [];
    const later = setTimeout(() => {
      const server = createServer((req, res) => {
        req.resume();
        req.on("end", () => {
          calls.push(req.url);
          res.writeHead(200, { "content-type": "application/json" });
          res.end("{}");
        });
      });
      servers.push(server);
      server.listen(port, "127.0.0.1");
    }, 700);
    try {
      const outcome = await executeStep(context(url), { progress: { step: "writing tests" } });
      expect(outcome.ok, outcome.detail).toBe(true);
      expect(calls).toEqual(["/api/tools/progress"]);
    } finally {
      clearTimeout(later);
    }
  });

  it("take any other refusal as final, at once", async () => {
    const { url, calls } = await api([400]);
    const outcome = await executeStep(context(url), report);
    expect(outcome.ok).toBe(false);
    expect(outcome.detail).toMatch(/^report: HTTP 400 /);
    expect(calls).toHaveLength(1);
  });

  it("give up once the retry window ends, saying what the last try met", async () => {
    const { url, calls } = await api([503]);
    const outcome = await executeStep(context(url, 600), report);
    expect(outcome.ok).toBe(false);
    expect(outcome.detail).toMatch(/^report: HTTP 503 .*\(try \d+\)$/);
    expect(calls.length).toBeGreaterThan(1);
  });
});

describe("the scripted agent's commit step", () => {
  /** A workspace with one file to commit and `origin` at `remote`. */
  const workspaceWith = (remote: string): string => {
    const dir = mkdtempSync(join(tmpdir(), "scripted-commit-"));
    const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, stdio: "ignore" });
    git("init", "--quiet", "--initial-branch=main");
    git("remote", "add", "origin", remote);
    execFileSync("sh", ["-c", "echo hello > a.txt"], { cwd: dir });
    return dir;
  };
  /** Runs the commit step in `dir` with `windowMs` to try the push again. */
  const commitIn = (dir: string, windowMs = 10_000) =>
    executeStep(
      { workspace: dir, env: { PATH: process.env.PATH, HOME: dir }, apiRetryWindowMs: windowMs },
      { commit: { message: "Add a" } },
    );

  it("tries a push the server never answered again, and says how often it tried", async () => {
    const dir = workspaceWith(`http://127.0.0.1:${await freePort()}/git/p.git`);
    try {
      const outcome = await commitIn(dir, 800);
      expect(outcome.ok).toBe(false);
      expect(outcome.detail).toMatch(/^git push origin .*\(try [2-9]\d*\)$/s);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /**
   * A bare repository (filled by `seed`) whose next push meets another update of the branch before
   * its own: a pre-receive hook moves the branch to `target`, or to the pushed commit, as a push the
   * server finished after its answer was lost would have.
   */
  const racedRemote = (root: string, target?: string, seed?: (bare: string) => void): string => {
    const bare = join(root, "raced.git");
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", bare]);
    seed?.(bare);
    const hook = join(bare, "hooks", "pre-receive");
    writeFileSync(
      hook,
      [
        "#!/bin/sh",
        "[ -f raced ] && exit 0",
        "touch raced",
        "while read old new ref; do",
        '  [ -n "$GIT_QUARANTINE_PATH" ] && cp -r "$GIT_QUARANTINE_PATH"/. objects/',
        `  env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES git update-ref "$ref" ${target ?? '"$new"'}`,
        "done",
        "",
      ].join("\n"),
    );
    chmodSync(hook, 0o755);
    return bare;
  };
  /** A scratch folder removed when the test ends. */
  const scratch = (): string => {
    const root = mkdtempSync(join(tmpdir(), "scripted-raced-"));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    return root;
  };
  const gitIn = (dir: string, ...args: string[]): string =>
    execFileSync("git", args, { cwd: dir, env: gitEnv() }).toString().trim();

  it("tries a push that met another update of its branch again, and succeeds when that update was its own commit", async () => {
    const root = scratch();
    const bare = racedRemote(root);
    const dir = workspaceWith(bare);
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const outcome = await commitIn(dir);
    const sha = gitIn(dir, "rev-parse", "HEAD");
    expect(outcome).toEqual({ ok: true, detail: `committed ${sha} and pushed to origin (try 2)` });
    expect(gitIn(bare, "rev-parse", "refs/heads/main")).toBe(sha);
  });

  it("fails a push whose branch another commit took meanwhile, saying it was rejected", async () => {
    const root = scratch();
    // The remote's main is at `base`; another writer's commit `theirs` sits on a side branch.
    const seed = join(root, "seed");
    execFileSync("git", ["init", "--quiet", "--initial-branch=main", seed]);
    gitIn(seed, "commit", "--quiet", "--allow-empty", "-m", "base");
    const base = gitIn(seed, "rev-parse", "HEAD");
    gitIn(seed, "commit", "--quiet", "--allow-empty", "-m", "theirs");
    const theirs = gitIn(seed, "rev-parse", "HEAD");
    const bare = racedRemote(root, theirs, (empty) =>
      gitIn(seed, "push", "--quiet", empty, `${base}:refs/heads/main`, `${theirs}:refs/heads/side`),
    );

    const dir = join(root, "work");
    execFileSync("git", ["clone", "--quiet", bare, dir]);
    writeFileSync(join(dir, "a.txt"), "hello\n");
    const outcome = await commitIn(dir);
    expect(outcome.ok).toBe(false);
    expect(outcome.detail).toMatch(/^git push origin exited with 1: .*\[rejected\].*\(try 2\)$/s);
    expect(gitIn(bare, "rev-parse", "refs/heads/main")).toBe(theirs);
  });

  it("takes a push refused for another reason as final", async () => {
    const dir = workspaceWith(join(tmpdir(), "no-such-repository-here.git"));
    try {
      const outcome = await commitIn(dir);
      expect(outcome.ok).toBe(false);
      expect(outcome.detail).toMatch(/^git push origin/);
      expect(outcome.detail).not.toMatch(/\(try \d+\)$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
