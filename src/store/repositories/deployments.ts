import { and, asc, desc, eq, sql } from "drizzle-orm";
import {
  Deployment,
  DeploymentCreate,
  DeploymentStatusMachine,
  parseOrThrow,
} from "../../contracts/index.js";
import type { SecretRedactor } from "../../observability/index.js";
import { deployments } from "../schema.js";
import type { DeploymentRepository } from "../store.js";
import {
  casMove,
  type Db,
  filterId,
  firstOrNotFound,
  guard,
  iso,
  isoOrNull,
  listPage,
  requireId,
  toContract,
} from "./common.js";

type Row = typeof deployments.$inferSelect;

function toDeployment(row: Row): Deployment {
  return toContract(
    Deployment,
    {
      id: row.id,
      projectId: row.projectId,
      runId: row.runId,
      serverId: row.serverId,
      commitSha: row.commitSha,
      release: row.release,
      url: row.url,
      status: row.status,
      healthCheck: row.healthCheck,
      logsExcerpt: row.logsExcerpt,
      createdAt: iso(row.createdAt),
      finishedAt: isoOrNull(row.finishedAt),
    },
    "deployment",
  );
}

/** Statuses that end the attempt itself; later moves (superseded, rolled back) keep its finish time. */
const ENDS_ATTEMPT = new Set<Deployment["status"]>(["healthy", "failed"]);

/**
 * Deployments on any Postgres driver: one record per attempt, moved through `DeploymentStatusMachine`.
 * The URL, health check and logs excerpt are redacted before they are stored (a service may print
 * its secrets).
 */
export function createDeploymentRepository(db: Db, redactor: SecretRedactor): DeploymentRepository {
  const byId = (id: string) => db.select().from(deployments).where(eq(deployments.id, id));

  return {
    async create(input) {
      const data = parseOrThrow(DeploymentCreate, input, "deployment");
      const [row] = await guard(() => db.insert(deployments).values(data).returning());
      return toDeployment(row as Row);
    },
    async get(id) {
      requireId("deployment", id);
      return toDeployment(await firstOrNotFound(byId(id), "deployment", id));
    },
    async list(page) {
      const status =
        page.status === undefined
          ? undefined
          : parseOrThrow(DeploymentStatusMachine.schema, page.status, "deployment status");
      const where = and(
        page.projectId ? eq(deployments.projectId, filterId("projectId", page.projectId)) : undefined,
        status ? eq(deployments.status, status) : undefined,
      );
      return listPage(db, deployments, where, page, toDeployment);
    },
    async serving(limit) {
      // The newest deployment of each project, kept when it is the healthy one: a deploy under way
      // (a newer pending one) or a failed newest attempt leaves the project out.
      const newest = db
        .selectDistinctOn([deployments.projectId])
        .from(deployments)
        .orderBy(deployments.projectId, desc(deployments.createdAt), desc(deployments.id))
        .as("newest");
      const rows = await guard(() =>
        db
          .select()
          .from(newest)
          .where(eq(newest.status, "healthy"))
          .orderBy(asc(newest.createdAt))
          .limit(Math.max(1, Math.min(10_000, Math.floor(limit)))),
      );
      return rows.map((row) => toDeployment(row as Row));
    },
    async finish(id, to, change) {
      requireId("deployment", id);
      const target = parseOrThrow(DeploymentStatusMachine.schema, to, "deployment status");
      const row = await casMove({
        entity: "deployment",
        id,
        to: target,
        read: async () => (await byId(id))[0],
        statusOf: (r) => r.status,
        assert: (from, next) => DeploymentStatusMachine.assertTransition(from, next),
        write: async (from, current) =>
          (
            await db
              .update(deployments)
              .set({
                status: target,
                ...(change.url !== undefined ? { url: redactor.redactValue(change.url) } : {}),
                ...(change.healthCheck !== undefined
                  ? { healthCheck: redactor.redactValue(change.healthCheck) }
                  : {}),
                ...(change.logsExcerpt !== undefined
                  ? { logsExcerpt: redactor.redactValue(change.logsExcerpt) }
                  : {}),
                ...(ENDS_ATTEMPT.has(target) && current.finishedAt === null
                  ? { finishedAt: sql`clock_timestamp()` }
                  : {}),
              })
              .where(and(eq(deployments.id, id), eq(deployments.status, from)))
              .returning()
          )[0],
      });
      return toDeployment(row);
    },
  };
}
