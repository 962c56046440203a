import { createToolRegistry, renderToolReference } from "../tools/index.js";
import { WORKER_TOOL_GROUPS } from "../workers/index.js";

/** The tool reference a developer's AGENTS.md carries: exactly the tools its token may call. */
export function developerToolReference(): string {
  const tools = createToolRegistry().listFor({
    kind: "worker",
    tokenId: "00000000-0000-0000-0000-000000000000",
    projectId: "00000000-0000-0000-0000-000000000000",
    role: "developer",
    workerId: null,
    groups: [...WORKER_TOOL_GROUPS],
  });
  return renderToolReference(tools);
}
