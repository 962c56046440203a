/**
 * Green means the brief was done, with the scripted agent and the real Tester: developers that
 * report the prepared commit, change the acceptance tests or only the docs never go green; a
 * disputed acceptance test is answered by the Architect; a blocked run names what was tested.
 * The agents write the light project (test/support/light-project.ts): the Tester's rounds are real,
 * without npm and tsc.
 */
import { describe, expect, it } from "vitest";
import { architectScript, developerScript, type ScriptedPlaybook } from "../../src/demo/index.js";
import { scriptedEngineering, TEST_TIMEOUT } from "../support/engineering-e2e.js";
import {
  LIGHT_ACCEPTANCE_NAME,
  LIGHT_ACCEPTANCE_TEST,
  lightAcceptanceFiles,
  lightAcceptanceTest,
  lightArchitect,
  lightRedDeveloper,
  lightServiceFiles,
} from "../support/light-project.js";

// Two attempts show what three would (each a real Tester round): a cheat is refused every time.
const e = scriptedEngineering(() => ({ maxIterations: 2 }));
const { project, eventsOf, verdictsOf, deployRunsOf, statusesOf } = e;

const unpushedClaim: ScriptedPlaybook["architect"] = {
  steps: [
    { write: { path: "src/claim.mjs", content: `export const CLAIM = ${Date.now()};\n` } },
    { run: { argv: ["git", "add", "-A"] } },
    { run: { argv: ["git", "commit", "--quiet", "--allow-empty", "-m", "surely pushed"] } },
    { report: { status: "complete", summary: "all done and pushed", commit: "HEAD" } },
  ],
};

describe("a blocked run's result", () => {
  it(
    "names the last tested commit apart from an unpushed claim, and no commit as green",
    async () => {
      e.h.setPlaybook({ architect: lightArchitect, developer: [lightRedDeveloper, unpushedClaim] });
      const p = await project("e2e-claims");
      const done = await e.h.waitForEnd((await e.h.start({ projectId: p.id, brief: "time service" })).id);
      expect(done.status).toBe("blocked");
      const verdicts = await verdictsOf(done.id);
      expect(verdicts.map((v) => v.reason)).toEqual(["tests_failed", "not_on_remote"]);
      const result = done.result as {
        commit: string | null;
        lastTestedCommit: string;
        reportedCommit: string;
      };
      expect(result.commit).toBeNull();
      expect(result.lastTestedCommit).toBe(verdicts[0]?.commit);
      expect(result.reportedCommit).toMatch(/^[0-9a-f]{40}$/);
      expect(result.reportedCommit).not.toBe(result.lastTestedCommit);
      expect(await e.h.forge.hasCommit({ name: "e2e-claims" }, result.reportedCommit)).toBe(false);
      expect(await e.h.forge.hasCommit({ name: "e2e-claims" }, result.lastTestedCommit)).toBe(true);
    },
    TEST_TIMEOUT,
  );
});

describe("developers that do not do the brief never go green", () => {
  it(
    "reports the prepared commit: red no_change every round, blocked, nothing deployed",
    async () => {
      e.h.setPlaybook({
        architect: lightArchitect,
        developer: [{ steps: [{ report: { status: "complete", summary: "done", commit: "HEAD" } }] }],
      });
      const p = await project("e2e-cheat-same");
      const done = await e.h.waitForEnd((await e.h.start({ projectId: p.id, brief: "time service" })).id);
      expect(done.status).toBe("blocked");
      expect(done.error?.code).toBe("tests_still_failing");
      const verdicts = await verdictsOf(done.id);
      const prepared = (done.result as { preparedCommit: string }).preparedCommit;
      expect(verdicts.map((v) => [v.passed, v.reason, v.commit])).toEqual([
        [false, "no_change", prepared],
        [false, "no_change", prepared],
      ]);
      expect(verdicts[0]).toMatchObject({
        outputTail: "the reported commit is the prepared commit: nothing was implemented",
      });
      expect(await statusesOf(done.id)).not.toContain("succeeded");
      expect(await deployRunsOf(p.id)).toEqual([]);
      expect((await e.h.store.projects.get(p.id)).status).toBe("blocked");
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
        `test(${JSON.stringify(LIGHT_ACCEPTANCE_NAME)}, () => {});`,
        "",
      ].join("\n");
      // Some work of its own, with the light package (its install is what the Tester's round costs).
      const { "package.json": pkg = "", "package-lock.json": lock = "" } = lightServiceFiles();
      const someWork = [
        { write: { path: "package.json", content: pkg } },
        { write: { path: "package-lock.json", content: lock } },
        { write: { path: "src/version.mjs", content: 'export const VERSION = "1";\n' } },
      ];
      e.h.setPlaybook({
        architect: lightArchitect,
        developer: [
          {
            steps: [
              ...someWork,
              { run: { argv: ["git", "rm", "--quiet", LIGHT_ACCEPTANCE_TEST] } },
              { commit: { message: "Add a version (the time test was flaky)" } },
              { report: { status: "complete", summary: "done", commit: "HEAD" } },
            ],
          },
          {
            steps: [
              { write: { path: LIGHT_ACCEPTANCE_TEST, content: weakened } },
              { commit: { message: "Bring the time test back" } },
              { report: { status: "complete", summary: "done", commit: "HEAD" } },
            ],
          },
        ],
      });
      const p = await project("e2e-cheat-acceptance");
      const done = await e.h.waitForEnd((await e.h.start({ projectId: p.id, brief: "time service" })).id);
      expect(done.status).toBe("blocked");
      const verdicts = (await verdictsOf(done.id)) as unknown as {
        passed: boolean;
        reason: string;
        changedAcceptance: string[];
        acceptanceCounts: { failed: number } | null;
        outputTail: string;
      }[];
      expect(verdicts.map((v) => [v.passed, v.reason, v.changedAcceptance])).toEqual([
        [false, "acceptance_changed", [`${LIGHT_ACCEPTANCE_TEST} (deleted)`]],
        [false, "acceptance_changed", [`${LIGHT_ACCEPTANCE_TEST} (changed)`]],
      ]);
      // The Tester ran the prepared copy: the real time test ran, and failed (there is no src/time.mjs).
      for (const v of verdicts) {
        expect(v.outputTail).toContain(`acceptance tests changed: ${LIGHT_ACCEPTANCE_TEST}`);
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
      e.h.setPlaybook({
        architect: lightArchitect,
        developer: [developerScript({ "README.md": "# Time service\n\nTells the time.\n" }, "Document it")],
      });
      const p = await project("e2e-cheat-docs");
      const done = await e.h.waitForEnd((await e.h.start({ projectId: p.id, brief: "time service" })).id);
      expect(done.status).toBe("blocked");
      const verdicts = await verdictsOf(done.id);
      expect(verdicts.map((v) => v.reason)).toEqual(["docs_only", "docs_only"]);
      expect(verdicts[0]?.passed).toBe(false);
      expect(await statusesOf(done.id)).not.toContain("succeeded");
      expect(await deployRunsOf(p.id)).toEqual([]);
    },
    TEST_TIMEOUT,
  );
});

