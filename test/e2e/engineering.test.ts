/**
 * The engineering pipeline end to end with the scripted agent: real sandboxes, a real git forge
 * served over HTTP by the API, the real Tester installing and testing the template. Every scenario
 * of the loop: green first time, red then fixed, always red, a crashing developer, an unpushed
 * commit, an architect's question, a change request merged on green; developers that cheat (report
 * the prepared commit, touch the acceptance tests, commit only documentation) never go green; a
 * developer's question about an acceptance test is answered by a revision, within a bound. The
 * first scenario builds the web-service template itself; the loop's other scenarios have the agents
 * write the light project (test/support/light-project.ts), so each Tester round costs no npm or tsc.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import {
  architectScript,
  demoPlaybook,
  developerScript,
  type ScriptedPlaybook,
} from "../../src/demo/index.js";
import { RUN_DEADLINE_MS } from "../support/engine-harness.js";
import { scriptedEngineering, TEST_TIMEOUT } from "../support/engineering-e2e.js";
import {
  lightArchitect,
  lightGreenDeveloper,
  lightRedDeveloper,
  lightServiceFiles,
} from "../support/light-project.js";

const run = promisify(execFile);
const e = scriptedEngineering();
const { project, cloneOf, eventsOf, verdictsOf } = e;

/**
 * The first test's green project: the change request builds on it, so the file pays for one green
 * run from a brief, not two.
 */
let green: { projectId: string; commit: string } | null = null;

