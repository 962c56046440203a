import { and, asc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { parseOrThrow } from "../../contracts/index.js";
import { releaseOwners } from "../schema.js";
import type { OwnerRef, ReleaseOwner, ReleaseOwnerRepository } from "../store.js";
import { type Db, guard, iso, requireId } from "./common.js";

const Ref = z.object({ id: z.string().min(1).max(100), incarnation: z.string().min(1).max(100) });
const Claim = z.object({
  owner: Ref,
  host: z.string().min(1).max(255),
  release: z.string().min(1).max(100).nullable(),
  port: z.number().int().min(1).max(65_535).nullable(),
  handover: Ref.nullable(),
});
const Pid = z.number().int().positive().nullable();

type Row = typeof releaseOwners.$inferSelect;

function refOf(id: string | null, incarnation: string | null): OwnerRef | null {
  return id !== null && incarnation !== null ? { id, incarnation } : null;
}

function toOwner(row: Row): ReleaseOwner {
  return {
    projectId: row.projectId,
    release: row.release,
    port: row.port,
    owner: refOf(row.ownerId, row.ownerIncarnation),
    host: row.host,
    pid: row.pid,
    handover: refOf(row.handoverId, row.handoverIncarnation),
    version: row.version,
    updatedAt: iso(row.updatedAt),
  };
}

/** Ownership of local releases on any Postgres driver; every change of hands is a compare-and-set. */
export function createReleaseOwnerRepository(db: Db): ReleaseOwnerRepository {
  const isOwner = (owner: OwnerRef) =>
    and(eq(releaseOwners.ownerId, owner.id), eq(releaseOwners.ownerIncarnation, owner.incarnation));
  const bump = { version: sql`${releaseOwners.version} + 1`, updatedAt: sql`clock_timestamp()` };
  return {
    async get(projectId) {
      requireId("project", projectId);
      const rows = await guard(() =>
        db.select().from(releaseOwners).where(eq(releaseOwners.projectId, projectId)),
      );
      return rows[0] ? toOwner(rows[0]) : null;
    },
    async list() {
      const rows = await guard(() => db.select().from(releaseOwners).orderBy(asc(releaseOwners.projectId)));
      return rows.map(toOwner);
    },
    async claim(projectId, seen, next) {
      requireId("project", projectId);
      const claim = parseOrThrow(Claim, next, "release claim");
      const values = {
        release: claim.release,
        port: claim.port,
        ownerId: claim.owner.id,
        ownerIncarnation: claim.owner.incarnation,
        host: claim.host,
        pid: null,
        handoverId: claim.handover?.id ?? null,
        handoverIncarnation: claim.handover?.incarnation ?? null,
      };
      const rows = await guard(() =>
        seen === null
          ? db
              .insert(releaseOwners)
              .values({ projectId, ...values })
              .onConflictDoNothing({ target: releaseOwners.projectId })
              .returning()
          : db
              .update(releaseOwners)
              .set({ ...values, ...bump })
              .where(and(eq(releaseOwners.projectId, projectId), eq(releaseOwners.version, seen.version)))
              .returning(),
      );
      return rows[0] ? toOwner(rows[0]) : null;
    },
    async setPid(projectId, owner, pid) {
      requireId("project", projectId);
      parseOrThrow(Ref, owner, "owner");
      parseOrThrow(Pid, pid, "pid");
      // Not a change of hands: the version stays, so a pending claim is not disturbed by a restart.
      const rows = await guard(() =>
        db
          .update(releaseOwners)
          .set({ pid, updatedAt: sql`clock_timestamp()` })
          .where(and(eq(releaseOwners.projectId, projectId), isOwner(owner)))
          .returning({ projectId: releaseOwners.projectId }),
      );
      return rows.length === 1;
    },
    async ackHandover(projectId, from) {
      requireId("project", projectId);
      parseOrThrow(Ref, from, "handover");
      const rows = await guard(() =>
        db
          .update(releaseOwners)
          .set({ handoverId: null, handoverIncarnation: null, ...bump })
          .where(
            and(
              eq(releaseOwners.projectId, projectId),
              eq(releaseOwners.handoverId, from.id),
              eq(releaseOwners.handoverIncarnation, from.incarnation),
            ),
          )
          .returning({ projectId: releaseOwners.projectId }),
      );
      return rows.length === 1;
    },
    async relinquish(projectId, owner) {
      requireId("project", projectId);
      parseOrThrow(Ref, owner, "owner");
      const rows = await guard(() =>
        db
          .update(releaseOwners)
          .set({ ownerId: null, ownerIncarnation: null, pid: null, ...bump })
          .where(and(eq(releaseOwners.projectId, projectId), isOwner(owner)))
          .returning({ projectId: releaseOwners.projectId }),
      );
      return rows.length === 1;
    },
  };
}
