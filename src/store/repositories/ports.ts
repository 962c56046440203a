import { and, eq, type SQL } from "drizzle-orm";
import { PortAllocation, PortAllocationCreate, parseOrThrow } from "../../contracts/index.js";
import { portAllocations } from "../schema.js";
import type { PortAllocationRepository } from "../store.js";
import { type Db, filterId, firstOrNotFound, guard, iso, listPage, requireId, toContract } from "./common.js";

type Row = typeof portAllocations.$inferSelect;

function toAllocation(row: Row): PortAllocation {
  return toContract(
    PortAllocation,
    {
      id: row.id,
      serverId: row.serverId,
      port: row.port,
      projectId: row.projectId,
      service: row.service,
      createdAt: iso(row.createdAt),
    },
    "port allocation",
  );
}

/**
 * Port allocations on any Postgres driver. Atomicity comes from the UNIQUE(server_id, port) index:
 * of concurrent inserts for one server and port exactly one lands, the rest get `conflict`.
 */
export function createPortAllocationRepository(db: Db): PortAllocationRepository {
  return {
    async allocate(input) {
      const data = parseOrThrow(PortAllocationCreate, input, "port allocation");
      const [row] = await guard(() => db.insert(portAllocations).values(data).returning());
      return toAllocation(row as Row);
    },
    async get(id) {
      requireId("port allocation", id);
      return toAllocation(
        await firstOrNotFound(
          db.select().from(portAllocations).where(eq(portAllocations.id, id)),
          "port allocation",
          id,
        ),
      );
    },
    async list(page) {
      const filters: SQL[] = [];
      if (page.serverId) filters.push(eq(portAllocations.serverId, filterId("serverId", page.serverId)));
      if (page.projectId) filters.push(eq(portAllocations.projectId, filterId("projectId", page.projectId)));
      return listPage(db, portAllocations, and(...filters), page, toAllocation);
    },
    async release(id) {
      requireId("port allocation", id);
      await firstOrNotFound(
        db.delete(portAllocations).where(eq(portAllocations.id, id)).returning({ id: portAllocations.id }),
        "port allocation",
        id,
      );
    },
    async releaseForProject(projectId, serverId) {
      const filters = [eq(portAllocations.projectId, filterId("projectId", projectId))];
      if (serverId !== undefined) filters.push(eq(portAllocations.serverId, filterId("serverId", serverId)));
      const rows = await guard(() =>
        db
          .delete(portAllocations)
          .where(and(...filters))
          .returning({ id: portAllocations.id }),
      );
      return rows.length;
    },
  };
}
