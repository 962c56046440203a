export { writeReportMcpConfig } from "./mcp-config.js";
export type { FakeBlock, FakeErrorReply, FakeReply, FakeReplyFn, FakeUsage } from "./replies.js";
export { type ClaudeTurnContext, type RunSpec, runBackendTurn, runCommand, testTurn } from "./run-claude.js";
export {
  defaultIsSideRequest,
  type FakeAnthropic,
  type FakeAnthropicOptions,
  type FakeFailure,
  lastToolResultText,
  type MessagesBody,
  type RecordedRequest,
  type RequestKind,
  startFakeAnthropic,
} from "./server.js";
