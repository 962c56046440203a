import { z } from "zod";
import { AppError, type Principal, WorkerProgress, WorkerReport } from "../../contracts/index.js";
import { defineTool, type ToolContext } from "../tool.js";

const Acknowledged = z.object({ workerId: z.uuid(), recorded: z.literal(true) });

/** Reports and progress come only from a worker's own token, so they are attributed to it. */
function workerIdOf(principal: Principal): string {
  if (principal.kind !== "worker" || !principal.workerId) {
    throw new AppError("forbidden", "not_a_worker", "only a worker's own token can report or send progress");
  }
  return principal.workerId;
}

async function appendWorkerEvent(
  ctx: ToolContext,
  workerId: string,
  type: "worker.report" | "worker.progress",
  data: Record<string, unknown>,
) {
  const worker = await ctx.store.workers.get(workerId);
  if (worker.runId)
    await ctx.store.runEvents.append({ runId: worker.runId, type, data: { workerId, ...data } });
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
    await appendWorkerEvent(ctx, workerId, "worker.report", input);
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
    await appendWorkerEvent(ctx, workerId, "worker.progress", { source: "tool", ...input });
    return { workerId, recorded: true as const };
  },
});
