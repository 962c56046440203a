import type { Bot } from "grammy";

/** One feature of the bot: its menu commands and the handlers it adds. */
export interface Feature {
  name: string;
  commands: { command: string; description: string }[];
  register(bot: Bot): void;
}
