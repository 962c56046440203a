import { and, asc, eq, sql } from "drizzle-orm";
import { Instance, InstanceBeat, parseOrThrow } from "../../contracts/index.js";
import { instances } from "../schema.js";
import type { InstanceRepository } from "../store.js";
import { type Db, guard, iso, toContract } from "./common.js";

// Judged by the database's clock, so processes on machines whose clocks differ agree.
const columns = {
  id: instances.id,
  roles: instances.roles,
  incarnation: instances.incarnation,
  host: instances.host,
  pid: instances.pid,
  probeUrl: instances.probeUrl,
  startedAt: instances.startedAt,
  heartbeatAt: instances.heartbeatAt,
  expiresAt: instances.expiresAt,
  alive: sql<boolean>`${instances.expiresAt} > clock_timestamp()`,
};

type Row = { [K in keyof typeof columns]: unknown } & {
  startedAt: Date;
  heartbeatAt: Date;
  expiresAt: Date;
};

function toInstance(row: Row): Instance {
  return toContract(
    Instance,
    {
      ...row,
      startedAt: iso(row.startedAt),
      heartbeatAt: iso(row.heartbeatAt),
      expiresAt: iso(row.expiresAt),
    },
    "instance",
  );
}

/** Heartbeats of running processes on any Postgres driver. */
export function createInstanceRepository(db: Db): InstanceRepository {
  return {
    async beat(input) {
      const beat = parseOrThrow(InstanceBeat, input, "instance");
      const expiresAt = sql`clock_timestamp() + ${`${beat.ttlMs} milliseconds`}::interval`;
      const rows = await guard(() =>
        db
          .insert(instances)
          .values({
            id: beat.id,
            roles: beat.roles,
            incarnation: beat.incarnation,
            host: beat.host,
            pid: beat.pid,
            probeUrl: beat.probeUrl,
            expiresAt,
          })
          .onConflictDoUpdate({
            target: instances.id,
            set: {
              roles: beat.roles,
              incarnation: beat.incarnation,
              host: beat.host,
              pid: beat.pid,
              probeUrl: beat.probeUrl,
              // A new incarnation is a restart: its start time is now.
              startedAt: sql`case when ${instances.incarnation} = ${beat.incarnation} then ${instances.startedAt} else clock_timestamp() end`,
              heartbeatAt: sql`clock_timestamp()`,
              expiresAt,
            },
          })
          .returning(columns),
      );
      return toInstance(rows[0] as Row);
    },
    async get(id) {
      const rows = await guard(() => db.select(columns).from(instances).where(eq(instances.id, id)));
      return rows[0] ? toInstance(rows[0] as Row) : null;
    },
    async list() {
      const rows = await guard(() => db.select(columns).from(instances).orderBy(asc(instances.id)));
      return rows.map((row) => toInstance(row as Row));
    },
    async end(id, incarnation) {
      await guard(() =>
        db.delete(instances).where(and(eq(instances.id, id), eq(instances.incarnation, incarnation))),
      );
    },
  };
}
