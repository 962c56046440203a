import { type Column, count, DrizzleQueryError, type SQL, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTable } from "drizzle-orm/pg-core";
import type { z } from "zod";
import { AppError, type Page, PageQuery, parseOrThrow } from "../../contracts/index.js";

/** The driver-neutral database handle every repository is written against (PGlite and node-postgres). */
export type Db = PgDatabase<PgQueryResultHKT>;

/** Contract timestamps: ISO-8601 with offset. */
export function iso(value: Date | string): string {
  return new Date(value).toISOString();
}
export function isoOrNull(value: Date | string | null): string | null {
  return value === null ? null : iso(value);
}

/** Checks a row mapped to a contract shape; a mismatch is a bug in the store, not the caller's fault. */
export function toContract<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new AppError("internal", "store_shape_mismatch", `stored ${what} does not match its contract`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/** What a unique or foreign-key constraint guards, so errors can name the field. */
const CONSTRAINTS: Record<string, { field: string; entity: string }> = {
  users_telegram_id_unique: { field: "telegramId", entity: "user" },
  users_web_login_unique: { field: "webLogin", entity: "user" },
  projects_slug_unique: { field: "slug", entity: "project" },
  servers_handle_unique: { field: "handle", entity: "server" },
  port_allocations_server_port_unique: { field: "port", entity: "port allocation" },
  secrets_project_key_unique: { field: "key", entity: "secret" },
  api_tokens_token_hash_unique: { field: "tokenHash", entity: "api token" },
  runs_deploy_source_unique: { field: "sourceRunId", entity: "deploy run" },
  bot_pool_bot_unique: { field: "token", entity: "pool bot" },
  bot_pool_project_unique: { field: "projectId", entity: "pool bot" },
};

interface DriverError {
  code?: string;
  constraint?: string;
  message?: string;
}

/** Drizzle wraps driver errors (whose message lists query parameters); find the driver's own. */
function driverError(error: unknown): DriverError | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as DriverError).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return current as DriverError;
    current = current.cause;
  }
  return null;
}

/**
 * A copy of the driver error without query text, parameters or key details (PGlite attaches the
 * parameters, which may be ciphertexts), safe to keep as an `AppError` cause and to log.
 */
function sanitized(e: DriverError & { table?: string }): Error & DriverError {
  const copy = new Error(e.message ?? "database error") as Error & DriverError & { table?: string };
  copy.name = "DatabaseError";
  if (e.code !== undefined) copy.code = e.code;
  if (e.constraint !== undefined) copy.constraint = e.constraint;
  if (e.table !== undefined) copy.table = e.table;
  return copy;
}

/** True when the error is the unique-key clash on the named constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = driverError(error);
  return e?.code === "23505" && (constraint === undefined || e.constraint === constraint);
}

/** The messages of `pg` (and its pool) for a connection that ended or could not be made. */
const CONNECTION_LOST =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed)/;

/**
 * Turns a database error into an `AppError`: unique clash -> `conflict`, missing referenced row ->
 * `not_found`, lost connection -> `unavailable`. The message never carries query parameters
 * (they may be ciphertexts).
 */
export function mapDbError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const found = driverError(error);
  const e = found ? sanitized(found) : null;
  const known = e?.constraint ? CONSTRAINTS[e.constraint] : undefined;
  if (e?.code === "23505") {
    const field = known?.field ?? "id";
    return new AppError(
      "conflict",
      "already_exists",
      `${known?.entity ?? "record"} with this ${field} already exists`,
      {
        details: [{ path: field, message: "already exists" }],
        cause: e,
      },
    );
  }
  if (e?.code === "23503") {
    // e.g. runs_project_id_projects_id_fk -> projectId
    const column = /^[a-z_]+?_([a-z]+)_id_[a-z_]+_fk$/.exec(e.constraint ?? "")?.[1];
    const path = column ? `${column}Id` : "";
    return new AppError("not_found", "not_found", `referenced ${column ?? "record"} not found`, {
      details: [{ path, message: `no such ${column ?? "record"}` }],
      cause: e,
    });
  }
  // A NUL (or another character PostgreSQL cannot store in text or JSON) in what was written, or
  // half of a UTF-16 surrogate pair in JSON (its parser refuses "\\ud800" alone): the caller's
  // input, not a fault of the database.
  const badJson = e?.code === "22P02" && /type json/.test(e.message ?? "");
  if (e?.code === "22P05" || e?.code === "22021" || badJson) {
    return new AppError(
      "invalid",
      "invalid_input",
      "the text holds a character that cannot be stored (NUL, or half of a surrogate pair)",
      {
        details: [
          { path: "", message: "remove NUL characters (\\u0000) and unpaired surrogates from the text" },
        ],
        cause: e,
      },
    );
  }
  if (e?.code?.startsWith("08") || e?.code === "57P01" || e?.code === "57P03") {
    return new AppError("unavailable", "database_unavailable", "the database is unavailable", { cause: e });
  }
  // Without a driver error this is a bug or an I/O failure; drop Drizzle's wrapper, which lists parameters.
  const inner = error instanceof DrizzleQueryError ? error.cause : error;
  // A socket error (ECONNREFUSED while the server restarts), on the error or under Drizzle's wrapper.
  const code = [error, inner]
    .map((candidate) => (candidate as { code?: unknown } | undefined)?.code)
    .find((c): c is string => typeof c === "string" && /^E[A-Z]+$/.test(c));
  if (code) {
    return new AppError("unavailable", "database_unavailable", `the database is unavailable (${code})`, {
      cause: inner,
    });
  }
  // pg's own connection losses carry no code: a server restarting under a query or a transaction.
  if (inner instanceof Error && CONNECTION_LOST.test(inner.message)) {
    return new AppError(
      "unavailable",
      "database_unavailable",
      "the database is unavailable (connection lost)",
      {
        cause: inner,
      },
    );
  }
  return new AppError("internal", "database_error", e?.message ?? "database error", { cause: e ?? inner });
}

