import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
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

  it("tries a push the server never answered again, and says how often it tried", async () => {
    const dir = workspaceWith(`http://127.0.0.1:${await freePort()}/git/p.git`);
    try {
      const outcome = await executeStep(
        { workspace: dir, env: { PATH: process.env.PATH, HOME: dir }, apiRetryWindowMs: 800 },
        { commit: { message: "Add a" } },
      );
      expect(outcome.ok).toBe(false);
      expect(outcome.detail).toMatch(/^git push origin .*\(try [2-9]\d*\)$/s);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes a push refused for another reason as final", async () => {
    const dir = workspaceWith(join(tmpdir(), "no-such-repository-here.git"));
    try {
      const outcome = await executeStep(
        { workspace: dir, env: { PATH: process.env.PATH, HOME: dir }, apiRetryWindowMs: 10_000 },
        { commit: { message: "Add a" } },
      );
      expect(outcome.ok).toBe(false);
      expect(outcome.detail).toMatch(/^git push origin/);
      expect(outcome.detail).not.toMatch(/\(try \d+\)$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
