import { and, count, gte, lt, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { addUtcDays, type SpendFigures, type SpendReport } from "../../contracts/index.js";
import { projects, tokenUsage, users } from "../schema.js";
import { type Db, guard } from "./common.js";

/**
 * Cost sources priced by our own table rather than reported by the provider: `estimated` (a CLI's
 * token counts) and `metered` (exact counts read at the model gateway); the tokens of the second
 * are exact, the dollars of both are our price table's.
 */
const ESTIMATED_SOURCES = sql.raw("('estimated', 'metered')");

const total = (column: AnyPgColumn) => sql<string>`coalesce(sum(${column}), 0)`;

/** The figures every grouping selects, summed in the database. */
function figureColumns() {
  return {
    calls: count(),
    inputTokens: total(tokenUsage.inputTokens),
    outputTokens: total(tokenUsage.outputTokens),
    cacheReadTokens: total(tokenUsage.cacheReadTokens),
    cacheWriteTokens: total(tokenUsage.cacheWriteTokens),
    costUsd: total(tokenUsage.costUsd),
    estimatedCostUsd: sql<string>`coalesce(sum(case when ${tokenUsage.costSource} in ${ESTIMATED_SOURCES} then ${tokenUsage.costUsd} else 0 end), 0)`,
    unpricedCalls: sql<string>`count(*) filter (where ${tokenUsage.costSource} = 'unknown')`,
  };
}

type FigureRow = { [K in keyof SpendFigures]: string | number };

/** Sums come back as text on some drivers (bigint, numeric): numbers here. */
function figures(row: FigureRow | undefined): SpendFigures {
  return {
    calls: Number(row?.calls ?? 0),
    inputTokens: Number(row?.inputTokens ?? 0),
    outputTokens: Number(row?.outputTokens ?? 0),
    cacheReadTokens: Number(row?.cacheReadTokens ?? 0),
    cacheWriteTokens: Number(row?.cacheWriteTokens ?? 0),
    costUsd: Number(row?.costUsd ?? 0),
    estimatedCostUsd: Number(row?.estimatedCostUsd ?? 0),
    unpricedCalls: Number(row?.unpricedCalls ?? 0),
  };
}

const byCost = (a: SpendFigures, b: SpendFigures) => b.costUsd - a.costUsd || b.calls - a.calls;

/**
 * Token usage of the UTC days `from`..`to` (both included), each grouping one GROUP BY query: per
 * day, per project (with its slug and name), per user (the project's owner) and per backend and model.
 */
export async function spendReport(
  db: Db,
  period: { from: string; to: string },
): Promise<Omit<SpendReport, "generatedAt">> {
  const inPeriod: SQL | undefined = and(
    gte(tokenUsage.createdAt, new Date(`${period.from}T00:00:00Z`)),
    lt(tokenUsage.createdAt, new Date(`${addUtcDays(period.to, 1)}T00:00:00Z`)),
  );
  const day = sql<string>`to_char(${tokenUsage.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  const [totals, days, perProject, perUser, perModel] = await Promise.all([
    guard(() => db.select(figureColumns()).from(tokenUsage).where(inPeriod)),
    guard(() =>
      db
        .select({ day, ...figureColumns() })
        .from(tokenUsage)
        .where(inPeriod)
        .groupBy(day),
    ),
    guard(() =>
      db
        .select({
          projectId: tokenUsage.projectId,
          slug: projects.slug,
          name: projects.name,
          ...figureColumns(),
        })
        .from(tokenUsage)
        .leftJoin(projects, sql`${projects.id} = ${tokenUsage.projectId}`)
        .where(inPeriod)
        .groupBy(tokenUsage.projectId, projects.slug, projects.name),
    ),
    guard(() =>
      db
        .select({ userId: users.id, name: users.name, ...figureColumns() })
        .from(tokenUsage)
        .leftJoin(projects, sql`${projects.id} = ${tokenUsage.projectId}`)
        .leftJoin(users, sql`${users.id} = ${projects.ownerId}`)
        .where(inPeriod)
        .groupBy(users.id, users.name),
    ),
    guard(() =>
      db
        .select({ backend: tokenUsage.backend, model: tokenUsage.model, ...figureColumns() })
        .from(tokenUsage)
        .where(inPeriod)
        .groupBy(tokenUsage.backend, tokenUsage.model),
    ),
  ]);
  // One entry per day of the period, zeros where nothing was recorded (days, not rows: at most a year).
  const perDay = new Map(days.map((row) => [row.day, figures(row)]));
  const allDays: SpendReport["days"] = [];
  for (let d = period.from; d <= period.to; d = addUtcDays(d, 1)) {
    allDays.push({ day: d, ...(perDay.get(d) ?? figures(undefined)) });
  }
  return {
    from: period.from,
    to: period.to,
    totals: figures(totals[0]),
    days: allDays,
    projects: perProject
      .map((row) => ({ projectId: row.projectId, slug: row.slug, name: row.name, ...figures(row) }))
      .sort((a, b) => byCost(a, b) || (a.slug ?? "").localeCompare(b.slug ?? "")),
    users: perUser
      .map((row) => ({ userId: row.userId, name: row.name, ...figures(row) }))
      .sort((a, b) => byCost(a, b) || (a.name ?? "").localeCompare(b.name ?? "")),
    models: perModel
      .map((row) => ({ backend: row.backend, model: row.model, ...figures(row) }))
      .sort((a, b) => byCost(a, b) || `${a.backend}/${a.model}`.localeCompare(`${b.backend}/${b.model}`)),
  };
}
