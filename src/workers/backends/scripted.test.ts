import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { turnFactory } from "../../../test/support/agent-backend-kit.js";
import { AgentResult } from "../../contracts/index.js";
import type { Invocation, InvocationOutput, TurnRequest } from "../backend.js";
import { SCRIPTED_MODEL, ScriptedBackend, scriptedAgentCommand } from "./scripted.js";

const TOKEN = "wt_test_token_123";
const RUN_TIMEOUT_MS = 60_000;

interface Recorded {
  path: string;
  auth: string | undefined;
  body: unknown;
}

let root: string;
let server: Server;
let apiUrl: string;
let requests: Recorded[] = [];
let caseNo = 0;

/** A stand-in for the orchestrator API: records tool calls, checks the bearer token. */
function startApi(): Promise<Server> {
  const srv = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      requests.push({
        path: req.url ?? "",
        auth: req.headers.authorization,
        body: text ? JSON.parse(text) : null,
      });
      const authorized = req.headers.authorization === `Bearer ${TOKEN}`;
      res.writeHead(authorized ? 200 : 401, { "content-type": "application/json" });
      res.end(
        JSON.stringify(authorized ? { data: { ok: true } } : { code: "unauthorized", message: "bad token" }),
      );
    });
  });
  return new Promise((ok) => srv.listen(0, "127.0.0.1", () => ok(srv)));
}

const git = (cwd: string, ...args: string[]): string =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: root },
  }).trim();

/** A fresh workspace (git repository with a bare remote) and HOME for each case. */
async function freshCase(): Promise<{ workspace: string; home: string; remote: string }> {
  caseNo += 1;
  const dir = join(root, `case-${caseNo}`);
  const workspace = join(dir, "workspace");
  const home = join(dir, "home");
  const remote = join(dir, "remote.git");
  await mkdir(workspace, { recursive: true });
  await mkdir(home, { recursive: true });
  git(dir, "init", "--quiet", "--bare", remote);
  git(workspace, "init", "--quiet", "-b", "main");
  git(workspace, "remote", "add", "origin", remote);
  return { workspace, home, remote };
}

/** Runs an invocation the way a runtime would: argv, complete environment, stdin, deadline. */
function run(inv: Invocation, cwd: string, home: string, token = TOKEN): Promise<InvocationOutput> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const [cmd, ...args] = inv.argv;
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: home,
      ORCHESTRATOR_API_URL: apiUrl,
      ORCHESTRATOR_TOKEN: token,
    };
    const child = spawn(cmd ?? "", args, {
      cwd,
      env: { ...env, ...inv.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, RUN_TIMEOUT_MS);
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString("utf8");
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString("utf8");
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      done({ stdout, stderr, exitCode, signal, timedOut, durationMs: Date.now() - started });
    });
    child.stdin.end(inv.stdin ?? "");
  });
}

const turn = turnFactory({ prompt: "", model: "scripted", maxTurns: 10, budgetUsd: 1 });

const backend = new ScriptedBackend();

async function send(t: TurnRequest, ws: { workspace: string; home: string }, token?: string) {
  const output = await run(backend.invocation(t), ws.workspace, ws.home, token);
  const result = backend.parse(output, t);
  AgentResult.parse({ ...result, report: null });
  return { output, result };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "scripted-backend-"));
  server = await startApi();
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((ok) => server.close(() => ok()));
  await rm(root, { recursive: true, force: true });
});

beforeEach(() => {
  requests = [];
});

