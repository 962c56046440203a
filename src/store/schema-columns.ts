/** Column builders every table shares. Only drizzle imports, so drizzle-kit can load the schema alone. */
import { sql } from "drizzle-orm";
import { timestamp, uuid } from "drizzle-orm/pg-core";
import { v7 as uuidv7 } from "uuid";

// Ids are UUIDv7 made in the process: time-ordered and monotonic, so "newest first" has a stable
// tiebreak even where the database clock is coarse (PGlite). The SQL default serves raw inserts.
export const id = () =>
  uuid("id")
    .primaryKey()
    .default(sql`gen_random_uuid()`)
    .$defaultFn(() => uuidv7());
// clock_timestamp, not now(): rows written in one transaction still get distinct, ordered times.
export const stamp = (name: string) =>
  timestamp(name, { withTimezone: true, mode: "date" }).notNull().default(sql`clock_timestamp()`);
export const optionalStamp = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
export type Json = Record<string, unknown>;
