import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockedResult, blockedRun, PREPARED_COMMIT } from "../../../test/support/blocked-runs.js";
import { openToolBed, type ToolBed } from "../../../test/support/tool-bed.js";
import {
  AppError,
  EngineeringRunInput,
  type Principal,
  type Project,
  type Run,
} from "../../contracts/index.js";
import type { Store } from "../../store/index.js";
import { type ToolServices, toolContextFor } from "../context.js";

let bed: ToolBed;
let store: Store;
let services: ToolServices;
let alice: Principal;
let bob: Principal;
let admin: Principal;
let registry: ToolBed["registry"];

beforeAll(async () => {
  bed = await openToolBed();
  ({ store, services, alice, bob, admin, registry } = bed);
});
afterAll(async () => {
  await bed?.close();
});

const answer = (principal: Principal, runId: string, text: string) =>
  registry.invoke(
    "engineering.answer",
    { runId, answer: text },
    toolContextFor(principal, services),
  ) as Promise<Run>;

async function failure(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

async function projectOf(owner: Principal, name: string): Promise<Project> {
  return store.projects.create({ name, ownerId: owner.kind === "user" ? owner.userId : null });
}

describe("engineering.answer", () => {
  it("continues a run blocked before the preparer from the architect, with the same brief and the answer", async () => {
    const p = await projectOf(alice, "Weather before prepare");
    const blocked = await blockedRun(store, p.id, {}, blockedResult("Which city?", null));
    const next = await answer(alice, blocked.id, "  Berlin ");
    expect(next).toMatchObject({ projectId: p.id, kind: "engineering", status: "queued" });
    expect(next.id).not.toBe(blocked.id);
    expect(EngineeringRunInput.parse(next.input)).toEqual({
      mode: "build",
      text: "a weather bot",
      continues: blocked.id,
      answers: [{ question: "Which city?", answer: "Berlin" }],
      resumeAt: null,
    });
    const logs = await store.runEvents.list(next.id, {});
    expect(logs.map((e) => e.type)).toEqual(["run.created", "run.log"]);
    expect(logs[1]?.data).toMatchObject({ message: expect.stringContaining(`continues run ${blocked.id}`) });
  });

  it("resumes a prepared run on its branch, and a second block keeps both answers in order", async () => {
    const p = await projectOf(alice, "Weather prepared");
    await store.projects.update(p.id, { repositoryUrl: "http://forge/weather-prepared.git" });
    const first = await blockedRun(store, p.id, {}, blockedResult("Which city?", { branch: "main" }));
    const second = await answer(alice, first.id, "Berlin");
    expect(EngineeringRunInput.parse(second.input)).toMatchObject({
      mode: "build",
      continues: first.id,
      resumeAt: { branch: "main", preparedCommit: PREPARED_COMMIT },
    });
    // The continuation blocks again; the next answer carries both.
    await store.runs.transition(second.id, "running");
    await store.runs.transition(second.id, "blocked", {
      result: blockedResult("Celsius or Fahrenheit?", { branch: "main" }),
      error: { code: "developer_question", message: "needs an answer" },
    });
    const third = await answer(alice, second.id, "Celsius");
    expect(EngineeringRunInput.parse(third.input)).toMatchObject({
      continues: second.id,
      answers: [
        { question: "Which city?", answer: "Berlin" },
        { question: "Celsius or Fahrenheit?", answer: "Celsius" },
      ],
    });
    // Answering the same question again, or an older run, is refused with the run that came after.
    const again = await failure(answer(alice, second.id, "Kelvin"));
    expect([again.kind, again.code]).toEqual(["conflict", "already_answered"]);
    expect(again.details[0]?.message).toContain(third.id);
  });

  it("keeps a change on the change's branch", async () => {
    const p = await projectOf(admin, "Change prepared");
    await store.projects.update(p.id, { repositoryUrl: "http://forge/change-prepared.git" });
    const blocked = await blockedRun(
      store,
      p.id,
      { mode: "change", text: "add a forecast" },
      blockedResult("How many days?", { branch: "change/0123456789ab" }),
    );
    const next = await answer(admin, blocked.id, "three");
    expect(EngineeringRunInput.parse(next.input)).toMatchObject({
      mode: "change",
      text: "add a forecast",
      resumeAt: { branch: "change/0123456789ab", preparedCommit: PREPARED_COMMIT },
    });
  });

  it("refuses what has no question waiting, with the reason in the code", async () => {
    const p = await projectOf(alice, "Refusals");
    const noQuestion = await blockedRun(store, p.id, {}, blockedResult(null, { branch: "main" }));
    const refused = await failure(answer(alice, noQuestion.id, "try again"));
    expect([refused.kind, refused.code, refused.details[0]?.path]).toEqual([
      "conflict",
      "no_question",
      "runId",
    ]);
    expect(refused.message).toContain("tests_still_failing");

    const running = await store.runs.create({
      projectId: p.id,
      kind: "engineering",
      input: { mode: "build", text: "x" },
    });
    await store.runs.transition(running.id, "running");
    const notBlocked = await failure(answer(alice, running.id, "Berlin"));
    expect([notBlocked.kind, notBlocked.code]).toEqual(["conflict", "not_blocked"]);
    expect(notBlocked.message).toContain("running");

    const deploy = await store.runs.create({ projectId: p.id, kind: "deploy", input: {} });
    expect((await failure(answer(alice, deploy.id, "yes"))).kind).toBe("not_found");
    expect((await failure(answer(alice, "5b0c2d4e-1111-4222-8333-444455556666", "yes"))).kind).toBe(
      "not_found",
    );
    const empty = await failure(answer(alice, running.id, "   "));
    expect([empty.code, empty.details[0]?.path]).toEqual(["invalid_input", "answer"]);
  });

  it("refuses an older blocked run once newer work started, and a build whose project got a repository", async () => {
    const p = await projectOf(alice, "Superseded");
    const old = await blockedRun(store, p.id, {}, blockedResult("Which city?", null));
    const newer = await blockedRun(store, p.id, { text: "a notes bot" }, blockedResult("Which notes?", null));
    const superseded = await failure(answer(alice, old.id, "Berlin"));
    expect([superseded.code, superseded.details[0]?.message]).toEqual([
      "run_superseded",
      `run ${newer.id} came after it`,
    ]);

    await store.projects.update(p.id, { repositoryUrl: "http://forge/superseded.git" });
    expect((await failure(answer(alice, newer.id, "todo lists"))).code).toBe("already_built");
  });

  it("stops a chain that was answered as often as it may be", async () => {
    const p = await projectOf(alice, "Chain");
    const answers = Array.from({ length: 10 }, (_, i) => ({ question: `q${i}`, answer: `a${i}` }));
    const blocked = await blockedRun(store, p.id, { answers }, blockedResult("q10", null));
    expect((await failure(answer(alice, blocked.id, "a10"))).code).toBe("too_many_answers");
    expect((await store.runs.list({ projectId: p.id, limit: 10, offset: 0 })).total).toBe(1);
  });

  it("answers another person's run as if it did not exist, and queues nothing", async () => {
    const p = await projectOf(bob, "Bob's bot");
    const blocked = await blockedRun(store, p.id, {}, blockedResult("Which city?", null));
    const refused = await failure(answer(alice, blocked.id, "Paris"));
    expect([refused.kind, refused.message]).toEqual(["not_found", `engineering run ${blocked.id} not found`]);
    expect((await store.runs.list({ projectId: p.id, limit: 10, offset: 0 })).total).toBe(1);
    expect(await answer(bob, blocked.id, "Paris")).toMatchObject({ projectId: p.id, status: "queued" });
  });
});
