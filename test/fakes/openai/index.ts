export {
  type FakeOpenAi,
  type FakeOpenAiUsage,
  type RecordedOpenAiRequest,
  startFakeOpenAi,
} from "./server.js";
