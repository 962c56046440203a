import { SpendQuery, SpendReport, spendPeriod } from "../../contracts/index.js";
import type { Api, ApiDeps } from "../context.js";

/**
 * The admin Spend page's figures: token usage of a period of UTC days (the last 30 by default) per
 * day, project, user (the project's owner) and backend/model, with the part priced by our own
 * table apart from what providers reported. Each grouping is one query in the store.
 */
export function registerSpendRoutes(app: Api, deps: Pick<ApiDeps, "store">): void {
  app.get(
    "/api/admin/spend",
    { schema: { tags: ["admin"], querystring: SpendQuery, response: { 200: SpendReport } } },
    async (request) => {
      const now = new Date();
      const report = await deps.store.stats.spend(spendPeriod(request.query, now));
      return { ...report, generatedAt: now.toISOString() };
    },
  );
}
