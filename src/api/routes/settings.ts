import { z } from "zod";
import { runtimeSettingDefaults } from "../../config/index.js";
import {
  AgentConfig,
  AgentConfigRestore,
  AgentConfigVersion,
  AgentConfigVersionSummary,
  AgentRole,
  ConfigVersion,
  RuntimeSettingsUpdate,
  RuntimeSettingsView,
  settingsView,
} from "../../contracts/index.js";
import type { Api, ApiDeps } from "../context.js";
import { invokeFor } from "./tools.js";

const ByNode = z.object({ node: AgentRole });
const ByVersion = ByNode.extend({ version: z.coerce.number().pipe(ConfigVersion) });

/**
 * The Settings page's API (admins only): each node's saved config versions, one version in full,
 * restoring an old one, and the run-time settings (worker and session lifetimes) over the
 * environment's defaults. Writes run the matching tool as the caller, like the tool door.
 */
export function registerSettingsRoutes(app: Api, deps: ApiDeps): void {
  const { store } = deps;
  const defaults = deps.runtimeDefaults ?? runtimeSettingDefaults();

  app.get(
    "/api/agent-configs/:node/versions",
    {
      schema: {
        tags: ["agent-configs"],
        params: ByNode,
        response: { 200: z.object({ items: z.array(AgentConfigVersionSummary) }) },
      },
    },
    async (req) => ({ items: await store.agentConfigs.listVersions(req.params.node) }),
  );
  app.get(
    "/api/agent-configs/:node/versions/:version",
    { schema: { tags: ["agent-configs"], params: ByVersion, response: { 200: AgentConfigVersion } } },
    (req) => store.agentConfigs.getVersion(req.params.node, req.params.version),
  );
  app.post(
    "/api/agent-configs/:node/restore",
    {
      schema: {
        tags: ["agent-configs"],
        params: ByNode,
        body: AgentConfigRestore,
        response: { 200: AgentConfig },
      },
    },
    (req) =>
      invokeFor<AgentConfig>(deps, req, "agent_config.restore", { ...req.body, node: req.params.node }),
  );

  app.get(
    "/api/settings",
    { schema: { tags: ["settings"], response: { 200: RuntimeSettingsView } } },
    async () => settingsView(defaults, await store.settings.list()),
  );
  app.patch(
    "/api/settings",
    { schema: { tags: ["settings"], body: RuntimeSettingsUpdate, response: { 200: RuntimeSettingsView } } },
    async (req) => {
      await invokeFor(deps, req, "settings.update", req.body);
      return settingsView(defaults, await store.settings.list());
    },
  );
}