describe("questions about acceptance tests", () => {
  const question = `${LIGHT_ACCEPTANCE_TEST} reads \`time\`, but SPEC.md says the time is under \`now\`.`;
  const askAboutTime = {
    steps: [
      {
        report: {
          status: "blocked" as const,
          summary: "the acceptance test contradicts the spec",
          question,
          acceptanceTest: LIGHT_ACCEPTANCE_TEST,
        },
      },
    ],
  };

  it(
    "are answered by a revision commit; the developer rebases onto it and goes green",
    async () => {
      e.h.setPlaybook({
        // The Architect's first test asks for the wrong key.
        architect: architectScript(
          "web-service",
          ["GET /api/time answers `now`"],
          lightAcceptanceFiles("time"),
        ),
        developer: [askAboutTime],
        revisions: [
          {
            architect: {
              steps: [
                { write: { path: LIGHT_ACCEPTANCE_TEST, content: lightAcceptanceTest("now") } },
                // Outside the acceptance folder: not kept.
                { write: { path: "SPEC.md", content: "# rewritten\n" } },
                { report: { status: "complete", summary: "The spec is right: the test now reads `now`." } },
              ],
            },
            developer: {
              steps: [
                { run: { argv: ["git", "pull", "--quiet", "--rebase", "origin", "main"] } },
                ...Object.entries(lightServiceFiles()).map(([path, content]) => ({
                  write: { path, content },
                })),
                { commit: { message: "Add the time service" } },
                { report: { status: "complete", summary: "done", commit: "HEAD" } },
              ],
            },
          },
        ],
      });
      const p = await project("e2e-revision");
      const done = await e.h.waitForEnd((await e.h.start({ projectId: p.id, brief: "time service" })).id);
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
        files: [LIGHT_ACCEPTANCE_TEST],
        answer: "The spec is right: the test now reads `now`.",
      });
      const main = await e.h.forge.listCommits({ name: "e2e-revision" }, { limit: 10 });
      expect(main).toHaveLength(3);
      const [green, revisionCommit, prepared] = main;
      expect(revisionCommit?.sha).toBe(revision.commit);
      expect(revisionCommit?.message).toContain("Orchestrator-Stage: acceptance-revision-1");
      const repo = { name: "e2e-revision" };
      expect(await e.h.forge.readFile(repo, revision.commit, LIGHT_ACCEPTANCE_TEST)).toContain('["now"]');
      expect(await e.h.forge.readFile(repo, revision.commit, "SPEC.md")).toBe(
        await e.h.forge.readFile(repo, prepared?.sha ?? "", "SPEC.md"),
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
      e.h.setPlaybook({ architect: lightArchitect, developer: [askAboutTime], revisions: [keep] });
      const p = await project("e2e-revision-bound");
      const done = await e.h.waitForEnd((await e.h.start({ projectId: p.id, brief: "time service" })).id);
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
      expect(await e.h.forge.listCommits({ name: "e2e-revision-bound" }, { limit: 10 })).toHaveLength(1);
      expect(await verdictsOf(done.id)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    "a question that is not about an acceptance test still ends the run blocked",
    async () => {
      e.h.setPlaybook({
        architect: lightArchitect,
        developer: [
          { steps: [{ report: { status: "blocked", summary: "unclear", question: "Which time zone?" } }] },
        ],
      });
      const p = await project("e2e-dev-question");
      const done = await e.h.waitForEnd((await e.h.start({ projectId: p.id, brief: "time service" })).id);
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
