export type { FakeBotCommand, FakeBotIdentity } from "./bot.js";
export type { FakeCallbackQuery, FakeChatAction, FakeSentMessage } from "./chats.js";
export type { FakeInlineButton, FakeInlineKeyboard } from "./markup.js";
export type { FakeUploadedFile } from "./protocol.js";
export {
  type FakeFailureSpec,
  type FakePushOptions,
  type FakeTelegram,
  type FakeTelegramCall,
  startFakeTelegram,
} from "./server.js";
export type { FakeUserOptions } from "./users.js";
