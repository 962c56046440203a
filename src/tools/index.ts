import { agentConfigRestore, agentConfigUpdate, settingsUpdate } from "./definitions/agent-configs.js";
import { poolAdd, poolList, poolRemove, poolTake } from "./definitions/bot-pool.js";
import { runCancel, runGrantBudget, runSpend } from "./definitions/budgets.js";
import { deployRollback, deployStart, deployStatus, projectTeardown } from "./definitions/deploy.js";
import { engineeringAnswer, engineeringStart, engineeringStatus } from "./definitions/engineering.js";
import { projectIncidents } from "./definitions/incidents.js";
import { instanceList } from "./definitions/instances.js";
import { portAllocate, portRelease } from "./definitions/ports.js";
import { projectSecrets, projectStatus } from "./definitions/project-status.js";
import { projectCreate, projectGet, projectList, projectUpdate } from "./definitions/projects.js";
import { runGet, runList } from "./definitions/runs.js";
import { secretRequest } from "./definitions/secret-request.js";
import { secretAudit, secretList, secretRemove, secretSet } from "./definitions/secrets.js";
import { serverCheck, serverList, serverRegister, serverRemove } from "./definitions/servers.js";
import { tokenCreate, tokenRevoke } from "./definitions/tokens.js";
import { userCreate, userUpdate } from "./definitions/users.js";
import { progress, report } from "./definitions/workers.js";
import { ToolRegistry } from "./registry.js";

export { cliFlags, commandWords, flagName, inputFromFlags } from "./cli-flags.js";
export { type ToolServices, toolContextFor } from "./context.js";
export { inputJsonSchema } from "./json-schema.js";
export { type LlmToolDefinition, toLlmToolDefinitions } from "./llm.js";
export { renderToolReference } from "./markdown.js";
export {
  assertProject,
  type ListScope,
  listScope,
  mayCall,
  ROLE_PROFILES,
  roleAllows,
  USER_GROUPS,
  USER_PROFILE,
} from "./permissions.js";
export { ToolRegistry } from "./registry.js";
export { type AnyToolDef, defineTool, externalToolName, type ToolContext, type ToolDef } from "./tool.js";

/** The registry with every built-in tool. */
export function createToolRegistry(): ToolRegistry {
  return new ToolRegistry([
    runSpend,
    runGrantBudget,
    runCancel,
    projectCreate,
    projectList,
    projectGet,
    projectStatus,
    projectSecrets,
    projectIncidents,
    runGet,
    runList,
    engineeringStart,
    engineeringStatus,
    engineeringAnswer,
    deployStart,
    deployStatus,
    deployRollback,
    projectTeardown,
    secretSet,
    secretList,
    secretRemove,
    secretRequest,
    poolTake,
    poolAdd,
    poolList,
    poolRemove,
    secretAudit,
    serverList,
    serverRegister,
    serverCheck,
    serverRemove,
    instanceList,
    report,
    progress,
    userCreate,
    userUpdate,
    projectUpdate,
    portAllocate,
    portRelease,
    agentConfigUpdate,
    agentConfigRestore,
    settingsUpdate,
    tokenCreate,
    tokenRevoke,
  ]);
}
export { createMcpServer, type ToolCaller } from "./mcp-server.js";
