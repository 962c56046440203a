import type { Feature } from "./feature.js";

/** /start: the greeting a person sees first. */
export const start: Feature = {
  name: "start",
  commands: [{ command: "start", description: "Start the bot" }],
  register(bot) {
    bot.command("start", (ctx) =>
      ctx.reply("Hello! I am {{projectName}}. Send /help to see what I can do."),
    );
  },
};
