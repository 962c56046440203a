/**
 * The engineering pipeline end to end with the scripted agent: real sandboxes, a real git forge
 * served over HTTP by the API, the real Tester installing and testing the template. Every scenario
 * of the loop: green first time, red then fixed, always red, a crashing developer, an unpushed
 * commit, an architect's question, a change request merged on green; developers that cheat (report
 * the prepared commit, touch the acceptance tests, commit only documentation) never go green; a
 * developer's question about an acceptance test is answered by a revision, within a bound.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  architectScript,
  demoPlaybook,
  developerScript,
  type ScriptedPlaybook,
  timeAcceptanceFiles,
  timeRouteFiles,
} from "../../src/engine/index.js";
import { basicAuthEnv } from "../../src/git/index.js";
import { type EngineHarness, RUN_DEADLINE_MS, startEngineHarness } from "../support/engine-harness.js";

const run = promisify(execFile);
const TEST_TIMEOUT = RUN_DEADLINE_MS + 60_000;

let h: EngineHarness;
let scratch: string;

beforeAll(async () => {
  h = await startEngineHarness();
  scratch = await mkdtemp(join(tmpdir(), "engineering-e2e-"));
});
afterAll(async () => {
  await h?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function project(slug: string) {
  return h.store.projects.create({ name: slug, slug, description: `e2e ${slug}` });
}

/** Clones the project's repository over git HTTP, as a person would, with the admin token. */
async function cloneOf(slug: string, into: string): Promise<string> {
  const dir = join(scratch, into);
  await run("git", ["clone", "--quiet", `${h.url}/git/${slug}.git`, dir], {
    env: { ...process.env, GIT_TERMINAL_PROMPT: "0", ...basicAuthEnv(h.adminToken) },
  });
  return dir;
}

async function eventsOf(runId: string) {
  return h.store.runEvents.list(runId, { limit: 5000 });
}

async function verdictsOf(runId: string) {
  return (await eventsOf(runId))
    .filter((e) => e.type === "engineering.tested")
    .map(
      (e) =>
        e.data as {
          passed: boolean;
          reason: string | null;
          commit: string;
          counts: { failed: number } | null;
        },
    );
}

/** What the Architect of most scenarios writes: SPEC.md and an acceptance test for GET /api/time. */
const timeArchitect = architectScript(
  "web-service",
  ["GET /api/time answers the current time"],
  timeAcceptanceFiles(),
);

async function deployRunsOf(projectId: string) {
  return (await h.store.runs.list({ projectId, kind: "deploy", limit: 10, offset: 0 })).items;
}

/** Statuses the run moved through, from its events: a cheat must never pass through `succeeded`. */
async function statusesOf(runId: string) {
  return (await eventsOf(runId)).filter((e) => e.type === "run.status_changed").map((e) => e.data.to);
}

const redDeveloper = developerScript(
  timeRouteFiles("missing"),
  "Add GET /api/time (test expects a wrong key)",
);
const greenDeveloper = developerScript(timeRouteFiles(), "Add GET /api/time with its test");