describe("engineering run with the scripted agent", () => {
  it(
    "builds a brief into a repository whose own tests pass, and succeeds with the pushed commit",
    async () => {
      e.h.setPlaybook(demoPlaybook());
      const p = await project("e2e-green");
      const queued = await e.h.start({ projectId: p.id, brief: "A web service that tells the time." });
      expect(queued.status).toBe("queued");
      const done = await e.h.waitForEnd(queued.id);
      expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
      expect(done.iteration).toBe(1);
      const result = done.result as { commit: string; template: string; lastTest: { passed: boolean } };
      expect(result.template).toBe("web-service");
      expect(result.lastTest.passed).toBe(true);
      // Ground truth: the commit is the head of main on the forge, after the preparer's commit.
      const commits = await e.h.forge.listCommits({ name: "e2e-green" }, { limit: 10 });
      expect(commits.map((c) => c.sha)[0]).toBe(result.commit);
      expect(commits).toHaveLength(2);
      const stages = (await eventsOf(done.id))
        .filter((e) => e.type === "run.stage_changed")
        .map((e) => e.data.stage);
      expect(stages).toEqual(["architect", "preparer", "developer", "tester"]);
      // Green means: the commit descends from the prepared one and the acceptance tests passed.
      const prepared = commits.map((c) => c.sha)[1];
      const full = done.result as {
        preparedCommit: string;
        lastTestedCommit: string;
        reportedCommit: string;
        lastTest: { acceptanceCounts: { passed: number; failed: number }; preparedCommit: string };
      };
      expect(full.preparedCommit).toBe(prepared);
      expect(full.lastTest.preparedCommit).toBe(prepared);
      expect(full.lastTestedCommit).toBe(result.commit);
      expect(full.reportedCommit).toBe(result.commit);
      expect(full.lastTest.acceptanceCounts.failed).toBe(0);
      expect(full.lastTest.acceptanceCounts.passed).toBeGreaterThanOrEqual(2); // health + time
      const acceptance = await e.h.forge.readFile(
        { name: "e2e-green" },
        prepared ?? "",
        "test/acceptance/time.test.ts",
      );
      expect(acceptance).toContain("GET /api/time answers the current time");
      // AGENTS.md: the generic part, then the template's own conventions.
      const agents = await e.h.forge.readFile({ name: "e2e-green" }, prepared ?? "", "AGENTS.md");
      const conventions = await e.h.forge.readFile({ name: "e2e-green" }, prepared ?? "", "CONVENTIONS.md");
      expect(conventions).toMatch(/^## /);
      expect(agents?.startsWith("# Working in this repository")).toBe(true);
      expect(agents).toContain(conventions?.trim());
      const updated = await e.h.store.projects.get(p.id);
      expect(updated).toMatchObject({ template: "web-service", templateVersion: "2.0.0" });
      expect(updated.repositoryUrl).toBe(`${e.h.url}/git/e2e-green.git`);
      // No worker of the run outlives it, and the log says why each ended: nothing was "replaced".
      const live = await e.h.store.workers.list({ projectId: p.id, limit: 100, offset: 0 });
      expect(live.items.filter((w) => ["starting", "running", "paused"].includes(w.state))).toEqual([]);
      const ended = e.h.logLines
        .map((line) => JSON.parse(line) as { msg?: string; reason?: string; workerId?: string })
        .filter((line) => line.msg === "worker terminated" && live.items.some((w) => w.id === line.workerId));
      expect(ended.length).toBeGreaterThan(0);
      expect(ended.map((line) => line.reason)).not.toContain("replaced by a resumed stage");
      expect(ended.map((line) => line.reason)).toContain("the run ended succeeded");
      // The repository stands on its own: cloned here, its tests pass.
      const dir = await cloneOf("e2e-green", "green");
      for (const file of [
        "SPEC.md",
        "TASK.md",
        "AGENTS.md",
        "orchestrator.json",
        "src/routes/time.ts",
        "test/acceptance/time.test.ts",
      ]) {
        await run("test", ["-f", join(dir, file)]);
      }
      await run("npm", ["install", "--no-audit", "--no-fund"], { cwd: dir, timeout: 180_000 });
      const tested = await run("npm", ["test"], { cwd: dir, timeout: 120_000 });
      expect(tested.stdout).toMatch(/^ℹ pass [1-9]/m);
      expect(tested.stdout).toMatch(/^ℹ fail 0$/m);
      expect(tested.stdout).toContain("GET /api/time answers the current time"); // npm test runs acceptance too
      green = { projectId: p.id, commit: result.commit };
    },
    TEST_TIMEOUT,
  );

  it(
    "sends red test output back to the developer, who fixes it: 2 iterations, succeeded",
    async () => {
      e.h.setPlaybook({
        architect: lightArchitect,
        developer: [lightRedDeveloper, lightGreenDeveloper],
      });
      const p = await project("e2e-fix");
      const done = await e.h.waitForEnd((await e.h.start({ projectId: p.id, brief: "time service" })).id);
      expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
      expect(done.iteration).toBe(2);
      const verdicts = await verdictsOf(done.id);
      expect(verdicts.map((v) => [v.passed, v.reason])).toEqual([
        [false, "tests_failed"],
        [true, null],
      ]);
      expect(verdicts[0]?.counts?.failed).toBeGreaterThan(0);
      expect((done.result as { commit: string }).commit).toBe(verdicts[1]?.commit);
    },
    TEST_TIMEOUT,
  );

  it(
    "ends blocked after 3 red attempts, with the last report",
    async () => {
      e.h.setPlaybook({ architect: lightArchitect, developer: [lightRedDeveloper] });
      const p = await project("e2e-red");
      // Three full developer and tester rounds: twice a single run's deadline.
      const queued = await e.h.start({ projectId: p.id, brief: "time service" });
      const done = await e.h.waitForEnd(queued.id, RUN_DEADLINE_MS * 2);
      expect(done.status).toBe("blocked");
      expect(done.error).toEqual({
        code: "tests_still_failing",
        message: "tests still failing after 3 attempts (last: tests_failed)",
      });
      expect(done.iteration).toBe(3);
      const result = done.result as {
        lastReport: { status: string; commit: string };
        lastTest: { passed: boolean };
      };
      expect(result.lastReport.status).toBe("complete");
      expect(result.lastTest.passed).toBe(false);
      // Not green: no commit; the last tested one and the last claim are named apart.
      const full = done.result as { commit: string | null; lastTestedCommit: string; reportedCommit: string };
      expect(full.commit).toBeNull();
      expect(full.lastTestedCommit).toBe(result.lastReport.commit);
      expect(full.reportedCommit).toBe(result.lastReport.commit);
      expect((await verdictsOf(done.id)).map((v) => v.passed)).toEqual([false, false, false]);
      expect((await e.h.store.projects.get(p.id)).status).toBe("blocked");
    },
    TEST_TIMEOUT * 2,
  );

  it(
    "fails, never succeeds, when the developer crashes",
    async () => {
      e.h.setPlaybook({
        architect: lightArchitect,
        developer: [{ steps: [{ fail: { message: "segfault in the agent" } }] }],
      });
      const p = await project("e2e-crash");
      const done = await e.h.waitForEnd((await e.h.start({ projectId: p.id, brief: "time service" })).id);
      expect(done.status).toBe("failed");
      expect(done.error?.code).toMatch(/^developer_/);
      expect(await verdictsOf(done.id)).toEqual([]);
      expect((done.result as { outcome: string }).outcome).toBe("failed");
    },
    RUN_DEADLINE_MS * 2 + 60_000,
  );

  it(
    "fails the test of a commit that was never pushed, whatever the developer claims",
    async () => {
      const unpushed: ScriptedPlaybook["architect"] = {
        steps: [
          ...Object.entries(lightServiceFiles()).map(([path, content]) => ({ write: { path, content } })),
          { run: { argv: ["git", "add", "-A"] } },
          { run: { argv: ["git", "commit", "--quiet", "-m", "done, honest"] } },
          { report: { status: "complete", summary: "all done and pushed", commit: "HEAD" } },
        ],
      };
      e.h.setPlaybook({
        architect: lightArchitect,
        developer: [
          unpushed,
          {
            steps: [
              { run: { argv: ["git", "push", "--quiet", "origin", "HEAD"] } },
              { report: { status: "complete", summary: "pushed now", commit: "HEAD" } },
            ],
          },
        ],
      });
      const p = await project("e2e-unpushed");
      const done = await e.h.waitForEnd((await e.h.start({ projectId: p.id, brief: "time service" })).id);
      const verdicts = await verdictsOf(done.id);
      expect(verdicts[0]).toMatchObject({ passed: false, reason: "not_on_remote" });
      // Pushed on the second attempt, the same code is green.
      expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
      expect(verdicts[1]).toMatchObject({ passed: true });
    },
    TEST_TIMEOUT,
  );

  it(
    "ends blocked with the architect's question for the Product Owner",
    async () => {
      e.h.setPlaybook({
        architect: {
          steps: [
            {
              report: {
                status: "blocked",
                summary: "unclear",
                question: "Which city should the weather be for?",
              },
            },
          ],
        },
        developer: [lightGreenDeveloper],
      });
      const p = await project("e2e-question");
      const done = await e.h.waitForEnd((await e.h.start({ projectId: p.id, brief: "weather" })).id);
      expect(done.status).toBe("blocked");
      expect((done.result as { question: string }).question).toBe("Which city should the weather be for?");
      expect(await e.h.forge.exists("e2e-question")).toBe(false); // nothing prepared before the answer
    },
    TEST_TIMEOUT,
  );

  it(
    "builds a change request on a branch and merges it into main only when green",
    async () => {
      if (!green) throw new Error("the first test's project was not built: see its failure");
      const { projectId, commit: firstCommit } = green;

      const versionFiles = {
        "src/version.ts": 'export const VERSION = "2";\n',
        "test/version.test.ts": [
          'import assert from "node:assert/strict";',
          'import { test } from "node:test";',
          'import { VERSION } from "../src/version.js";',
          'test("version is 2", () => assert.equal(VERSION, "2"));',
          "",
        ].join("\n"),
      };
      const versionAcceptance = {
        "test/acceptance/version.test.ts": [
          'import assert from "node:assert/strict";',
          'import { test } from "node:test";',
          'import { VERSION } from "../../src/version.js";',
          'test("the version is 2", () => assert.equal(VERSION, "2"));',
          "",
        ].join("\n"),
      };
      e.h.setPlaybook({
        architect: architectScript("web-service", ["time", "a version"], versionAcceptance),
        developer: [developerScript(versionFiles, "Add VERSION")],
      });
      // A second change while this one runs is refused.
      const change = await e.h.start({ projectId, changeRequest: "Add a version constant." });
      await expect(e.h.start({ projectId, changeRequest: "another" })).rejects.toThrow(/run_in_progress/);
      const done = await e.h.waitForEnd(change.id);
      expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
      const result = done.result as { commit: string; branch: string };
      expect(result.branch).toMatch(/^change\//);
      const main = await e.h.forge.listCommits({ name: "e2e-green" }, { limit: 20 });
      expect(main[0]?.sha).toBe(result.commit);
      expect(result.commit).not.toBe(firstCommit);
      expect(main.map((c) => c.sha)).toContain(firstCommit);
      const spec = await e.h.forge.readFile({ name: "e2e-green" }, result.commit, "SPEC.md");
      expect(spec).toContain("a version");
      // The change's acceptance test joined the first run's.
      for (const file of ["version.test.ts", "time.test.ts"]) {
        expect(
          await e.h.forge.readFile({ name: "e2e-green" }, result.commit, `test/acceptance/${file}`),
        ).toBeTruthy();
      }
    },
    TEST_TIMEOUT,
  );
});

/** A developer whose attempt commits locally and claims it, never pushing. */
describe("secrets", () => {
  it("no token reaches a log line, a run event or a repository", async () => {
    const tokenLike = /orc_[A-Za-z0-9_-]{20,}/;
    const basicHeader = Buffer.from("x-access-token:orc_").toString("base64").slice(0, 24);
    expect(e.h.logLines.length).toBeGreaterThan(0);
    for (const line of e.h.logLines) {
      expect(line).not.toMatch(tokenLike);
      expect(line).not.toContain(basicHeader);
    }
    const runs = await e.h.store.runs.list({ kind: "engineering", limit: 100, offset: 0 });
    expect(runs.items.length).toBeGreaterThan(5);
    for (const r of runs.items) {
      const text = JSON.stringify(await eventsOf(r.id)) + JSON.stringify(r);
      expect(text).not.toMatch(tokenLike);
    }
    const dir = await cloneOf("e2e-green", "secrets-scan");
    const history = await run("git", ["log", "-p", "--all"], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
    expect(history.stdout).toContain("SPEC.md");
    expect(history.stdout).not.toMatch(tokenLike);
    const config = await run("git", ["config", "--list", "--show-origin"], { cwd: dir });
    expect(config.stdout).not.toMatch(tokenLike);
  });
});

describe("engineering.start validation", () => {
  it("names what is wrong", async () => {
    const p = await project("e2e-validate");
    const call = (body: unknown) =>
      fetch(`${e.h.url}/api/tools/engineering.start`, {
        method: "POST",
        headers: { authorization: `Bearer ${e.h.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const both = await call({ projectId: p.id, brief: "x", changeRequest: "y" });
    expect(both.status).toBe(400);
    expect(JSON.stringify(await both.json())).toContain("brief");
    const change = await call({ projectId: p.id, changeRequest: "y" });
    expect(change.status).toBe(409);
    expect(JSON.stringify(await change.json())).toContain("not_built_yet");
    const missing = await call({ projectId: "0190a0a0-0000-7000-8000-000000000000", brief: "x" });
    expect(missing.status).toBe(404);
  });
});
