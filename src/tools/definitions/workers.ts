import { z } from "zod";
import { AppError, type Principal, WorkerProgress, WorkerReport } from "../../contracts/index.js";
import { journaled } from "../journal.js";
import { defineTool, type ToolContext } from "../tool.js";

const Acknowledged = z.object({ workerId: z.uuid(), recorded: z.literal(true) });

/** Reports and progress come only from a worker's own token, so they are attributed to it. */
function workerIdOf(principal: Principal): string {
  if (principal.kind !== "worker" || !principal.workerId) {
    throw new AppError("forbidden", "not_a_worker", "only a worker's own token can report or send progress");
  }
  return principal.workerId;
}

/** Tells the worker's run (if it has one) what the worker said, through the run journal. */
async function appendWorkerEvent(
  ctx: ToolContext,
  workerId: string,
  event:
    | { type: "worker.report"; data: WorkerReport }
    | { type: "worker.progress"; data: WorkerProgress & { source: "tool" } },
) {
  const worker = await ctx.store.workers.get(workerId);
  if (!worker.runId) return;
  const { journal } = journaled(ctx);
  if (event.type === "worker.report")
    await journal.append({ runId: worker.runId, type: event.type, data: { workerId, ...event.data } });
  else await journal.append({ runId: worker.runId, type: event.type, data: { workerId, ...event.data } });
}

export const report = defineTool({
  name: "report",
  group: "workers",
  summary:
    "Final report when you stop: status complete|blocked|failed, a summary, the question when blocked (with acceptanceTest: its path, when an acceptance test is wrong), and the commit SHA you pushed.",
  input: WorkerReport,
  output: Acknowledged,
  async handler(input, ctx) {
    const workerId = workerIdOf(ctx.principal);
    await ctx.store.workers.setReport(workerId, input);
    await appendWorkerEvent(ctx, workerId, { type: "worker.report", data: input });
    ctx.logger.info({ workerId, status: input.status }, "worker reported");
    return { workerId, recorded: true as const };
  },
});

export const progress = defineTool({
  name: "progress",
  group: "workers",
  summary: "Say where you are while you keep working: the step, optionally a percent and a note.",
  input: WorkerProgress,
  output: Acknowledged,
  async handler(input, ctx) {
    const workerId = workerIdOf(ctx.principal);
    await ctx.store.workers.touch(workerId, {});
    await appendWorkerEvent(ctx, workerId, { type: "worker.progress", data: { source: "tool", ...input } });
    return { workerId, recorded: true as const };
  },
});
