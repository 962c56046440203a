import { and, count, desc, eq, gte, inArray, sql, sum } from "drizzle-orm";
import type { ChangeMarks } from "../../contracts/index.js";
import {
  agentConfigs,
  botPool,
  deployments,
  projects,
  runEvents,
  runs,
  secrets,
  servers,
  tokenUsage,
  users,
  workers,
} from "../schema.js";
import type { StatsRepository } from "../store.js";
import { type Db, guard, iso } from "./common.js";

/** Counts and sums for the admin dashboard, each one grouped query on any Postgres driver. */
export function createStatsRepository(db: Db): StatsRepository {
  return {
    async projectsByStatus() {
      const rows = await guard(() =>
        db.select({ status: projects.status, count: count() }).from(projects).groupBy(projects.status),
      );
      return rows.sort((a, b) => a.status.localeCompare(b.status));
    },
    async runsByKindAndStatus(since) {
      const rows = await guard(() =>
        db
          .select({ kind: runs.kind, status: runs.status, count: count() })
          .from(runs)
          .where(gte(runs.createdAt, new Date(since)))
          .groupBy(runs.kind, runs.status),
      );
      return rows.sort((a, b) => a.kind.localeCompare(b.kind) || a.status.localeCompare(b.status));
    },
    async workersByState() {
      const rows = await guard(() =>
        db.select({ state: workers.state, count: count() }).from(workers).groupBy(workers.state),
      );
      return rows.sort((a, b) => a.state.localeCompare(b.state));
    },
    async spendSince(since) {
      const [row] = await guard(() =>
        db
          .select({
            costUsd: sum(tokenUsage.costUsd),
            estimatedCostUsd: sql<
              string | null
            >`sum(case when ${tokenUsage.costSource} = 'estimated' then ${tokenUsage.costUsd} else 0 end)`,
            inputTokens: sum(tokenUsage.inputTokens),
            outputTokens: sum(tokenUsage.outputTokens),
            calls: count(),
          })
          .from(tokenUsage)
          .where(gte(tokenUsage.createdAt, new Date(since))),
      );
      return {
        costUsd: Number(row?.costUsd ?? 0),
        estimatedCostUsd: Number(row?.estimatedCostUsd ?? 0),
        inputTokens: Number(row?.inputTokens ?? 0),
        outputTokens: Number(row?.outputTokens ?? 0),
        calls: row?.calls ?? 0,
      };
    },
    async failingDeployments(since, limit) {
      const rows = await guard(() =>
        db
          .select({
            id: deployments.id,
            projectId: deployments.projectId,
            runId: deployments.runId,
            commitSha: deployments.commitSha,
            status: deployments.status,
            createdAt: deployments.createdAt,
            projectSlug: projects.slug,
          })
          .from(deployments)
          .innerJoin(projects, eq(projects.id, deployments.projectId))
          .where(
            and(
              inArray(deployments.status, ["failed", "rolled_back"]),
              gte(deployments.createdAt, new Date(since)),
            ),
          )
          .orderBy(desc(deployments.createdAt), desc(deployments.id))
          .limit(limit),
      );
      return rows.map((row) => ({ ...row, createdAt: iso(row.createdAt) }));
    },
    async changeMarks() {
      // Counts catch inserts and deletes, latest times catch updates; a deployment's status can
      // change with no time column moving (a rollback marks the one before), so it is hashed in.
      const result = (await guard(() =>
        db.execute(sql`select
          (select count(*) || '/' || coalesce(max(updated_at)::text, '') from ${projects})
            || '|' || (select count(*) || '/' || coalesce(max(updated_at)::text, '') from ${secrets})
            as projects,
          (select count(*) || '/' || coalesce(max(greatest(created_at, started_at, finished_at))::text, '')
            from ${runs}) || '|' || (select coalesce(max(seq), 0) from ${runEvents}) as runs,
          (select count(*) || '/' || coalesce(max(greatest(created_at, finished_at))::text, '') || '/'
            || coalesce(sum(hashtext(id::text || status)), 0) from ${deployments}) as deployments,
          (select count(*) || '/' || coalesce(max(updated_at)::text, '') from ${workers}) as workers,
          (select count(*) || '/' || coalesce(max(updated_at)::text, '') from ${users}) as users,
          (select count(*) || '/' || coalesce(max(updated_at)::text, '') from ${servers}) as servers,
          (select count(*) || '/' || coalesce(max(updated_at)::text, '') from ${botPool}) as pool,
          (select count(*) || '/' || coalesce(max(created_at)::text, '') from ${tokenUsage}) as spend,
          (select count(*) || '/' || coalesce(max(updated_at)::text, '') from ${agentConfigs}) as settings`),
      )) as unknown as { rows: Record<string, unknown>[] };
      const row = result.rows[0] ?? {};
      return Object.fromEntries(
        Object.entries(row).map(([topic, mark]) => [topic, String(mark)]),
      ) as ChangeMarks;
    },
  };
}
