import { and, desc, eq, sql } from "drizzle-orm";
import {
  AgentConfig,
  AgentConfigUpdate,
  AgentConfigVersion,
  AgentConfigVersionSummary,
  AgentRole,
  AppError,
  ConfigAuthor,
  parseOrThrow,
} from "../../contracts/index.js";
import { AGENT_CONFIG_DEFAULTS } from "../agent-config-defaults.js";
import { agentConfigs, agentConfigVersions } from "../schema.js";
import type { AgentConfigRepository } from "../store.js";
import { type Db, firstOrNotFound, guard, iso, toContract } from "./common.js";

type Row = typeof agentConfigs.$inferSelect;
type VersionRow = typeof agentConfigVersions.$inferSelect;

/** Who saved the version 1 every node starts from. */
export const SHIPPED_DEFAULT_AUTHOR = "shipped default";

function toConfig(row: Row): AgentConfig {
  return toContract(AgentConfig, { ...row, updatedAt: iso(row.updatedAt) }, "agent config");
}

function toVersion(row: VersionRow): AgentConfigVersion {
  return toContract(AgentConfigVersion, { ...row, createdAt: iso(row.createdAt) }, "agent config version");
}

/**
 * Inserts the shipped default for every role that has no row yet (an admin's edits are kept), and
 * records the version each row holds when the history lacks it (version 1 of a fresh database, or
 * of a database from before versions were kept).
 */
export async function seedAgentConfigs(db: Db): Promise<void> {
  await guard(() =>
    db.insert(agentConfigs).values(Object.values(AGENT_CONFIG_DEFAULTS)).onConflictDoNothing({
      target: agentConfigs.node,
    }),
  );
  await guard(() =>
    db.execute(sql`
      insert into ${agentConfigVersions}
        (node, version, backend, model, prompt, max_turns, budget_usd, timeout_ms, created_by, created_at)
      select node, version, backend, model, prompt, max_turns, budget_usd, timeout_ms,
        ${SHIPPED_DEFAULT_AUTHOR}, updated_at
      from ${agentConfigs}
      on conflict do nothing`),
  );
}

function noSuchVersion(node: AgentRole, version: number): AppError {
  return new AppError("not_found", "not_found", `the ${node} node has no version ${version}`, {
    details: [{ path: "version", message: `no version ${version} of ${node}` }],
  });
}

/**
 * Per-node agent settings on any Postgres driver, listed in `AgentRole` order. Every save writes
 * the node's row and a new row of its history in one transaction, the row locked meanwhile, so
 * two admins saving at once get two versions, never one number twice.
 */
export function createAgentConfigRepository(db: Db): AgentConfigRepository {
  const save = (node: AgentRole, patch: AgentConfigUpdate, actor: string) =>
    guard(() =>
      db.transaction(async (tx) => {
        const [current] = await tx
          .select()
          .from(agentConfigs)
          .where(eq(agentConfigs.node, node))
          .for("update");
        if (!current) throw new AppError("not_found", "not_found", `agent config ${node} not found`);
        const next = { ...current, ...patch, version: current.version + 1 };
        const [row] = await tx
          .update(agentConfigs)
          .set({ ...patch, version: next.version, updatedAt: sql`clock_timestamp()` })
          .where(eq(agentConfigs.node, node))
          .returning();
        const saved = row as Row;
        await tx.insert(agentConfigVersions).values({
          node,
          version: saved.version,
          backend: saved.backend,
          model: saved.model,
          prompt: saved.prompt,
          maxTurns: saved.maxTurns,
          budgetUsd: saved.budgetUsd,
          timeoutMs: saved.timeoutMs,
          createdBy: actor,
          createdAt: saved.updatedAt,
        });
        return saved;
      }),
    );

  const getVersion = async (node: AgentRole, version: number) => {
    const role = parseOrThrow(AgentRole, node, "agent node");
    const [row] = await guard(() =>
      db
        .select()
        .from(agentConfigVersions)
        .where(and(eq(agentConfigVersions.node, role), eq(agentConfigVersions.version, version))),
    );
    if (!row) throw noSuchVersion(role, version);
    return toVersion(row);
  };

  return {
    async list() {
      const rows = await guard(() => db.select().from(agentConfigs));
      const order = AgentRole.options;
      return rows
        .filter((r) => order.includes(r.node))
        .sort((a, b) => order.indexOf(a.node) - order.indexOf(b.node))
        .map(toConfig);
    },
    async get(node) {
      const role = parseOrThrow(AgentRole, node, "agent node");
      return toConfig(
        await firstOrNotFound(
          db.select().from(agentConfigs).where(eq(agentConfigs.node, role)),
          "agent config",
          role,
        ),
      );
    },
    async update(node, patch, actor) {
      const role = parseOrThrow(AgentRole, node, "agent node");
      const data = parseOrThrow(AgentConfigUpdate, patch, "agent config update");
      const by = parseOrThrow(ConfigAuthor, actor, "author");
      return toConfig(await save(role, data, by));
    },
    async listVersions(node) {
      const role = parseOrThrow(AgentRole, node, "agent node");
      const rows = await guard(() =>
        db
          .select()
          .from(agentConfigVersions)
          .where(eq(agentConfigVersions.node, role))
          .orderBy(desc(agentConfigVersions.version)),
      );
      return rows.map((row) => {
        const { prompt: _prompt, ...rest } = toVersion(row);
        return toContract(AgentConfigVersionSummary, rest, "agent config version");
      });
    },
    async getVersion(node, version) {
      return getVersion(node, parseOrThrow(AgentConfigVersion.shape.version, version, "version"));
    },
    async restore(node, version, actor) {
      const old = await this.getVersion(node, version);
      const { backend, model, prompt, maxTurns, budgetUsd, timeoutMs } = old;
      return this.update(old.node, { backend, model, prompt, maxTurns, budgetUsd, timeoutMs }, actor);
    },
  };
}
