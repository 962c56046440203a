import { z } from "zod";
import { AppError } from "./errors.js";
import { Id, Timestamp } from "./ids.js";
import { AgentBackend } from "./workers.js";

const Count = z.number().int().nonnegative();

/** A calendar day in UTC, `YYYY-MM-DD` (a real date: `2026-02-30` is refused). */
export const UtcDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "a date as YYYY-MM-DD")
  .refine((day) => {
    const time = Date.parse(`${day}T00:00:00Z`);
    return !Number.isNaN(time) && new Date(time).toISOString().startsWith(day);
  }, "not a calendar date");
export type UtcDay = z.infer<typeof UtcDay>;

/** The longest period one spend report covers. */
export const SPEND_MAX_DAYS = 366;
/** The period a spend report covers when none is asked for: the last 30 days, today included. */
export const SPEND_DEFAULT_DAYS = 30;

const DAY_MS = 24 * 3_600_000;

/** The day `days` after `day` (negative: before). */
export function addUtcDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The period a spend report is asked for: whole UTC days, both ends included. */
export const SpendQuery = z.object({ from: UtcDay.optional(), to: UtcDay.optional() });
export type SpendQuery = z.infer<typeof SpendQuery>;

/**
 * The period a query names with its defaults filled in: `to` today (the UTC day of `now`), `from`
 * `SPEND_DEFAULT_DAYS - 1` days before `to`. `from` after `to`, or a period longer than
 * `SPEND_MAX_DAYS`, is refused naming `from`.
 */
export function spendPeriod(query: SpendQuery, now: Date): { from: UtcDay; to: UtcDay } {
  const to = query.to ?? now.toISOString().slice(0, 10);
  const from = query.from ?? addUtcDays(to, -(SPEND_DEFAULT_DAYS - 1));
  const refuse = (message: string) =>
    new AppError("invalid", "invalid_input", `invalid period: from ${message}`, {
      details: [{ path: "querystring.from", message }],
    });
  if (from > to) throw refuse("is after `to`");
  if (addUtcDays(from, SPEND_MAX_DAYS - 1) < to)
    throw refuse(`is more than ${SPEND_MAX_DAYS} days before \`to\``);
  return { from, to };
}

/**
 * Tokens and dollars of a set of agent calls. `estimatedCostUsd` is the part of `costUsd` priced
 * by our own price table (cost source `estimated` or `metered`) rather than reported by the
 * provider; `unpricedCalls` are calls with no price at all (source `unknown`, counted at $0).
 */
export const SpendFigures = z.object({
  calls: Count,
  inputTokens: Count,
  outputTokens: Count,
  cacheReadTokens: Count,
  cacheWriteTokens: Count,
  costUsd: z.number().nonnegative(),
  estimatedCostUsd: z.number().nonnegative(),
  unpricedCalls: Count,
});
export type SpendFigures = z.infer<typeof SpendFigures>;

/**
 * Token usage over a period, summed per UTC day (every day of the period, zeros included), per
 * project, per user (the project's owner) and per backend and model. Usage of a deleted project,
 * or of a project without an owner, is counted under a null id.
 */
export const SpendReport = z.object({
  from: UtcDay,
  to: UtcDay,
  generatedAt: Timestamp,
  totals: SpendFigures,
  days: z.array(SpendFigures.extend({ day: UtcDay })),
  projects: z.array(
    SpendFigures.extend({
      projectId: Id.nullable(),
      slug: z.string().nullable(),
      name: z.string().nullable(),
    }),
  ),
  users: z.array(SpendFigures.extend({ userId: Id.nullable(), name: z.string().nullable() })),
  models: z.array(SpendFigures.extend({ backend: AgentBackend, model: z.string() })),
});
export type SpendReport = z.infer<typeof SpendReport>;
