/**
 * A question answered end to end, with the scripted agent: the developer stops `blocked` with a
 * question, the run ends blocked carrying it, the person's answer comes in through the tool
 * registry as a user principal (as the Product Owner acting for them sends it), and the
 * continuation picks the work up on the prepared repository, its developer told the answer, and
 * goes green; a question asked before anything was prepared is answered by building again from
 * the Architect. Real sandboxes, forge, Tester and engine (the agents write the light project of
 * test/support/light-project.ts); the agents' prompts are read as the scripted backend receives them.
 */
import { describe, expect, it } from "vitest";
import {
  AppError,
  EngineeringRunInput,
  type EngineeringRunResult,
  type Principal,
  type ProjectStatusList,
  parsePromptHeader,
  type Run,
} from "../../src/contracts/index.js";
import { playbookScriptFor, type ScriptedPlaybook } from "../../src/demo/index.js";
import { createLogger, SecretRedactor } from "../../src/observability/index.js";
import { createToolRegistry, toolContextFor } from "../../src/tools/index.js";
import { ScriptedBackend } from "../../src/workers/index.js";
import { scriptedEngineering, TEST_TIMEOUT } from "../support/engineering-e2e.js";
import { lightArchitect, lightGreenDeveloper } from "../support/light-project.js";

const QUESTION = "Which time zone should GET /api/time answer in?";
const ANSWER = "UTC, always, as an ISO string";

/** Every prompt an agent was sent, in order, and the playbook the scripted agent follows. */
const prompts: string[] = [];
let playbook: ScriptedPlaybook | null = null;
const recording = new ScriptedBackend({
  scriptFor: (turn) => {
    prompts.push(turn.prompt);
    if (!playbook) throw new Error("set a playbook first");
    return playbookScriptFor(playbook)(turn);
  },
});

const e = scriptedEngineering(() => ({ backends: { scripted: recording } }));
const registry = createToolRegistry();
const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });

/** Calls a tool through the registry as `principal`, the way the Product Owner does for a person. */
const call = <T>(principal: Principal, name: string, input: unknown) =>
  registry.invoke(
    name,
    input,
    toolContextFor(principal, { store: e.h.store, bus: e.h.bus, logger }),
  ) as Promise<T>;

