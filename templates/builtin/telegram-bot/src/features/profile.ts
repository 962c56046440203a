import { Composer } from "grammy";
import type { BotContext } from "../context.js";
import type { Feature } from "./feature.js";

/**
 * /profile: a dialog of two questions (name, then city), one step at a time, kept in the session
 * (`ctx.session.profile`), so it survives a restart halfway. /cancel leaves it; /whoami shows
 * what was saved. Any other command during the dialog is handled as usual.
 */
export const profile: Feature = {
  name: "profile",
  commands: [
    { command: "profile", description: "Tell me your name and city" },
    { command: "whoami", description: "What I know about you" },
    { command: "cancel", description: "Stop the current dialog" },
  ],
  composer() {
    const composer = new Composer<BotContext>();

    composer.command("profile", (ctx) => {
      ctx.session.profile = { step: "name" };
      return ctx.reply("What is your name? (/cancel to stop)");
    });

    composer.command("cancel", (ctx) => {
      if (!ctx.session.profile) return ctx.reply("There is nothing to cancel.");
      delete ctx.session.profile;
      return ctx.reply("Cancelled.");
    });

    composer.command("whoami", (ctx) => {
      const { name, city } = ctx.session;
      if (!name) return ctx.reply("I don't know you yet: send /profile.");
      return ctx.reply(`You are ${name} from ${city ?? "somewhere"}.`);
    });

    // The answers: plain text (not a command) while the dialog runs.
    composer
      .on("message:text")
      .filter((ctx) => ctx.session.profile !== undefined && !ctx.message.text.startsWith("/"))
      .use((ctx) => {
        const answer = ctx.message.text.trim().slice(0, 100);
        const step = ctx.session.profile;
        if (!answer) return ctx.reply("Please answer with some text.");
        if (step?.step === "name") {
          ctx.session.profile = { step: "city", name: answer };
          return ctx.reply(`Nice to meet you, ${answer}! Which city do you live in?`);
        }
        ctx.session.name = step?.name;
        ctx.session.city = answer;
        delete ctx.session.profile;
        return ctx.reply(`Saved: ${ctx.session.name} from ${answer}.`);
      });
    return composer;
  },
};