describe("engineering run with the scripted agent", () => {
  it(
    "builds a brief into a repository whose own tests pass, and succeeds with the pushed commit",
    async () => {
      h.setPlaybook(demoPlaybook());
      const p = await project("e2e-green");
      const queued = await h.start({ projectId: p.id, brief: "A web service that tells the time." });
      expect(queued.status).toBe("queued");
      const done = await h.waitForEnd(queued.id);
      expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
      expect(done.iteration).toBe(1);
      const result = done.result as { commit: string; template: string; lastTest: { passed: boolean } };
      expect(result.template).toBe("web-service");
      expect(result.lastTest.passed).toBe(true);
      // Ground truth: the commit is the head of main on the forge, after the preparer's commit.
      const commits = await h.forge.listCommits({ name: "e2e-green" }, { limit: 10 });
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
      const acceptance = await h.forge.readFile(
        { name: "e2e-green" },
        prepared ?? "",
        "test/acceptance/time.test.ts",
      );
      expect(acceptance).toContain("GET /api/time answers the current time");
      const updated = await h.store.projects.get(p.id);
      expect(updated).toMatchObject({ template: "web-service", templateVersion: "1.1.0" });
      expect(updated.repositoryUrl).toBe(`${h.url}/git/e2e-green.git`);
      // No worker of the run outlives it.
      const live = await h.store.workers.list({ projectId: p.id, limit: 100, offset: 0 });
      expect(live.items.filter((w) => ["starting", "running", "paused"].includes(w.state))).toEqual([]);
      // The repository stands on its own: cloned here, its tests pass.
      const dir = await cloneOf("e2e-green", "green");
      for (const file of [
        "SPEC.md",
        "TASK.md",
        "AGENTS.md",
        "orchestrator.json",
        "src/time.ts",
        "test/acceptance/time.test.ts",
      ]) {
        await run("test", ["-f", join(dir, file)]);
      }
      await run("npm", ["install", "--no-audit", "--no-fund"], { cwd: dir, timeout: 180_000 });
      const tested = await run("npm", ["test"], { cwd: dir, timeout: 120_000 });
      expect(tested.stdout).toMatch(/# pass [1-9]/);
      expect(tested.stdout).toMatch(/# fail 0/);
      expect(tested.stdout).toContain("GET /api/time answers the current time"); // npm test runs acceptance too
    },
    TEST_TIMEOUT,
  );

  it(
    "sends red test output back to the developer, who fixes it: 2 iterations, succeeded",
    async () => {
      h.setPlaybook({
        architect: timeArchitect,
        developer: [redDeveloper, greenDeveloper],
      });
      const p = await project("e2e-fix");
      const done = await h.waitForEnd((await h.start({ projectId: p.id, brief: "time service" })).id);
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
      h.setPlaybook({ architect: timeArchitect, developer: [redDeveloper] });
      const p = await project("e2e-red");
      const done = await h.waitForEnd((await h.start({ projectId: p.id, brief: "time service" })).id);
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
      expect((await h.store.projects.get(p.id)).status).toBe("blocked");
    },
    TEST_TIMEOUT * 2,
  );

  it(
    "fails, never succeeds, when the developer crashes",
    async () => {
      h.setPlaybook({
        architect: timeArchitect,
        developer: [{ steps: [{ fail: { message: "segfault in the agent" } }] }],
      });
      const p = await project("e2e-crash");
      const done = await h.waitForEnd((await h.start({ projectId: p.id, brief: "time service" })).id);
      expect(done.status).toBe("failed");
      expect(done.error?.code).toMatch(/^developer_/);
      expect(await verdictsOf(done.id)).toEqual([]);
      expect((done.result as { outcome: string }).outcome).toBe("failed");
    },
    TEST_TIMEOUT,
  );

  it(
    "fails the test of a commit that was never pushed, whatever the developer claims",
    async () => {
      const unpushed: ScriptedPlaybook["architect"] = {
        steps: [
          ...Object.entries(timeRouteFiles()).map(([path, content]) => ({ write: { path, content } })),
          { run: { argv: ["git", "add", "-A"] } },
          { run: { argv: ["git", "commit", "--quiet", "-m", "done, honest"] } },
          { report: { status: "complete", summary: "all done and pushed", commit: "HEAD" } },
        ],
      };
      h.setPlaybook({
        architect: timeArchitect,
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
      const done = await h.waitForEnd((await h.start({ projectId: p.id, brief: "time service" })).id);
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
      h.setPlaybook({
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
        developer: [greenDeveloper],
      });
      const p = await project("e2e-question");
      const done = await h.waitForEnd((await h.start({ projectId: p.id, brief: "weather" })).id);
      expect(done.status).toBe("blocked");
      expect((done.result as { question: string }).question).toBe("Which city should the weather be for?");
      expect(await h.forge.exists("e2e-question")).toBe(false); // nothing prepared before the answer
    },
    TEST_TIMEOUT,
  );

  it(
    "builds a change request on a branch and merges it into main only when green",
    async () => {
      h.setPlaybook(demoPlaybook());
      const p = await project("e2e-change");
      const first = await h.waitForEnd((await h.start({ projectId: p.id, brief: "time service" })).id);
      expect(first.status).toBe("succeeded");
      const firstCommit = (first.result as { commit: string }).commit;

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
      h.setPlaybook({
        architect: architectScript("web-service", ["time", "a version"], versionAcceptance),
        developer: [developerScript(versionFiles, "Add VERSION")],
      });
      // A change while the first is running is refused; after it, accepted.
      const change = await h.start({ projectId: p.id, changeRequest: "Add a version constant." });
      await expect(h.start({ projectId: p.id, changeRequest: "another" })).rejects.toThrow(/run_in_progress/);
      const done = await h.waitForEnd(change.id);
      expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
      const result = done.result as { commit: string; branch: string };
      expect(result.branch).toMatch(/^change\//);
      const main = await h.forge.listCommits({ name: "e2e-change" }, { limit: 20 });
      expect(main[0]?.sha).toBe(result.commit);
      expect(result.commit).not.toBe(firstCommit);
      expect(main.map((c) => c.sha)).toContain(firstCommit);
      const spec = await h.forge.readFile({ name: "e2e-change" }, result.commit, "SPEC.md");
      expect(spec).toContain("a version");
      // The change's acceptance test joined the first run's.
      for (const file of ["version.test.ts", "time.test.ts"]) {
        expect(
          await h.forge.readFile({ name: "e2e-change" }, result.commit, `test/acceptance/${file}`),
        ).toBeTruthy();
      }
    },
    TEST_TIMEOUT * 2,
  );
});

/** A developer whose attempt commits locally and claims it, never pushing. */
const unpushedClaim: ScriptedPlaybook["architect"] = {
  steps: [
    { write: { path: "src/claim.ts", content: `export const CLAIM = ${Date.now()};\n` } },
    { run: { argv: ["git", "add", "-A"] } },
    { run: { argv: ["git", "commit", "--quiet", "--allow-empty", "-m", "surely pushed"] } },
    { report: { status: "complete", summary: "all done and pushed", commit: "HEAD" } },
  ],
};

describe("a blocked run's result", () => {
  it(
    "names the last tested commit apart from an unpushed claim, and no commit as green",
    async () => {
      h.setPlaybook({ architect: timeArchitect, developer: [redDeveloper, unpushedClaim] });
      const p = await project("e2e-claims");
      const done = await h.waitForEnd((await h.start({ projectId: p.id, brief: "time service" })).id);
      expect(done.status).toBe("blocked");
      const verdicts = await verdictsOf(done.id);
      expect(verdicts.map((v) => v.reason)).toEqual(["tests_failed", "not_on_remote", "not_on_remote"]);
      const result = done.result as {
        commit: string | null;
        lastTestedCommit: string;
        reportedCommit: string;
      };
      expect(result.commit).toBeNull();
      expect(result.lastTestedCommit).toBe(verdicts[0]?.commit);
      expect(result.reportedCommit).toMatch(/^[0-9a-f]{40}$/);
      expect(result.reportedCommit).not.toBe(result.lastTestedCommit);
      expect(await h.forge.hasCommit({ name: "e2e-claims" }, result.reportedCommit)).toBe(false);
      expect(await h.forge.hasCommit({ name: "e2e-claims" }, result.lastTestedCommit)).toBe(true);
    },
    TEST_TIMEOUT,
  );
});

describe("developers that do not do the brief never go green", () => {
  it(
    "reports the prepared commit: red no_change every round, blocked, nothing deployed",
    async () => {
      h.setPlaybook({
        architect: timeArchitect,
        developer: [{ steps: [{ report: { status: "complete", summary: "done", commit: "HEAD" } }] }],
      });
      const p = await project("e2e-cheat-same");
      const done = await h.waitForEnd((await h.start({ projectId: p.id, brief: "time service" })).id);
      expect(done.status).toBe("blocked");
      expect(done.error?.code).toBe("tests_still_failing");
      const verdicts = await verdictsOf(done.id);
      const prepared = (done.result as { preparedCommit: string }).preparedCommit;
      expect(verdicts.map((v) => [v.passed, v.reason, v.commit])).toEqual([
        [false, "no_change", prepared],
        [false, "no_change", prepared],
        [false, "no_change", prepared],
      ]);
      expect(verdicts[0]).toMatchObject({
        outputTail: "the reported commit is the prepared commit: nothing was implemented",
      });
      expect(await statusesOf(done.id)).not.toContain("succeeded");
      expect(await deployRunsOf(p.id)).toEqual([]);
      expect((await h.store.projects.get(p.id)).status).toBe("blocked");
      const result = done.result as {
        commit: string | null;
        lastTestedCommit: string | null;
        reportedCommit: string;
      };
      expect(result).toMatchObject({ commit: null, lastTestedCommit: null, reportedCommit: prepared });
    },
    TEST_TIMEOUT,
  );

  it(
    "deletes, then weakens, the failing acceptance test: red acceptance_changed, run from the prepared copy, blocked",
    async () => {
      const weakened = [
        'import { test } from "node:test";',
        'test("GET /api/time answers the current time", () => {});',
        "",
      ].join("\n");
      const writeVersion = { write: { path: "src/version.ts", content: 'export const VERSION = "1";\n' } };
      h.setPlaybook({
        architect: timeArchitect,
        developer: [
          {
            steps: [
              writeVersion,
              { run: { argv: ["git", "rm", "--quiet", "test/acceptance/time.test.ts"] } },
              { commit: { message: "Add a version (the time test was flaky)" } },
              { report: { status: "complete", summary: "done", commit: "HEAD" } },
            ],
          },
          {
            steps: [
              { write: { path: "test/acceptance/time.test.ts", content: weakened } },
              { commit: { message: "Bring the time test back" } },
              { report: { status: "complete", summary: "done", commit: "HEAD" } },
            ],
          },
        ],
      });
      const p = await project("e2e-cheat-acceptance");
      const done = await h.waitForEnd((await h.start({ projectId: p.id, brief: "time service" })).id);
      expect(done.status).toBe("blocked");
      const verdicts = (await verdictsOf(done.id)) as unknown as {
        passed: boolean;
        reason: string;
        changedAcceptance: string[];
        acceptanceCounts: { failed: number } | null;
        outputTail: string;
      }[];
      expect(verdicts.map((v) => [v.passed, v.reason, v.changedAcceptance])).toEqual([
        [false, "acceptance_changed", ["test/acceptance/time.test.ts (deleted)"]],
        [false, "acceptance_changed", ["test/acceptance/time.test.ts (changed)"]],
        [false, "acceptance_changed", ["test/acceptance/time.test.ts (changed)"]],
      ]);
      // The Tester ran the prepared copy: the real time test ran, and failed (there is no route).
      for (const v of verdicts) {
        expect(v.outputTail).toContain("acceptance tests changed: test/acceptance/time.test.ts");
        expect(v.acceptanceCounts?.failed).toBeGreaterThan(0);
      }
      expect(await statusesOf(done.id)).not.toContain("succeeded");
      expect(await deployRunsOf(p.id)).toEqual([]);
    },
    TEST_TIMEOUT * 2,
  );

  it(
    "commits only a README change: red docs_only, blocked",
    async () => {
      h.setPlaybook({
        architect: timeArchitect,
        developer: [developerScript({ "README.md": "# Time service\n\nTells the time.\n" }, "Document it")],
      });
      const p = await project("e2e-cheat-docs");
      const done = await h.waitForEnd((await h.start({ projectId: p.id, brief: "time service" })).id);
      expect(done.status).toBe("blocked");
      const verdicts = await verdictsOf(done.id);
      expect(verdicts.map((v) => v.reason)).toEqual(["docs_only", "docs_only", "docs_only"]);
      expect(verdicts[0]?.passed).toBe(false);
      expect(await statusesOf(done.id)).not.toContain("succeeded");
      expect(await deployRunsOf(p.id)).toEqual([]);
    },
    TEST_TIMEOUT,
  );
});

describe("questions about acceptance tests", () => {
  const question = "test/acceptance/time.test.ts reads `time`, but SPEC.md says the time is under `now`.";
  const askAboutTime = {
    steps: [
      {
        report: {
          status: "blocked" as const,
          summary: "the acceptance test contradicts the spec",
          question,
          acceptanceTest: "test/acceptance/time.test.ts",
        },
      },
    ],
  };

  it(
    "are answered by a revision commit; the developer rebases onto it and goes green",
    async () => {
      h.setPlaybook({
        // The Architect's first test asks for the wrong key.
        architect: architectScript(
          "web-service",
          ["GET /api/time answers `now`"],
          timeAcceptanceFiles("time"),
        ),
        developer: [askAboutTime],
        revisions: [
          {
            architect: {
              steps: [
                ...Object.entries(timeAcceptanceFiles("now")).map(([path, content]) => ({
                  write: { path, content },
                })),
                // Outside the acceptance folder: not kept.
                { write: { path: "SPEC.md", content: "# rewritten\n" } },
                { report: { status: "complete", summary: "The spec is right: the test now reads `now`." } },
              ],
            },
            developer: {
              steps: [
                { run: { argv: ["git", "pull", "--quiet", "--rebase", "origin", "main"] } },
                ...Object.entries(timeRouteFiles()).map(([path, content]) => ({ write: { path, content } })),
                { commit: { message: "Add GET /api/time" } },
                { report: { status: "complete", summary: "done", commit: "HEAD" } },
              ],
            },
          },
        ],
      });
      const p = await project("e2e-revision");
      const done = await h.waitForEnd((await h.start({ projectId: p.id, brief: "time service" })).id);
      expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
      expect(done.iteration).toBe(1); // the question used no attempt
      const events = await eventsOf(done.id);
      const revised = events.filter((e) => e.type === "engineering.acceptance_revised");
      expect(revised).toHaveLength(1);
      const revision = revised[0]?.data as {
        commit: string;
        reason: string;
        files: string[];
        answer: string;
      };
      expect(revision).toMatchObject({
        reason: question,
        files: ["test/acceptance/time.test.ts"],
        answer: "The spec is right: the test now reads `now`.",
      });
      const main = await h.forge.listCommits({ name: "e2e-revision" }, { limit: 10 });
      expect(main).toHaveLength(3);
      const [green, revisionCommit, prepared] = main;
      expect(revisionCommit?.sha).toBe(revision.commit);
      expect(revisionCommit?.message).toContain("Orchestrator-Stage: acceptance-revision-1");
      const repo = { name: "e2e-revision" };
      expect(await h.forge.readFile(repo, revision.commit, "test/acceptance/time.test.ts")).toContain(
        '["now"]',
      );
      expect(await h.forge.readFile(repo, revision.commit, "SPEC.md")).toBe(
        await h.forge.readFile(repo, prepared?.sha ?? "", "SPEC.md"),
      );
      const result = done.result as { commit: string; preparedCommit: string; acceptanceRevisions: number };
      expect(result).toMatchObject({
        commit: green?.sha,
        preparedCommit: revision.commit,
        acceptanceRevisions: 1,
      });
      const stages = events.filter((e) => e.type === "run.stage_changed").map((e) => e.data.stage);
      expect(stages).toEqual([
        "architect",
        "preparer",
        "developer",
        "acceptance_revision",
        "developer",
        "tester",
      ]);
      expect((await verdictsOf(done.id)).map((v) => v.passed)).toEqual([true]);
    },
    TEST_TIMEOUT,
  );

  it(
    "are bounded: answers that keep the test, then the run ends blocked with the question",
    async () => {
      const keep = {
        architect: {
          steps: [
            { report: { status: "complete" as const, summary: "The test is right: read SPEC.md again." } },
          ],
        },
      };
      h.setPlaybook({ architect: timeArchitect, developer: [askAboutTime], revisions: [keep] });
      const p = await project("e2e-revision-bound");
      const done = await h.waitForEnd((await h.start({ projectId: p.id, brief: "time service" })).id);
      expect(done.status).toBe("blocked");
      expect(done.error?.code).toBe("acceptance_questions_exhausted");
      expect((done.result as { question: string }).question).toBe(question);
      const events = await eventsOf(done.id);
      const stages = events.filter((e) => e.type === "run.stage_changed").map((e) => e.data.stage);
      expect(stages).toEqual([
        "architect",
        "preparer",
        "developer",
        "acceptance_revision",
        "developer",
        "acceptance_revision",
        "developer",
      ]);
      expect(events.filter((e) => e.type === "engineering.acceptance_revised")).toEqual([]);
      const kept = events.filter((e) => e.type === "run.log" && String(e.data.message).includes("kept"));
      expect(kept).toHaveLength(2);
      expect(await h.forge.listCommits({ name: "e2e-revision-bound" }, { limit: 10 })).toHaveLength(1);
      expect(await verdictsOf(done.id)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    "a question that is not about an acceptance test still ends the run blocked",
    async () => {
      h.setPlaybook({
        architect: timeArchitect,
        developer: [
          { steps: [{ report: { status: "blocked", summary: "unclear", question: "Which time zone?" } }] },
        ],
      });
      const p = await project("e2e-dev-question");
      const done = await h.waitForEnd((await h.start({ projectId: p.id, brief: "time service" })).id);
      expect(done.status).toBe("blocked");
      expect(done.error?.code).toBe("developer_question");
      expect((done.result as { question: string }).question).toBe("Which time zone?");
      const stages = (await eventsOf(done.id))
        .filter((e) => e.type === "run.stage_changed")
        .map((e) => e.data.stage);
      expect(stages).not.toContain("acceptance_revision");
    },
    TEST_TIMEOUT,
  );
});

describe("secrets", () => {
  it("no token reaches a log line, a run event or a repository", async () => {
    const tokenLike = /orc_[A-Za-z0-9_-]{20,}/;
    const basicHeader = Buffer.from("x-access-token:orc_").toString("base64").slice(0, 24);
    expect(h.logLines.length).toBeGreaterThan(0);
    for (const line of h.logLines) {
      expect(line).not.toMatch(tokenLike);
      expect(line).not.toContain(basicHeader);
    }
    const runs = await h.store.runs.list({ kind: "engineering", limit: 100, offset: 0 });
    expect(runs.items.length).toBeGreaterThan(5);
    for (const r of runs.items) {
      const text = JSON.stringify(await eventsOf(r.id)) + JSON.stringify(r);
      expect(text).not.toMatch(tokenLike);
    }
    const dir = await cloneOf("e2e-change", "secrets-scan");
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
      fetch(`${h.url}/api/tools/engineering.start`, {
        method: "POST",
        headers: { authorization: `Bearer ${h.adminToken}`, "content-type": "application/json" },
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
