import type { Bus } from "../../bus/index.js";
import {
  AppError,
  type EngineeringAnswerInput,
  EngineeringRunInput,
  EngineeringRunResult,
  type EngineeringStartInput,
  MAX_ENGINEERING_ANSWERS,
  type Project,
  type Run,
} from "../../contracts/index.js";
import type { RunJournal } from "../../events/index.js";
import { currentTraceId } from "../../observability/index.js";
import type { Store } from "../../store/index.js";
import { triggerRun } from "../run-executor.js";

type RequestDeps = { store: Store; bus: Bus; journal: RunJournal };

/**
 * Queues an engineering run: a brief builds a project that has no repository yet; a change request
 * changes one that has. A project has at most one engineering run queued or running at a time.
 */
export async function requestEngineering(deps: RequestDeps, input: EngineeringStartInput): Promise<Run> {
  const project = await deps.store.projects.get(input.projectId);
  const mode: EngineeringRunInput["mode"] = input.brief !== undefined ? "build" : "change";
  assertModeFits(project, mode);
  const text = (input.brief ?? input.changeRequest ?? "").trim();
  return queue(deps, project, EngineeringRunInput.parse({ mode, text }));
}

/**
 * Answers the question a blocked engineering run asked: queues its continuation with the same mode
 * and text, every answer of the chain so far plus this one, and where to pick the work up. A run
 * blocked before the Preparer (no repository, or no branch for a change yet) starts over at the
 * Architect; one blocked after it goes on at the Developer on the branch it left (`resumeAt`), since
 * building again would find the repository already holding code.
 */
export async function answerEngineering(deps: RequestDeps, input: EngineeringAnswerInput): Promise<Run> {
  const { store } = deps;
  const blocked = await store.runs.get(input.runId);
  if (blocked.kind !== "engineering") throw AppError.notFound("engineering run", input.runId);
  if (blocked.status !== "blocked") {
    throw new AppError(
      "conflict",
      "not_blocked",
      `engineering run ${blocked.id} is ${blocked.status}, not blocked`,
      {
        details: [{ path: "runId", message: "only a blocked run waits for an answer" }],
      },
    );
  }
  const result = EngineeringRunResult.safeParse(blocked.result);
  const question = result.success ? result.data.question : null;
  if (!result.success || !question) {
    const why = blocked.error ? `${blocked.error.code}: ${blocked.error.message}` : "no question";
    throw new AppError(
      "conflict",
      "no_question",
      `engineering run ${blocked.id} asked no question (${why})`,
      {
        details: [{ path: "runId", message: "nothing to answer: start new work with engineering.start" }],
      },
    );
  }
  const previous = EngineeringRunInput.safeParse(blocked.input);
  if (!previous.success) {
    throw new AppError(
      "invalid",
      "invalid_input",
      `engineering run ${blocked.id} has no engineering request`,
      {
        details: [{ path: "runId", message: "the run's input is not an engineering request" }],
      },
    );
  }
  await assertLatest(store, blocked);
  // A question is at most as long as a report's; the slice only guards results written otherwise.
  const answers = [
    ...previous.data.answers,
    { question: question.slice(0, 2_000), answer: input.answer.trim() },
  ];
  if (answers.length > MAX_ENGINEERING_ANSWERS) {
    throw new AppError(
      "conflict",
      "too_many_answers",
      `this work has been blocked and answered ${previous.data.answers.length} times already`,
      {
        details: [{ path: "runId", message: "start the work again with a clearer brief or change request" }],
      },
    );
  }
  const { branch, preparedCommit } = result.data;
  const resumeAt = branch && preparedCommit ? { branch, preparedCommit } : null;
  const project = await store.projects.get(blocked.projectId);
  if (!resumeAt) assertModeFits(project, previous.data.mode);
  const runInput = EngineeringRunInput.parse({
    mode: previous.data.mode,
    text: previous.data.text,
    continues: blocked.id,
    answers,
    resumeAt,
  });
  return queue(
    deps,
    project,
    runInput,
    resumeAt
      ? `continues run ${blocked.id} with the person's answer, on ${resumeAt.branch}`
      : `continues run ${blocked.id} with the person's answer, from the architect`,
  );
}

/** A brief needs a project without a repository; a change request one with a repository. */
function assertModeFits(project: Project, mode: EngineeringRunInput["mode"]): void {
  if (mode === "build" && project.repositoryUrl) {
    throw new AppError("conflict", "already_built", `project ${project.slug} already has a repository`, {
      details: [{ path: "brief", message: "send a changeRequest to change an existing project" }],
    });
  }
  if (mode === "change" && !project.repositoryUrl) {
    throw new AppError("conflict", "not_built_yet", `project ${project.slug} has no repository yet`, {
      details: [{ path: "changeRequest", message: "send a brief first" }],
    });
  }
}

/**
 * Only the project's latest engineering run may be continued: an answer to an older one would
 * undo newer work, and a second answer to the same question would queue the continuation twice.
 */
async function assertLatest(store: Store, blocked: Run): Promise<void> {
  const page = await store.runs.list({
    projectId: blocked.projectId,
    kind: "engineering",
    limit: 1,
    offset: 0,
  });
  const latest = page.items[0];
  if (!latest || latest.id === blocked.id) return;
  const continues = EngineeringRunInput.safeParse(latest.input).data?.continues ?? null;
  if (continues === blocked.id) {
    throw new AppError("conflict", "already_answered", `engineering run ${blocked.id} was answered already`, {
      details: [{ path: "runId", message: `continued by run ${latest.id}` }],
    });
  }
  throw new AppError(
    "conflict",
    "run_superseded",
    `engineering run ${blocked.id} is not the project's latest engineering run`,
    { details: [{ path: "runId", message: `run ${latest.id} came after it` }] },
  );
}

/**
 * Creates the run (refused while another engineering run of the project is under way), logs `note`
 * on it and triggers it.
 */
async function queue(
  deps: RequestDeps,
  project: Project,
  runInput: EngineeringRunInput,
  note?: string,
): Promise<Run> {
  const { store, bus, journal } = deps;
  for (const status of ["queued", "running", "awaiting_approval"] as const) {
    const active = await store.runs.list({
      projectId: project.id,
      kind: "engineering",
      status,
      limit: 1,
      offset: 0,
    });
    const current = active.items[0];
    if (current) {
      throw new AppError(
        "conflict",
        "run_in_progress",
        `project ${project.slug} has engineering run ${current.id} ${status}`,
        {
          details: [{ path: "projectId", message: "wait for the current run to finish" }],
        },
      );
    }
  }
  // Made inside the span that asks for it (the PO's tool call): the run keeps its trace.
  const run = await store.runs.create({
    projectId: project.id,
    kind: "engineering",
    input: runInput,
    traceId: currentTraceId(),
  });
  await journal.append({
    runId: run.id,
    type: "run.created",
    data: { kind: "engineering", mode: runInput.mode },
  });
  if (note) await journal.log(run.id, note);
  await triggerRun(bus, "engineering", run.id);
  return run;
}
