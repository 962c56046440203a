import { and, asc, eq, gte, isNotNull, sql } from "drizzle-orm";
import { Capacity, parseOrThrow, Server, ServerCreate, ServerStatusMachine } from "../../contracts/index.js";
import type { SecretRedactor } from "../../observability/index.js";
import { servers } from "../schema.js";
import type { ServerRepository } from "../store.js";
import {
  casMove,
  type Db,
  firstOrNotFound,
  guard,
  iso,
  isoOrNull,
  listPage,
  requireId,
  sinceDate,
  toContract,
} from "./common.js";

type Row = typeof servers.$inferSelect;

function toServer(row: Row): Server {
  return toContract(
    Server,
    {
      id: row.id,
      handle: row.handle,
      host: row.host,
      sshPort: row.sshPort,
      sshUser: row.sshUser,
      hasSshKey: row.sshKeyCiphertext !== null,
      capacity: row.capacity,
      status: row.status,
      lastHealthCheckAt: isoOrNull(row.lastHealthCheckAt),
      lastError: row.lastError,
      createdAt: iso(row.createdAt),
      updatedAt: iso(row.updatedAt),
    },
    "server",
  );
}

/**
 * Servers on any Postgres driver. The SSH key ciphertext leaves only through `getSshKeyCiphertext`
 * (and, for the redactor, `sshKeyCiphertexts`); the last error (SSH's words) is redacted.
 */
export function createServerRepository(db: Db, redactor: SecretRedactor): ServerRepository {
  const byId = (id: string) => db.select().from(servers).where(eq(servers.id, id));
  /** Sets columns of one server (and its `updatedAt`); the server as it is now. */
  const update = async (id: string, values: Partial<Pick<Row, "sshKeyCiphertext" | "capacity">>) =>
    toServer(
      await firstOrNotFound(
        db
          .update(servers)
          .set({ ...values, updatedAt: sql`clock_timestamp()` })
          .where(eq(servers.id, id))
          .returning(),
        "server",
        id,
      ),
    );

  return {
    async create(input) {
      const data = parseOrThrow(ServerCreate, input, "server");
      const [row] = await guard(() => db.insert(servers).values(data).returning());
      return toServer(row as Row);
    },
    async get(id) {
      requireId("server", id);
      return toServer(await firstOrNotFound(byId(id), "server", id));
    },
    async findByHandle(handle) {
      const [row] = await guard(() => db.select().from(servers).where(eq(servers.handle, handle)));
      return row ? toServer(row) : null;
    },
    async list(page) {
      return listPage(db, servers, undefined, page, toServer);
    },
    async setStatus(id, to, lastError) {
      requireId("server", id);
      const target = parseOrThrow(ServerStatusMachine.schema, to, "server status");
      // ready/error are outcomes of a health check; a ready server has no current error.
      const isCheckOutcome = target === "ready" || target === "error";
      const error = lastError !== undefined ? lastError : target === "ready" ? null : undefined;
      const row = await casMove({
        entity: "server",
        id,
        to: target,
        read: async () => (await byId(id))[0],
        statusOf: (r) => r.status,
        assert: (from, next) => ServerStatusMachine.assertTransition(from, next),
        write: async (from) =>
          (
            await db
              .update(servers)
              .set({
                status: target,
                updatedAt: sql`clock_timestamp()`,
                ...(error !== undefined ? { lastError: error === null ? null : redactor.redact(error) } : {}),
                ...(isCheckOutcome ? { lastHealthCheckAt: sql`clock_timestamp()` } : {}),
              })
              .where(and(eq(servers.id, id), eq(servers.status, from)))
              .returning()
          )[0],
      });
      return toServer(row);
    },
    async setSshKey(id, ciphertext) {
      requireId("server", id);
      return update(id, { sshKeyCiphertext: ciphertext });
    },
    async getSshKeyCiphertext(id) {
      requireId("server", id);
      const row = await firstOrNotFound(
        db.select({ key: servers.sshKeyCiphertext }).from(servers).where(eq(servers.id, id)),
        "server",
        id,
      );
      return row.key;
    },
    async listSshKeyCiphertexts(opts) {
      const since = sinceDate(opts.changedSince);
      const rows = await guard(() =>
        db
          .select({
            ciphertext: servers.sshKeyCiphertext,
            updatedAt: servers.updatedAt,
            handle: servers.handle,
          })
          .from(servers)
          .where(
            and(
              isNotNull(servers.sshKeyCiphertext),
              since === null ? undefined : gte(servers.updatedAt, since),
            ),
          )
          .orderBy(asc(servers.updatedAt)),
      );
      return rows.flatMap((row) =>
        row.ciphertext === null
          ? []
          : [
              {
                ciphertext: row.ciphertext,
                updatedAt: iso(row.updatedAt),
                label: `server ${row.handle} SSH key`,
              },
            ],
      );
    },
    async setCapacity(id, capacity) {
      requireId("server", id);
      return update(id, { capacity: parseOrThrow(Capacity.nullable(), capacity, "server capacity") });
    },
  };
}
