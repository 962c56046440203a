export {
  type FakeBotIdentity,
  type FakeSentMessage,
  type FakeTelegram,
  type FakeTelegramCall,
  startFakeTelegram,
} from "./server.js";
