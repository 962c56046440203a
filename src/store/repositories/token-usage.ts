import { and, eq, type SQL } from "drizzle-orm";
import { parseOrThrow, TokenUsage, TokenUsageCreate } from "../../contracts/index.js";
import { tokenUsage } from "../schema.js";
import type { TokenUsageRepository } from "../store.js";
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
  };
}
