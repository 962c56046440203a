import { Composer } from "grammy";
import type { BotContext } from "../context.js";
import type { Feature } from "./feature.js";

export const QUOTE_URL = "https://dummyjson.com/quotes/random";

/**
 * /quote: an example of a call to an outside service. It goes through `deps.fetch` (a fake in
 * tests) with a deadline (`AbortSignal.timeout`), and every way it can fail gets its own answer.
 */
export const quote: Feature = {
  name: "quote",
  commands: [{ command: "quote", description: "A random quote" }],
  composer({ fetch, log, callTimeoutMs }) {
    const composer = new Composer<BotContext>();
    composer.command("quote", async (ctx) => {
      let body: unknown;
      try {
        const response = await fetch(QUOTE_URL, {
          signal: AbortSignal.timeout(callTimeoutMs),
          headers: { accept: "application/json" },
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        body = await response.json();
      } catch (error) {
        const timedOut = error instanceof Error && error.name === "TimeoutError";
        log.error(
          `[quote] ${QUOTE_URL}: ${timedOut ? `no answer within ${callTimeoutMs} ms` : String(error)}`,
        );
        return ctx.reply(
          timedOut
            ? "The quote service did not answer in time. Try again later."
            : "The quote service is not working right now. Try again later.",
        );
      }
      const { quote: text, author } = (body ?? {}) as { quote?: unknown; author?: unknown };
      if (typeof text !== "string" || typeof author !== "string") {
        log.error(`[quote] ${QUOTE_URL}: unexpected answer ${JSON.stringify(body).slice(0, 200)}`);
        return ctx.reply("The quote service answered something odd. Try again later.");
      }
      return ctx.reply(`“${text}” (${author})`);
    });
    return composer;
  },
};
