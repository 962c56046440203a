/**
 * One engineering run with the real `claude` CLI as Architect and Developer, against the fake
 * Anthropic API: real bubblewrap sandboxes (or plain processes where bubblewrap cannot run), the
 * real `orchestrator mcp` report tool, a real git forge over HTTP and the real Tester. The model's
 * replies are scripted; where one depends on what the CLI did (the workspace it runs in, the SHA
 * of the commit it pushed), it is computed from the tool results the CLI sent back.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timeAcceptanceFiles, timeRouteFiles } from "../../src/demo/index.js";
import { basicAuthEnv } from "../../src/git/index.js";
import { upstreamsFrom } from "../../src/llm/index.js";
import { ClaudeCodeBackend } from "../../src/workers/index.js";
import {
  type FakeAnthropic,
  type FakeReplyFn,
  type FakeUsage,
  startFakeAnthropic,
} from "../fakes/anthropic/index.js";
import { printedSha, transcript, turnIn } from "../support/claude-turns.js";
import { type EngineHarness, RUN_DEADLINE_MS, startEngineHarness } from "../support/engine-harness.js";
import { leakScan, recordPgliteInstances } from "../support/leak-scan.js";
import { scanHarness } from "../support/leak-scan-harness.js";

const run = promisify(execFile);
const KEY = "sk-ant-fake-engineering-key-5f0c9e2a7b41d3";
const SLUG = "claude-e2e";

let fake: FakeAnthropic;
let h: EngineHarness;
let scratch: string;
/** Every API answer of this file is recorded for the leak scan at its end. */
const scan = leakScan();
let databases: PGlite[] = [];

beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKey: KEY });
  scan.recordResponses((url) => h !== undefined && url.startsWith(`${h.url}/`));
  const pglite = recordPgliteInstances();
  databases = pglite.instances;
  h = await startEngineHarness({
    backends: { "claude-code": new ClaudeCodeBackend() },
    agentBackend: "claude-code",
    // As `up` runs it: agents reach the model only through the gateway, with their worker token.
    gateway: {
      upstreams: upstreamsFrom({
        anthropicBaseUrl: fake.url,
        openaiBaseUrl: null,
        credentials: { ANTHROPIC_API_KEY: KEY },
      }),
      knownSecrets: { ANTHROPIC_API_KEY: KEY },
    },
  }).finally(pglite.stop);
  // Sandboxes (with their transcripts) and the Tester's checkouts go when a run ends: watched.
  const root = dirname(h.deployRoot);
  scan.watchFolder("workers", join(root, "workers")).watchFolder("engine", join(root, "engine"));
  scratch = await mkdtemp(join(tmpdir(), "engineering-claude-e2e-"));
});
afterAll(async () => {
  await h?.close();
  await fake?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Token counts of every scripted conversation reply, summed to check the run's accounting. */
let scriptedInput = 0;
let scriptedOutput = 0;
function usage(input: number, output: number): FakeUsage {
  scriptedInput += input;
  scriptedOutput += output;
  return { input, output };
}

const SPEC = [
  "# Specification",
  "",
  "A web service that tells the time.",
  "",
  "Template: web-service",
  "",
  "## Features",
  "- GET /api/time answers the current time as JSON",
  "",
  "## Acceptance criteria",
  "- A test shows GET /api/time answers 200 with an ISO timestamp under `now`",
  "",
].join("\n");

const ACCEPTANCE_PATH = "test/acceptance/time.test.ts";
const ACCEPTANCE = timeAcceptanceFiles()[ACCEPTANCE_PATH] ?? "";

/** A turn whose `pwd` reply is counted like every other scripted reply. */
const turn = (header: string, steps: Parameters<typeof turnIn>[1]) =>
  turnIn(header, steps, () => usage(900, 20));

const files = timeRouteFiles();
const content = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw new Error(`timeRouteFiles() has no ${path}`);
  return text;
};
const COMMIT_LINE =
  'git add -A && git commit -q -m "Add GET /api/time" && git push -q origin HEAD && git rev-parse HEAD';

function architectReplies(): FakeReplyFn[] {
  return turn("[engineering architect]", [
    (ws) => ({
      toolUse: { name: "Write", input: { file_path: `${ws}/SPEC.md`, content: SPEC } },
      usage: usage(1000, 300),
    }),
    (ws) => ({
      toolUse: { name: "Write", input: { file_path: `${ws}/${ACCEPTANCE_PATH}`, content: ACCEPTANCE } },
      usage: usage(1050, 250),
    }),
    () => ({
      toolUse: {
        name: "mcp__orchestrator__report",
        input: { status: "complete", summary: "SPEC.md written for a time service; template web-service" },
      },
      usage: usage(1100, 40),
    }),
    () => ({ text: "SPEC.md is written and reported.", usage: usage(1150, 10) }),
  ]);
}

/** The SHA the Bash tool printed last (`git rev-parse HEAD` after the push). */
let pushedSha: string | null = null;

/** `firstWrite`: the usage of the developer's first write (a costly one spends a small budget). */
function developerReplies(firstWrite: () => FakeUsage = () => usage(2000, 200)): FakeReplyFn[] {
  return turn("[engineering developer attempt 1/", [
    (ws) => ({
      toolUse: {
        name: "Write",
        input: { file_path: `${ws}/src/routes/time.ts`, content: content("src/routes/time.ts") },
      },
      usage: firstWrite(),
    }),
    // An existing file: Claude Code's Write refuses to overwrite a file it has not read.
    (ws) => ({
      toolUse: { name: "Read", input: { file_path: `${ws}/src/routes/index.ts` } },
      usage: usage(2100, 30),
    }),
    (ws) => ({
      toolUse: {
        name: "Write",
        input: { file_path: `${ws}/src/routes/index.ts`, content: content("src/routes/index.ts") },
      },
      usage: usage(2200, 300),
    }),
    (ws) => ({
      toolUse: {
        name: "Write",
        input: { file_path: `${ws}/test/time.test.ts`, content: content("test/time.test.ts") },
      },
      usage: usage(2300, 150),
    }),
    () => ({
      toolUse: { name: "Bash", input: { command: COMMIT_LINE, description: "Commit, push, print the SHA" } },
      usage: usage(2400, 60),
    }),
    (_ws, body) => {
      const sha = printedSha(body);
      pushedSha = sha;
      return {
        toolUse: {
          name: "mcp__orchestrator__report",
          input: { status: "complete", summary: "Added GET /api/time with its test; pushed.", commit: sha },
        },
        usage: usage(2500, 50),
      };
    },
    () => ({ text: "Implemented, pushed and reported.", usage: usage(2600, 10) }),
  ]);
}

describe("an engineering run with the real claude CLI", () => {
  it(
    "specifies, implements, pushes and passes the Tester, accounted, without leaking the API key",
    async () => {
      // The fake serves conversation requests in order; the CLI's side requests (no tools, or a
      // 1-token probe) are answered apart and do not consume these. Architect, then Developer.
      const script = [...architectReplies(), ...developerReplies()];
      fake.enqueue(...script);
      const p = await h.store.projects.create({ name: SLUG, slug: SLUG, description: "claude e2e" });
      const queued = await h.start({ projectId: p.id, brief: "A web service that tells the time." });
      const done = await h.waitForEnd(queued.id);
      const events = await h.store.runEvents.list(done.id, { limit: 5000 });
      const diagnose = () =>
        JSON.stringify(
          { error: done.error, pending: fake.pending(), transcript: transcript(fake), events },
          null,
          1,
        );
      expect(done.status, diagnose()).toBe("succeeded");
      expect(fake.pending(), "every scripted reply was consumed").toBe(0);
      expect(done.iteration).toBe(1);

      // The run's commit is the one the CLI pushed, and the head of main on the forge.
      const result = done.result as { commit: string; template: string; lastTest: { passed: boolean } };
      expect(result.template).toBe("web-service");
      expect(result.commit).toBe(pushedSha);
      const main = await h.forge.listCommits({ name: SLUG }, { limit: 10 });
      expect(main[0]?.sha).toBe(result.commit);
      expect(main[0]?.message).toContain("Add GET /api/time");
      expect(await h.forge.readFile({ name: SLUG }, result.commit, "src/routes/time.ts")).toBe(
        content("src/routes/time.ts"),
      );
      expect(await h.forge.readFile({ name: SLUG }, result.commit, "SPEC.md")).toBe(SPEC);
      // The acceptance test the CLI wrote as Architect was committed before the code, and ran green.
      const prepared = main[1]?.sha ?? "";
      expect(main[1]?.message).toContain("Orchestrator-Stage: preparer");
      expect(await h.forge.readFile({ name: SLUG }, prepared, ACCEPTANCE_PATH)).toBe(ACCEPTANCE);

      // The Tester, not the agent, said green, for that commit.
      const verdicts = events
        .filter((e) => e.type === "engineering.tested")
        .map((e) => e.data as { passed: boolean; reason: string | null; commit: string });
      expect(verdicts).toEqual([
        expect.objectContaining({
          passed: true,
          reason: null,
          commit: result.commit,
          preparedCommit: prepared,
        }),
      ]);
      const stages = events.filter((e) => e.type === "run.stage_changed").map((e) => e.data.stage);
      expect(stages).toEqual(["architect", "preparer", "developer", "tester"]);

      // Both turns went through the gateway, which called the model API with the key; the run is
      // charged exactly the provider's usage: every scripted reply, and the CLI's side requests
      // (titles, probes), which the fake answers with 10 tokens in and 5 out.
      const conversation = fake.conversation();
      expect(conversation.length).toBe(script.length);
      const calls = fake.requests.filter((r) => r.path === "/v1/messages");
      expect(calls.every((r) => r.headers["x-api-key"] === KEY)).toBe(true);
      const sides = calls.filter((r) => r.kind === "side").length;
      const accounted = await h.store.runs.get(done.id);
      expect(accounted.tokensIn).toBeGreaterThan(0);
      expect(accounted.tokensIn).toBe(scriptedInput + 10 * sides);
      expect(accounted.tokensOut).toBe(scriptedOutput + 5 * sides);
      expect(accounted.costUsd).toBeGreaterThan(0);
      const rows = (await h.store.tokenUsage.list({ runId: done.id, limit: 200, offset: 0 })).items;
      expect(rows).toHaveLength(calls.length);
      expect(new Set(rows.map((r) => r.costSource))).toEqual(new Set(["metered"]));

      // Secrets: the key is in none of the logs, the run events or the repository's history.
      expect(h.logLines.length).toBeGreaterThan(0);
      expect(h.logLines.join("\n")).not.toContain(KEY);
      expect(JSON.stringify(events)).not.toContain(KEY);
      expect(JSON.stringify(done)).not.toContain(KEY);
      const dir = join(scratch, "clone");
      await run("git", ["clone", "--quiet", `${h.url}/git/${SLUG}.git`, dir], {
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0", ...basicAuthEnv(h.adminToken) },
      });
      const history = await run("git", ["log", "-p", "--all"], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
      expect(history.stdout).toContain("Template: web-service");
      expect(history.stdout).not.toContain(KEY);
    },
    RUN_DEADLINE_MS + 60_000,
  );

  it(
    "pauses awaiting approval when the run's budget is spent, and finishes where it stopped once granted more",
    async () => {
      fake.reset();
      const p = await h.store.projects.create({ name: "claude budget", slug: "claude-budget" });
      // The Architect's turn costs about $0.03 at Sonnet's price; the Developer's first write
      // reports 40k input tokens ($0.12), so its next call finds the $0.06 budget spent.
      await h.store.projects.update(p.id, { runBudgetUsd: 0.06 });
      fake.enqueue(...architectReplies(), ...developerReplies(() => ({ input: 40_000, output: 200 })));
      const queued = await h.start({ projectId: p.id, brief: "A web service that tells the time." });
      const until = Date.now() + RUN_DEADLINE_MS;
      let paused = await h.store.runs.get(queued.id);
      while (paused.status !== "awaiting_approval") {
        if (["succeeded", "failed", "blocked", "cancelled"].includes(paused.status) || Date.now() > until) {
          throw new Error(`expected a pause, got ${paused.status}: ${JSON.stringify(paused.error)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
        paused = await h.store.runs.get(queued.id);
      }
      expect(paused).toMatchObject({
        stage: "developer",
        budgetUsd: 0.06,
        error: { code: "budget_exhausted" },
      });
      expect(paused.costUsd).toBeGreaterThan(0.06);
      const exhausted = (await h.store.runEvents.list(queued.id, { limit: 5000 })).find(
        (e) => e.type === "run.budget_exhausted",
      );
      const spentOn = (exhausted?.data.spentOn ?? []) as { role: string; costUsd: number }[];
      expect(spentOn.map((l) => l.role).sort()).toEqual(["architect", "developer"]);
      expect(spentOn.reduce((n, l) => n + l.costUsd, 0)).toBeCloseTo(paused.costUsd, 6);
      // The refused call never reached the model: the rest of the Developer's script waits.
      const waiting = fake.pending();
      expect(waiting).toBeGreaterThan(0);
      const developers = (await h.store.workers.list({ projectId: p.id, limit: 50, offset: 0 })).items.filter(
        (w) => w.role === "developer",
      );
      expect(developers.map((w) => w.state)).toEqual(["paused"]);
      // Nothing moves while it waits.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect((await h.store.runs.get(queued.id)).status).toBe("awaiting_approval");
      expect(fake.pending()).toBe(waiting);

      const granted = await h.tool<{ status: string; budgetUsd: number }>("run.grant_budget", {
        runId: queued.id,
        addUsd: 5,
      });
      expect(granted).toMatchObject({ status: "running", budgetUsd: 5.06 });
      const done = await h.waitForEnd(queued.id);
      expect(done.status, JSON.stringify({ error: done.error, transcript: transcript(fake) }, null, 1)).toBe(
        "succeeded",
      );
      expect(fake.pending()).toBe(0);
      expect(done.result).toMatchObject({ commit: pushedSha });
      // The same Developer, in the same session, carried on: one developer worker for the run.
      const after = (await h.store.workers.list({ projectId: p.id, limit: 50, offset: 0 })).items.filter(
        (w) => w.role === "developer",
      );
      expect(after.map((w) => w.id)).toEqual(developers.map((w) => w.id));
      const types = (await h.store.runEvents.list(queued.id, { limit: 5000 })).map((e) => e.type);
      expect(types.filter((t) => t === "run.budget_granted")).toHaveLength(1);
      expect(done.costUsd).toBeGreaterThan(0.06);
    },
    RUN_DEADLINE_MS * 2,
  );

  it("leaks neither the model key, the admin token nor the vault key: model requests, logs, run events, API answers, database, repositories, clones, workspaces and transcripts", async () => {
    scan.secret("model key", KEY).modelRequests("model", fake.requests);
    await scanHarness(scan, { harness: h, databases, folders: { clones: scratch } });
    await scan.assertClean();
  }, 120_000);
});
