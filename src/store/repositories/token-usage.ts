import { and, eq, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { AppError, parseOrThrow, TokenUsage, TokenUsageCreate } from "../../contracts/index.js";
import { tokenUsage } from "../schema.js";
import type { TokenUsageRepository, UsageSummary } from "../store.js";
import { type Db, filterId, guard, iso, listPage, toContract } from "./common.js";

type Row = typeof tokenUsage.$inferSelect;

function toUsage(row: Row): TokenUsage {
  return toContract(TokenUsage, { ...row, createdAt: iso(row.createdAt) }, "token usage");
}

/** One row per agent invocation, on any Postgres driver. */
export function createTokenUsageRepository(db: Db): TokenUsageRepository {
  return {
    async record(input) {
      const data = parseOrThrow(TokenUsageCreate, input, "token usage");
      const [row] = await guard(() => db.insert(tokenUsage).values(data).returning());
      return toUsage(row as Row);
    },
    async list(page) {
      const filters: SQL[] = [];
      if (page.projectId) filters.push(eq(tokenUsage.projectId, filterId("projectId", page.projectId)));
      if (page.runId) filters.push(eq(tokenUsage.runId, filterId("runId", page.runId)));
      return listPage(db, tokenUsage, and(...filters), page, toUsage);
    },
    async summarize(filter) {
      const filters: SQL[] = [];
      if (filter.runId) filters.push(eq(tokenUsage.runId, filterId("runId", filter.runId)));
      if (filter.workerId) filters.push(eq(tokenUsage.workerId, filterId("workerId", filter.workerId)));
      if (filters.length === 0) {
        throw new AppError("invalid", "invalid_input", "summarize needs a run or a worker", {
          details: [{ path: "runId", message: "give runId or workerId" }],
        });
      }
      const total = (column: AnyPgColumn) => sql<string>`coalesce(sum(${column}), 0)`;
      const rows = await guard(() =>
        db
          .select({
            workerId: tokenUsage.workerId,
            backend: tokenUsage.backend,
            model: tokenUsage.model,
            calls: sql<string>`count(*)`,
            inputTokens: total(tokenUsage.inputTokens),
            outputTokens: total(tokenUsage.outputTokens),
            cacheReadTokens: total(tokenUsage.cacheReadTokens),
            cacheWriteTokens: total(tokenUsage.cacheWriteTokens),
            costUsd: total(tokenUsage.costUsd),
            estimatedCostUsd: sql<string>`coalesce(sum(case when ${tokenUsage.costSource} = 'estimated' then ${tokenUsage.costUsd} else 0 end), 0)`,
          })
          .from(tokenUsage)
          .where(and(...filters))
          .groupBy(tokenUsage.workerId, tokenUsage.backend, tokenUsage.model)
          .orderBy(tokenUsage.workerId, tokenUsage.backend, tokenUsage.model),
      );
      // Sums come back as text on some drivers (bigint, numeric): numbers here.
      return rows.map(
        (r): UsageSummary => ({
          workerId: r.workerId,
          backend: r.backend,
          model: r.model,
          calls: Number(r.calls),
          inputTokens: Number(r.inputTokens),
          outputTokens: Number(r.outputTokens),
          cacheReadTokens: Number(r.cacheReadTokens),
          cacheWriteTokens: Number(r.cacheWriteTokens),
          costUsd: Number(r.costUsd),
          estimatedCostUsd: Number(r.estimatedCostUsd),
        }),
      );
    },
  };
}
