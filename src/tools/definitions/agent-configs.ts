import { z } from "zod";
import {
  AgentConfig,
  AgentConfigRestore,
  AgentConfigUpdate,
  AgentRole,
  AppError,
  PO_BACKENDS,
  type Principal,
  RuntimeSettingsUpdate,
  StoredSetting,
} from "../../contracts/index.js";
import type { Store } from "../../store/index.js";
import { assertAdmin } from "../permissions.js";
import { defineTool } from "../tool.js";

const Node = AgentRole.describe("agent node: po, architect, developer, ...");

/**
 * Who saved a version or a setting, as the Settings page shows it: `admin:<token name>`,
 * `user:<user id>` or `worker:<role>:<token name>`; never the token itself.
 */
export async function authorOf(store: Store, principal: Principal): Promise<string> {
  if (principal.kind === "user") return `user:${principal.userId}`;
  const token = await store.apiTokens.findActiveById(principal.tokenId).catch(() => null);
  const name = token?.name ?? principal.tokenId;
  return principal.kind === "admin" ? `admin:${name}` : `worker:${principal.role}:${name}`;
}

function checkPoBackend(node: AgentRole, backend: AgentConfig["backend"] | undefined): void {
  if (node === "po" && backend && !PO_BACKENDS.includes(backend)) {
    throw new AppError("invalid", "invalid_input", "the Product Owner cannot run on this backend", {
      details: [{ path: "backend", message: `one of ${PO_BACKENDS.join(", ")} for the po node` }],
    });
  }
}

export const agentConfigUpdate = defineTool({
  name: "agent_config.update",
  group: "admin",
  summary:
    "Change how one agent node runs (backend, model, prompt, max turns, budget, timeouts), saved as its next version with who and when; the next turn uses it. Admin only.",
  input: AgentConfigUpdate.extend({ node: Node }),
  output: AgentConfig,
  async handler({ node, ...patch }, ctx) {
    assertAdmin(ctx.principal, "agent_config.update");
    checkPoBackend(node, patch.backend);
    return ctx.store.agentConfigs.update(node, patch, await authorOf(ctx.store, ctx.principal));
  },
});

export const agentConfigRestore = defineTool({
  name: "agent_config.restore",
  group: "admin",
  summary:
    "Bring back an old version of one agent node's config: its fields are saved again as the node's next version (history is kept). Admin only.",
  input: AgentConfigRestore.extend({ node: Node }),
  output: AgentConfig,
  async handler({ node, version }, ctx) {
    assertAdmin(ctx.principal, "agent_config.restore");
    const old = await ctx.store.agentConfigs.getVersion(node, version);
    checkPoBackend(node, old.backend);
    return ctx.store.agentConfigs.restore(node, version, await authorOf(ctx.store, ctx.principal));
  },
});

export const settingsUpdate = defineTool({
  name: "settings.update",
  group: "admin",
  summary:
    "Set run-time settings in milliseconds (workerPausedTtlMs, workerHardTtlMs, agentSessionMaxAgeMs, webSessionTtlMs); null returns one to the environment's value. New workers and sign-ins use them. Admin only.",
  input: RuntimeSettingsUpdate,
  output: z.object({ stored: z.array(StoredSetting) }),
  async handler(patch, ctx) {
    assertAdmin(ctx.principal, "settings.update");
    return { stored: await ctx.store.settings.update(patch, await authorOf(ctx.store, ctx.principal)) };
  },
});
