import { Composer } from "grammy";
import type { BotContext } from "../context.js";
import type { Feature } from "./feature.js";

/** /help: lists every command of every feature (pass the full list in). */
export function help(all: () => Feature[]): Feature {
  return {
    name: "help",
    commands: [{ command: "help", description: "Show what I can do" }],
    composer() {
      const composer = new Composer<BotContext>();
      composer.command("help", (ctx) => {
        const lines = all()
          .flatMap((feature) => feature.commands)
          .map((c) => `/${c.command} - ${c.description}`);
        return ctx.reply(`{{projectName}}: {{description}}\n\n${lines.join("\n")}`);
      });
      return composer;
    },
  };
}
