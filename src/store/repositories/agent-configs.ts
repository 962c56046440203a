import { eq, sql } from "drizzle-orm";
import { AgentConfig, AgentConfigUpdate, AgentRole, parseOrThrow } from "../../contracts/index.js";
import { AGENT_CONFIG_DEFAULTS } from "../agent-config-defaults.js";
import { agentConfigs } from "../schema.js";
import type { AgentConfigRepository } from "../store.js";
import { type Db, firstOrNotFound, guard, iso, toContract } from "./common.js";

type Row = typeof agentConfigs.$inferSelect;

function toConfig(row: Row): AgentConfig {
  return toContract(AgentConfig, { ...row, updatedAt: iso(row.updatedAt) }, "agent config");
}

/** Inserts the shipped default for every role that has no row yet; an admin's edits are kept. */
export async function seedAgentConfigs(db: Db): Promise<void> {
  await guard(() =>
    db.insert(agentConfigs).values(Object.values(AGENT_CONFIG_DEFAULTS)).onConflictDoNothing({
      target: agentConfigs.node,
    }),
  );
}

/** Per-node agent settings on any Postgres driver, listed in `AgentRole` order. */
export function createAgentConfigRepository(db: Db): AgentConfigRepository {
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
    async update(node, patch) {
      const role = parseOrThrow(AgentRole, node, "agent node");
      const data = parseOrThrow(AgentConfigUpdate, patch, "agent config update");
      return toConfig(
        await firstOrNotFound(
          db
            .update(agentConfigs)
            .set({ ...data, updatedAt: sql`clock_timestamp()` })
            .where(eq(agentConfigs.node, role))
            .returning(),
          "agent config",
          role,
        ),
      );
    },
  };
}