describe("ScriptedBackend with the real agent", { timeout: 120_000 }, () => {
  it("writes, runs, commits and pushes, reports; then a resumed session goes on after the pause", async () => {
    const ws = await freshCase();
    const script = {
      steps: [
        { write: { path: "src/hello.txt", content: "hello\n" } },
        { run: { argv: [process.execPath, "-e", "require('fs').writeFileSync('ran.txt', process.cwd())"] } },
        { progress: { step: "implementing", percent: 50 } },
        { commit: { message: "Add hello" } },
        { report: { status: "blocked", summary: "Half done", question: "Which greeting?", commit: "HEAD" } },
        { pause: {} },
        { write: { path: "src/hello.txt", content: "hello, world\n" } },
        { commit: { message: "Greet the world" } },
        { report: { status: "complete", summary: "Greets the world", commit: "HEAD" } },
      ],
    };

    const first = await send(turn({ prompt: JSON.stringify(script), newSessionId: "sess-1" }), ws);
    expect(first.result.error).toBeNull();
    expect(first.result).toMatchObject({ ok: true, stopReason: "completed", sessionId: "sess-1", turns: 5 });
    expect(first.result).toMatchObject({ model: SCRIPTED_MODEL, costUsd: 0, costSource: "provider" });
    expect(first.result.finalText).toBe("Half done");
    expect(await readFile(join(ws.workspace, "src/hello.txt"), "utf8")).toBe("hello\n");
    expect(await readFile(join(ws.workspace, "ran.txt"), "utf8")).toBe(ws.workspace);
    const firstSha = git(ws.workspace, "rev-parse", "HEAD");
    expect(git(ws.remote, "rev-parse", "main")).toBe(firstSha);
    expect(requests).toEqual([
      {
        path: "/api/tools/progress",
        auth: `Bearer ${TOKEN}`,
        body: { step: "implementing", percent: 50, note: null },
      },
      {
        path: "/api/tools/report",
        auth: `Bearer ${TOKEN}`,
        body: { status: "blocked", summary: "Half done", question: "Which greeting?", commit: firstSha },
      },
    ]);
    expect(existsSync(join(ws.home, ".scripted-sessions", "sess-1.json"))).toBe(true);

    requests = [];
    const second = await send(turn({ prompt: "Please go on.", resumeSessionId: "sess-1" }), ws);
    expect(second.result.error).toBeNull();
    expect(second.result).toMatchObject({
      ok: true,
      sessionId: "sess-1",
      turns: 3,
      finalText: "Greets the world",
    });
    expect(await readFile(join(ws.workspace, "src/hello.txt"), "utf8")).toBe("hello, world\n");
    const secondSha = git(ws.workspace, "rev-parse", "HEAD");
    expect(secondSha).not.toBe(firstSha);
    expect(git(ws.remote, "rev-parse", "main")).toBe(secondSha);
    expect(git(ws.workspace, "log", "--format=%an", "-1")).toBe("Scripted Agent");
    expect(requests).toEqual([
      {
        path: "/api/tools/report",
        auth: `Bearer ${TOKEN}`,
        body: { status: "complete", summary: "Greets the world", question: null, commit: secondSha },
      },
    ]);

    // A finished session resumed with a new script starts that script.
    const third = await send(
      turn({
        prompt: JSON.stringify([{ write: { path: "third.txt", content: "3" } }]),
        resumeSessionId: "sess-1",
      }),
      ws,
    );
    expect(third.result).toMatchObject({ ok: true, turns: 1 });
    expect(existsSync(join(ws.workspace, "third.txt"))).toBe(true);
  });

  it("fails the turn when a command fails, and retries that step on resume", async () => {
    const ws = await freshCase();
    const script = [
      { run: { argv: ["sh", "-c", "test -f go.txt || { echo missing go.txt >&2; exit 3; }"] } },
      { write: { path: "after.txt", content: "x" } },
    ];
    const first = await send(turn({ prompt: JSON.stringify(script), newSessionId: "s-run" }), ws);
    expect(first.result.ok).toBe(false);
    expect(first.result.stopReason).toBe("error");
    expect(first.result.error?.code).toBe("step_failed");
    expect(first.result.error?.message).toContain("missing go.txt");
    expect(first.output.exitCode).toBe(1);

    await rm(join(ws.workspace, "go.txt"), { force: true });
    execFileSync("touch", [join(ws.workspace, "go.txt")]);
    const again = await send(turn({ prompt: "retry", resumeSessionId: "s-run" }), ws);
    expect(again.result).toMatchObject({ ok: true, turns: 2 });
    expect(existsSync(join(ws.workspace, "after.txt"))).toBe(true);
  });

  it("treats a non-2xx answer of the API as a failed step", async () => {
    const ws = await freshCase();
    const script = [{ report: { status: "complete", summary: "done" } }];
    const { result } = await send(
      turn({ prompt: JSON.stringify(script), newSessionId: "s-auth" }),
      ws,
      "wrong",
    );
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe("step_failed");
    expect(result.error?.message).toContain("HTTP 401");
    expect(requests[0]?.auth).toBe("Bearer wrong");
  });

  it("simulates a crash with a fail step; a resumed session goes on after it", async () => {
    const ws = await freshCase();
    const script = [
      { fail: { message: "segfault, pretend" } },
      { write: { path: "after-crash.txt", content: "" } },
    ];
    const first = await send(turn({ prompt: JSON.stringify(script), newSessionId: "s-crash" }), ws);
    expect(first.output.exitCode).toBe(1);
    expect(first.result.ok).toBe(false);
    expect(first.result.error?.code).toBe("crashed");
    expect(first.result.error?.message).toContain("segfault, pretend");
    expect(first.result.sessionId).toBe("s-crash");

    const second = await send(turn({ prompt: "you crashed; go on", resumeSessionId: "s-crash" }), ws);
    expect(second.result.ok).toBe(true);
    expect(existsSync(join(ws.workspace, "after-crash.txt"))).toBe(true);
  });

  it("refuses to write outside the workspace", async () => {
    const ws = await freshCase();
    const { result } = await send(
      turn({ prompt: JSON.stringify([{ write: { path: "../escape.txt", content: "x" } }]) }),
      ws,
    );
    expect(result.error?.code).toBe("step_failed");
    expect(result.error?.message).toContain("outside the workspace");
    expect(existsSync(join(ws.workspace, "..", "escape.txt"))).toBe(false);
  });

  it("commits nothing when nothing changed, and needs no remote", async () => {
    const ws = await freshCase();
    git(ws.workspace, "remote", "remove", "origin");
    const script = [
      { write: { path: "a.txt", content: "a" } },
      { commit: { message: "first" } },
      { commit: { message: "nothing new" } },
    ];
    const { output, result } = await send(turn({ prompt: JSON.stringify(script) }), ws);
    expect(result.ok).toBe(true);
    expect(output.stdout).toContain("nothing to commit");
    expect(git(ws.workspace, "rev-list", "--count", "HEAD")).toBe("1");
    expect(result.sessionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("rejects a prompt that holds no script, and a broken script", async () => {
    const ws = await freshCase();
    const none = await send(turn({ prompt: "Implement TASK.md" }), ws);
    expect(none.result.error?.code).toBe("bad_script");
    expect(none.output.exitCode).toBe(2);
    const broken = await send(turn({ prompt: JSON.stringify({ steps: [{ teleport: {} }] }) }), ws);
    expect(broken.result.error?.code).toBe("bad_script");
  });

  it("finds a script in a fenced agent-script block of a longer prompt, and streams its steps", async () => {
    const ws = await freshCase();
    const prompt = [
      "You are the developer. Here is your script:",
      "```agent-script",
      JSON.stringify([{ write: { path: "fenced.txt", content: "ok" } }, { sleep: { ms: 10 } }]),
      "```",
    ].join("\n");
    const { output, result } = await send(turn({ prompt }), ws);
    expect(result.ok).toBe(true);
    expect(existsSync(join(ws.workspace, "fenced.txt"))).toBe(true);
    const events = output.stdout
      .split("\n")
      .map((l) => backend.streamEvent(l))
      .filter((e) => e !== null);
    expect(events).toEqual([
      { kind: "write", text: "wrote fenced.txt (2 bytes)" },
      { kind: "sleep", text: "slept 10 ms" },
    ]);
  });
});

describe("ScriptedBackend", () => {
  it("builds its command: Node, the agent, the script on stdin, the session", () => {
    const cmd = scriptedAgentCommand();
    expect(cmd[0]).toBe(process.execPath);
    // Under vitest the build runs when there is one, else the sources through tsx (an absolute URL).
    if (existsSync(new URL("../../../dist/workers/backends/scripted-agent.js", import.meta.url))) {
      expect(cmd).toHaveLength(2);
      expect(cmd[1]).toMatch(/\/dist\/workers\/backends\/scripted-agent\.js$/);
    } else {
      expect(cmd[1]).toBe("--import");
      expect(cmd[2]).toMatch(/^file:\/\/.*tsx/);
      expect(cmd[3]).toMatch(/scripted-agent\.ts$/);
    }
    const fresh = backend.invocation(turn({ prompt: "[]", newSessionId: "n1" }));
    expect(fresh.argv.slice(cmd.length)).toEqual(["--script", "-", "--session-id", "n1"]);
    expect(fresh.stdin).toBe("[]");
    const resumed = backend.invocation(turn({ prompt: "go", resumeSessionId: "r1", newSessionId: "n2" }));
    expect(resumed.argv.slice(cmd.length)).toEqual(["--script", "-", "--resume", "r1"]);
  });

  it("takes the script from scriptFor when given one", () => {
    const b = new ScriptedBackend({ scriptFor: () => '{"steps":[{"sleep":{"ms":1}}]}', command: ["agent"] });
    expect(b.invocation(turn({ prompt: "ignored" }))).toEqual({
      argv: ["agent", "--script", "-"],
      env: {},
      stdin: '{"steps":[{"sleep":{"ms":1}}]}',
    });
  });

  it("maps runtime failures without throwing", () => {
    const out = (o: Partial<InvocationOutput>): InvocationOutput => ({
      stdout: "",
      stderr: "",
      exitCode: 0,
      signal: null,
      timedOut: false,
      durationMs: 5,
      ...o,
    });
    const t = turn({ newSessionId: "x" });
    expect(backend.parse(out({ timedOut: true, signal: "SIGKILL" }), t).stopReason).toBe("timeout");
    expect(backend.parse(out({ exitCode: 137 }), t).error?.code).toBe("killed");
    expect(backend.parse(out({ stderr: "node: not found" }), t).error).toEqual({
      code: "empty_output",
      message: "node: not found",
    });
    expect(backend.parse(out({ stdout: "Segmentation fault" }), t).error?.code).toBe("bad_output");
    expect(backend.parse(out({ stdout: '{"type":"step"}' }), t).error?.code).toBe("no_result");
    expect(backend.parse(out({ stdout: "{oops", exitCode: 1 }), t).sessionId).toBe("x");
  });
});
