// The floor of bench/chat: a bare grammY bot polling with @grammyjs/runner that answers each text
// with one model call and one sendMessage. No store, no queue, no conversation: what any Telegram
// bot that asks a model must do anyway.
import { autoRetry } from "@grammyjs/auto-retry";
import { type RunnerHandle, run, sequentialize } from "@grammyjs/runner";
import { Bot } from "grammy";
import type { ModelTool } from "../src/contracts/index.js";
import type { ModelProvider } from "../src/llm/index.js";

/** The parts of a model call the floor repeats: the orchestrator's system prompt and tools. */
export interface FloorCall {
  system: string;
  tools: ModelTool[];
}

export interface FloorBot {
  stop(): Promise<void>;
}

/**
 * Starts the floor bot: on each text, `provider.complete` with `call`'s system prompt and tools and
 * the text as the only message, then replies with the `respond` tool's text (or the model's text).
 */
export async function startFloorBot(opts: {
  token: string;
  apiRoot: string;
  provider: ModelProvider;
  call: FloorCall;
}): Promise<FloorBot> {
  const bot = new Bot(opts.token, { client: { apiRoot: opts.apiRoot } });
  // The same Bot API plugin the orchestrator's channel uses.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 30 }));
  bot.use(sequentialize((ctx) => ctx.chat?.id.toString()));
  bot.on("message:text", async (ctx) => {
    const turn = await opts.provider.complete({
      system: opts.call.system,
      messages: [{ role: "user", content: [{ type: "text", text: ctx.message.text }] }],
      tools: opts.call.tools,
      maxTokens: 2_048,
    });
    const said = turn.content.find((c) => c.type === "tool_call" && c.name === "respond");
    const text =
      said?.type === "tool_call"
        ? String(said.input.text)
        : turn.content.map((c) => (c.type === "text" ? c.text : "")).join("");
    await ctx.reply(text);
  });
  bot.catch((error) => console.error("bench/chat floor: update failed:", error.error));
  await bot.init();
  const runner: RunnerHandle = run(bot, {
    runner: { fetch: { allowed_updates: ["message", "callback_query"] } },
  });
  return {
    async stop() {
      if (runner.isRunning()) await runner.stop();
      // stop() ends fetching; handlers under way still call the API.
      const end = Date.now() + 5_000;
      while (runner.size() > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    },
  };
}

/** The floor's call from a Messages API request body the orchestrator sent (the fake's log). */
export function floorCallFrom(body: unknown): FloorCall {
  const wire = body as {
    system?: string | { text: string }[];
    tools?: { name: string; description?: string; input_schema: Record<string, unknown> }[];
  };
  const system =
    typeof wire.system === "string" ? wire.system : (wire.system ?? []).map((b) => b.text).join("\n");
  const tools = (wire.tools ?? []).map((t) => ({
    name: t.name,
    description: t.description ?? "",
    inputSchema: t.input_schema,
  }));
  return { system, tools };
}
