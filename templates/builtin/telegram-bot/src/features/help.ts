import type { Feature } from "./feature.js";

/** /help: lists every command of every feature (pass the full list in). */
export function help(all: () => Feature[]): Feature {
  return {
    name: "help",
    commands: [{ command: "help", description: "Show what I can do" }],
    register(bot) {
      bot.command("help", (ctx) => {
        const lines = all()
          .flatMap((feature) => feature.commands)
          .map((c) => `/${c.command} - ${c.description}`);
        return ctx.reply(`{{projectName}}: {{description}}\n\n${lines.join("\n")}`);
      });
    },
  };
}
