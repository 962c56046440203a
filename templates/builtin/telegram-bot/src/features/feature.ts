import type { Composer } from "grammy";
import type { BotContext } from "../context.js";
import type { Deps } from "../deps.js";

/** One feature of the bot: its menu commands and a Composer with its handlers. */
export interface Feature {
  name: string;
  commands: { command: string; description: string }[];
  /** Builds the feature's handlers over the injected outside world. */
  composer(deps: Deps): Composer<BotContext>;
}