/** Runs a query, turning driver errors into `AppError`s. */
export async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw mapDbError(error);
  }
}

/** Validated paging with defaults (limit 50, max 200). */
export function pageOf(page: Partial<PageQuery> | undefined): PageQuery {
  return parseOrThrow(PageQuery, { limit: page?.limit, offset: page?.offset }, "page");
}

/**
 * One page of `table` newest first (created-at desc, id as tiebreak) with the total count.
 * `where` may be undefined for "all rows".
 */
export async function listPage<TRow, TOut>(
  db: Db,
  table: PgTable & { createdAt: Column; id: Column },
  where: SQL | undefined,
  query: Partial<PageQuery> | undefined,
  map: (row: TRow) => TOut,
): Promise<Page<TOut>> {
  const { limit, offset } = pageOf(query);
  return guard(async () => {
    const rows = await db
      .select()
      .from(table as PgTable)
      .where(where)
      .orderBy(sql`${table.createdAt} desc`, sql`${table.id} desc`)
      .limit(limit)
      .offset(offset);
    const [total] = await db
      .select({ n: count() })
      .from(table as PgTable)
      .where(where);
    return { items: (rows as TRow[]).map(map), total: total?.n ?? 0, limit, offset };
  });
}

/** Bounded retries of a compare-and-set status move before giving up with `conflict`. */
export const CAS_ATTEMPTS = 3;

/**
 * Compare-and-set status move: read, check the machine allows `from -> to`, update only if the row
 * still has `from`; if it changed under us, re-read and try again (the machine re-checks the move).
 */
export async function casMove<S extends string, TRow>(opts: {
  entity: string;
  id: string;
  to: S;
  read: () => Promise<TRow | undefined>;
  statusOf: (row: TRow) => S;
  assert: (from: S, to: S) => void;
  /** Runs `UPDATE ... WHERE id = ? AND status = from RETURNING *`; returns the row or undefined. */
  write: (from: S, row: TRow) => Promise<TRow | undefined>;
}): Promise<TRow> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const row = await guard(opts.read);
    if (row === undefined) throw AppError.notFound(opts.entity, opts.id);
    const from = opts.statusOf(row);
    opts.assert(from, opts.to);
    const updated = await guard(() => opts.write(from, row));
    if (updated !== undefined) return updated;
  }
  throw new AppError(
    "conflict",
    "concurrent_update",
    `${opts.entity} ${opts.id} changed concurrently; try again`,
    {
      details: [{ path: "status", message: "changed while updating" }],
    },
  );
}

/** Reads one row by a predicate or throws `not_found`. */
export async function firstOrNotFound<TRow>(
  rows: Promise<TRow[]>,
  entity: string,
  id: string,
): Promise<TRow> {
  const [row] = await guard(() => rows);
  if (row === undefined) throw AppError.notFound(entity, id);
  return row;
}

/** Parses an id-shaped argument so a malformed id reads as "not found", not a database type error. */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** Throws `not_found` for an id that cannot exist (not a UUID); the database would reject it otherwise. */
export function requireId(entity: string, id: string): void {
  if (!isUuid(id)) throw AppError.notFound(entity, id);
}

/** A list filter's id, checked so a malformed one is the caller's mistake rather than a database error. */
export function filterId(field: string, value: string): string {
  if (!isUuid(value)) {
    throw new AppError("invalid", "invalid_input", `invalid ${field}`, {
      details: [{ path: field, message: "must be a UUID" }],
    });
  }
  return value;
}

/** A `changedSince` filter as a date, checked so a malformed one is the caller's mistake. */
export function sinceDate(changedSince: string | undefined): Date | null {
  if (changedSince === undefined) return null;
  const date = new Date(changedSince);
  if (Number.isNaN(date.getTime())) {
    throw new AppError("invalid", "invalid_input", "invalid changedSince", {
      details: [{ path: "changedSince", message: "an ISO timestamp" }],
    });
  }
  return date;
}
