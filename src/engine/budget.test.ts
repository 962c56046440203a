import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { InProcessBus } from "../bus/index.js";
import { runStream } from "../contracts/index.js";
import { RunJournal } from "../events/index.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { budgetFor, cancelRun, ensureBudget, grantBudget, pauseForBudget, spendOf } from "./budget.js";

let store: Store;
let bus: InProcessBus;
let journal: RunJournal;
const woken: string[] = [];

beforeAll(async () => {
  store = await openTestStore();
  bus = new InProcessBus();
  journal = new RunJournal({
    store,
    bus,
    logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
  });
  bus.consume(runStream("engineering"), { group: "test", consumer: "t" }, async ({ envelope }) => {
    woken.push((envelope.payload as { runId: string }).runId);
  });
});
afterAll(async () => {
  await bus.close();
  await store.close();
});

/** A running run whose developer made metered calls costing `costs` USD each. */
async function spendingRun(budgetUsd: number, costs: number[]) {
  const project = await store.projects.create({ name: `budget ${Math.random()}` });
  const run = await store.runs.create({ projectId: project.id, kind: "engineering" });
  await ensureBudget(store, run, budgetUsd);
  await journal.move(run.id, "running");
  await store.runs.setStage(run.id, "developer");
  const worker = await store.workers.create({
    role: "developer",
    backend: "claude-code",
    runtime: "process",
    projectId: project.id,
    runId: run.id,
  });
  for (const costUsd of costs) {
    await store.tokenUsage.record({
      workerId: worker.id,
      projectId: project.id,
      runId: run.id,
      backend: "claude-code",
      model: "claude-sonnet-4-5",
      inputTokens: 1000,
      outputTokens: 100,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd,
      costSource: "metered",
    });
    await store.runs.addUsage(run.id, { tokensIn: 1000, tokensOut: 100, costUsd });
  }
  return { project, run: await store.runs.get(run.id), worker };
}

async function eventually(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("run budgets", () => {
  it("come from the agent configs (architect + developer attempts), or the project's override", async () => {
    const project = await store.projects.create({ name: "budget config" });
    const roles = [
      { role: "architect" as const, turns: 1 },
      { role: "developer" as const, turns: 3 },
    ];
    const architect = (await store.agentConfigs.get("architect")).budgetUsd;
    const developer = (await store.agentConfigs.get("developer")).budgetUsd;
    expect(await budgetFor(store, project.id, roles)).toBeCloseTo(architect + 3 * developer, 6);
    await store.projects.update(project.id, { runBudgetUsd: 0.75 });
    expect(await budgetFor(store, project.id, roles)).toBe(0.75);
  });

  it("are set once: a replayed start keeps a granted budget", async () => {
    const { run } = await spendingRun(1, []);
    const raised = await store.runs.setBudget(run.id, 3);
    expect((await ensureBudget(store, raised, 1)).budgetUsd).toBe(3);
  });

  it("pause a run that spent its budget, saying what it spent and on what", async () => {
    const { run, worker } = await spendingRun(0.05, [0.03, 0.04]);
    const paused = await pauseForBudget(store, journal, run.id);
    expect(paused.status).toBe("awaiting_approval");
    expect(paused.error?.code).toBe("budget_exhausted");
    expect(paused.error?.message).toContain("$0.0700 of its $0.05 budget");
    expect(paused.error?.message).toContain("developer claude-sonnet-4-5");
    const event = (await store.runEvents.list(run.id, {})).find((e) => e.type === "run.budget_exhausted");
    expect(event?.data).toMatchObject({
      budgetUsd: 0.05,
      spentUsd: 0.07,
      stage: "developer",
      spentOn: [
        {
          role: "developer",
          workerId: worker.id,
          backend: "claude-code",
          model: "claude-sonnet-4-5",
          calls: 2,
          tokensIn: 2000,
          tokensOut: 200,
          costUsd: 0.07,
        },
      ],
    });
    expect(await spendOf(store, run.id)).toHaveLength(1);
  });

  it("resume on a grant: more budget, running again, an engine woken", async () => {
    const { run } = await spendingRun(0.05, [0.06]);
    await pauseForBudget(store, journal, run.id);
    const resumed = await grantBudget({ store, bus, journal }, { runId: run.id, addUsd: 2 });
    expect(resumed.status).toBe("running");
    expect(resumed.error).toBeNull();
    expect(resumed.budgetUsd).toBeCloseTo(2.05, 6);
    expect(resumed.startedAt).toBe(run.startedAt);
    await eventually(() => woken.includes(run.id));
    const types = (await store.runEvents.list(run.id, {})).map((e) => e.type);
    expect(types).toContain("run.budget_granted");
  });

  it("raise the budget of a running run without moving it, and refuse a grant to an ended run", async () => {
    const { run } = await spendingRun(1, [0.1]);
    const raised = await grantBudget({ store, bus, journal }, { runId: run.id, addUsd: 1 });
    expect(raised).toMatchObject({ status: "running", budgetUsd: 2 });
    await journal.move(run.id, "failed", {
      result: { outcome: "failed" },
      error: { code: "x", message: "x" },
    });
    await expect(grantBudget({ store, bus, journal }, { runId: run.id, addUsd: 1 })).rejects.toMatchObject({
      code: "run_ended",
    });
  });

  it("end cancelled when an admin stops a paused run; a running deploy cannot be cut short", async () => {
    const { run, project } = await spendingRun(0.01, [0.02]);
    await store.projects.setStatus(project.id, "building");
    await pauseForBudget(store, journal, run.id);
    const cancelled = await cancelRun({ store, journal }, { runId: run.id, reason: "too costly" });
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.result).toMatchObject({ outcome: "cancelled", reason: "too costly", spentUsd: 0.02 });
    expect((await store.projects.get(project.id)).status).toBe("draft");
    const deployProject = await store.projects.create({ name: `deploying ${Math.random()}` });
    const deploy = await store.runs.create({ projectId: deployProject.id, kind: "deploy" });
    await journal.move(deploy.id, "running");
    await expect(cancelRun({ store, journal }, { runId: deploy.id, reason: "x" })).rejects.toMatchObject({
      code: "run_not_cancellable",
    });
    expect((await store.runs.get(deploy.id)).status).toBe("running");
  });

  it("end cancelled when an admin stops a running engineering run, its project back to a draft", async () => {
    const { run, project } = await spendingRun(1, [0.05]);
    await store.projects.setStatus(project.id, "building");
    const cancelled = await cancelRun({ store, journal }, { runId: run.id, reason: "wrong brief" });
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.result).toMatchObject({ outcome: "cancelled", reason: "wrong brief", spentUsd: 0.05 });
    expect((await store.projects.get(project.id)).status).toBe("draft");
    await expect(cancelRun({ store, journal }, { runId: run.id, reason: "again" })).rejects.toMatchObject({
      code: "run_not_cancellable",
    });
  });
});
