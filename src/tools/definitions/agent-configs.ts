import { AgentConfig, AgentConfigUpdate, AgentRole, AppError, PO_BACKENDS } from "../../contracts/index.js";
import { assertAdmin } from "../permissions.js";
import { defineTool } from "../tool.js";

export const agentConfigUpdate = defineTool({
  name: "agent_config.update",
  group: "admin",
  summary:
    "Change how one agent node runs (backend, model, prompt, max turns, budget, timeouts); the next turn uses it. Admin only.",
  input: AgentConfigUpdate.extend({ node: AgentRole.describe("agent node: po, architect, developer, ...") }),
  output: AgentConfig,
  async handler({ node, ...patch }, ctx) {
    assertAdmin(ctx.principal, "agent_config.update");
    if (node === "po" && patch.backend && !PO_BACKENDS.includes(patch.backend)) {
      throw new AppError("invalid", "invalid_input", "the Product Owner cannot run on this backend", {
        details: [{ path: "backend", message: `one of ${PO_BACKENDS.join(", ")} for the po node` }],
      });
    }
    return ctx.store.agentConfigs.update(node, patch);
  },
});
