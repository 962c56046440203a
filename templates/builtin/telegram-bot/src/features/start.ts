import { Composer } from "grammy";
import type { BotContext } from "../context.js";
import type { Feature } from "./feature.js";

/** /start: the greeting a person sees first (the deploy's health check asks it: keep it answering). */
export const start: Feature = {
  name: "start",
  commands: [{ command: "start", description: "Start the bot" }],
  composer() {
    const composer = new Composer<BotContext>();
    composer.command("start", (ctx) =>
      ctx.reply("Hello! I am {{projectName}}. Send /help to see what I can do."),
    );
    return composer;
  },
};
