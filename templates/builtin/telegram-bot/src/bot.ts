import { Bot } from "grammy";
import type { Config } from "./config.js";
import { features } from "./features/index.js";

/** Builds the bot with every feature registered; does not start it. */
export function createBot(config: Config): Bot {
  const bot = new Bot(config.token, config.apiRoot ? { client: { apiRoot: config.apiRoot } } : {});
  for (const feature of features) feature.register(bot);
  bot.catch((err) => {
    console.error(`error while handling update ${err.ctx.update.update_id}:`, err.error);
  });
  return bot;
}

/** The commands shown in Telegram's menu, taken from the features. */
export function commandList(): { command: string; description: string }[] {
  return features.flatMap((feature) => feature.commands);
}
