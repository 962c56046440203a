export {
  conversationMessages,
  type PoDeps,
  type PoHistoryItem,
  type PoTurnInput,
  type PoTurnResult,
  ProductOwner,
} from "./agent.js";
export { scriptedProductOwner } from "./script.js";
export { estimateTokens, SUMMARY_INSTRUCTION, summarize } from "./summarize.js";
export { PO_TOOL_NAMES, RUN_STARTING_TOOLS } from "./tools.js";
