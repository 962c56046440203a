import { Composer, InlineKeyboard } from "grammy";
import type { BotContext } from "../context.js";
import type { Feature } from "./feature.js";

const MAX_NOTES = 50;

/** Buttons under the list: one "done" per note; the data names the note by its text's position. */
function keyboard(notes: string[]): InlineKeyboard {
  const keys = new InlineKeyboard();
  notes.forEach((_, i) => {
    keys.text(`✅ ${i + 1}`, `notes:done:${i}`);
    if (i % 5 === 4) keys.row();
  });
  return keys;
}

function listText(notes: string[]): string {
  if (notes.length === 0) return "No notes yet. Add one with /note <text>.";
  return `Your notes:\n${notes.map((note, i) => `${i + 1}. ${note}`).join("\n")}`;
}

/**
 * /note <text> keeps a note, /notes lists them with a button per note to mark it done. Notes live
 * in the `notes` store (DATA_DIR/notes.json), by chat: they survive restarts and releases.
 */
export const notes: Feature = {
  name: "notes",
  commands: [
    { command: "note", description: "Keep a note: /note <text>" },
    { command: "notes", description: "List your notes" },
  ],
  composer({ stores }) {
    const composer = new Composer<BotContext>();
    const key = (ctx: BotContext) => String(ctx.chat?.id);

    composer.command("note", async (ctx) => {
      const text = ctx.match.trim();
      if (!text) return ctx.reply("What should I note? Send /note <text>.");
      const list = stores.notes.get(key(ctx)) ?? [];
      if (list.length >= MAX_NOTES) return ctx.reply(`You have ${MAX_NOTES} notes: mark some done first.`);
      await stores.notes.set(key(ctx), [...list, text]);
      return ctx.reply(`Noted (${list.length + 1}): ${text}`);
    });

    composer.command("notes", (ctx) => {
      const list = stores.notes.get(key(ctx)) ?? [];
      return ctx.reply(listText(list), list.length ? { reply_markup: keyboard(list) } : {});
    });

    composer.callbackQuery(/^notes:done:(\d+)$/, async (ctx) => {
      const list = stores.notes.get(key(ctx)) ?? [];
      const index = Number(ctx.match[1]);
      const done = list[index];
      if (done === undefined) return ctx.answerCallbackQuery({ text: "That note is gone already." });
      const rest = list.filter((_, i) => i !== index);
      await stores.notes.set(key(ctx), rest);
      await ctx.answerCallbackQuery({ text: `Done: ${done}` });
      return ctx.editMessageText(listText(rest), rest.length ? { reply_markup: keyboard(rest) } : {});
    });
    return composer;
  },
};