async function failure(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => null,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const promptsOf = (stage: "architect" | "developer") =>
  prompts.filter((p) => parsePromptHeader(p.slice(p.indexOf("[engineering")))?.stage === stage);

describe("a blocked engineering run answered by its owner", () => {
  it(
    "ends blocked with the developer's question, then continues on the prepared repository with the answer and succeeds",
    async () => {
      const user = await e.h.store.users.create({ name: "Tess", telegramId: "7001" });
      const tess: Principal = { kind: "user", tokenId: "tok-tess", userId: user.id };
      const project = await e.h.store.projects.create({
        name: "e2e-answer",
        slug: "e2e-answer",
        description: "e2e answer",
        ownerId: user.id,
      });

      playbook = {
        architect: lightArchitect,
        developer: [
          { steps: [{ report: { status: "blocked", summary: "needs a decision", question: QUESTION } }] },
        ],
      };
      const first = await call<Run>(tess, "engineering.start", {
        projectId: project.id,
        brief: "A web service that tells the time.",
      });
      const blocked = await e.h.waitForEnd(first.id);
      expect(blocked.status, JSON.stringify(blocked.error)).toBe("blocked");
      expect(blocked.error?.code).toBe("developer_question");
      const blockedResult = blocked.result as EngineeringRunResult;
      expect(blockedResult.question).toBe(QUESTION);
      // The preparer ran: the repository exists, so building again would be refused.
      expect(blockedResult.branch).toBe("main");
      expect(blockedResult.preparedCommit).toMatch(/^[0-9a-f]{40}$/);
      expect((await e.h.store.projects.get(project.id)).repositoryUrl).toBe(`${e.h.url}/git/e2e-answer.git`);
      const rebuild = await failure(
        call(tess, "engineering.start", {
          projectId: project.id,
          brief: "A web service that tells the time.",
        }),
      );
      expect(rebuild.code).toBe("already_built");
      expect(promptsOf("developer").at(-1)).not.toContain(ANSWER);

      // The person's status shows the question waiting for them.
      const waiting = (await call<ProjectStatusList>(tess, "project.status", { projectId: project.id }))
        .items[0];
      expect(waiting?.recentFailures[0]).toMatchObject({
        runId: blocked.id,
        status: "blocked",
        question: QUESTION,
        continuedBy: null,
      });

      const architectTurns = promptsOf("architect").length;
      playbook = { architect: lightArchitect, developer: [lightGreenDeveloper] };
      const next = await call<Run>(tess, "engineering.answer", { runId: blocked.id, answer: ANSWER });
      expect(next).toMatchObject({ projectId: project.id, kind: "engineering", status: "queued" });
      expect(EngineeringRunInput.parse(next.input)).toEqual({
        mode: "build",
        text: "A web service that tells the time.",
        continues: blocked.id,
        answers: [{ question: QUESTION, answer: ANSWER }],
        resumeAt: { branch: "main", preparedCommit: blockedResult.preparedCommit },
      });

      const done = await e.h.waitForEnd(next.id);
      expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
      const result = done.result as EngineeringRunResult;
      expect(result.lastTest?.passed).toBe(true);
      expect(result.preparedCommit).toBe(blockedResult.preparedCommit);
      // Picked up at the developer on the prepared branch: no second spec, no second preparer.
      const stages = (await e.h.store.runEvents.list(done.id, { limit: 500 }))
        .filter((ev) => ev.type === "run.stage_changed")
        .map((ev) => ev.data.stage);
      expect(stages).toEqual(["resume", "developer", "tester"]);
      expect(promptsOf("architect")).toHaveLength(architectTurns);
      const commits = await e.h.forge.listCommits({ name: "e2e-answer" }, { limit: 10 });
      expect(commits.map((c) => c.sha)).toEqual([result.commit, blockedResult.preparedCommit]);

      // The developer of the continuation was told the question and the person's answer.
      const told = promptsOf("developer").at(-1) ?? "";
      expect(parsePromptHeader(told.slice(told.indexOf("[engineering")))).toMatchObject({ attempt: 1 });
      expect(told).toContain(`- Q: ${QUESTION}`);
      expect(told).toContain(`  A: ${ANSWER}`);

      // The question is settled: no second answer, and the status names the run that continued it.
      expect(
        (await failure(call(tess, "engineering.answer", { runId: blocked.id, answer: "again" }))).code,
      ).toBe("already_answered");
      expect(
        (await failure(call(tess, "engineering.answer", { runId: done.id, answer: "again" }))).code,
      ).toBe("not_blocked");
      const settled = (await call<ProjectStatusList>(tess, "project.status", { projectId: project.id }))
        .items[0];
      expect(settled?.recentFailures[0]).toMatchObject({ runId: blocked.id, continuedBy: done.id });
      expect(settled?.activeRun).toBeNull();
    },
    TEST_TIMEOUT * 2,
  );

  it(
    "builds again from the architect when the question came before anything was prepared",
    async () => {
      const user = await e.h.store.users.create({ name: "Arne", telegramId: "7002" });
      const arne: Principal = { kind: "user", tokenId: "tok-arne", userId: user.id };
      const project = await e.h.store.projects.create({
        name: "e2e-answer-early",
        slug: "e2e-answer-early",
        description: "e2e answer early",
        ownerId: user.id,
      });
      const early = "Should the time include seconds?";
      playbook = {
        architect: { steps: [{ report: { status: "blocked", summary: "unclear", question: early } }] },
        developer: [lightGreenDeveloper],
      };
      const first = await call<Run>(arne, "engineering.start", {
        projectId: project.id,
        brief: "tell the time",
      });
      const blocked = await e.h.waitForEnd(first.id);
      expect(blocked.status).toBe("blocked");
      expect((blocked.result as EngineeringRunResult).preparedCommit).toBeNull();
      expect(await e.h.forge.exists("e2e-answer-early")).toBe(false);

      playbook = { architect: lightArchitect, developer: [lightGreenDeveloper] };
      const next = await call<Run>(arne, "engineering.answer", { runId: blocked.id, answer: "yes, seconds" });
      expect(EngineeringRunInput.parse(next.input)).toMatchObject({ mode: "build", resumeAt: null });
      const done = await e.h.waitForEnd(next.id);
      expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
      const stages = (await e.h.store.runEvents.list(done.id, { limit: 500 }))
        .filter((ev) => ev.type === "run.stage_changed")
        .map((ev) => ev.data.stage);
      expect(stages).toEqual(["architect", "preparer", "developer", "tester"]);
      expect(promptsOf("architect").at(-1)).toContain(`- Q: ${early}\n  A: yes, seconds`);
      expect(promptsOf("developer").at(-1)).toContain(`- Q: ${early}\n  A: yes, seconds`);
      // The repository records the answer for whoever works on it next.
      const task = await e.h.forge.readFile(
        { name: "e2e-answer-early" },
        (done.result as EngineeringRunResult).preparedCommit ?? "",
        "TASK.md",
      );
      expect(task).toContain("A: yes, seconds");
    },
    TEST_TIMEOUT * 2,
  );
});
