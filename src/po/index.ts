export {
  conversationMessages,
  type PoDeps,
  type PoHistoryItem,
  type PoTurnInput,
  type PoTurnResult,
  ProductOwner,
  poSystemPrompt,
} from "./agent.js";
export { CliProductOwner, type CliProductOwnerDeps, turnPrompt } from "./claude-code.js";
export { PO_MCP_PATH, PoTurns } from "./mcp.js";
export { scriptedProductOwner } from "./script.js";
export { estimateTokens, SUMMARY_INSTRUCTION, summarize } from "./summarize.js";
export { PoToolbox, type ToolAnswer } from "./toolbox.js";
export { PO_TOOL_NAMES, RUN_STARTING_TOOLS } from "./tools.js";
