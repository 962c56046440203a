import { z } from "zod";
import { AppError, BotIdentity, Id, PoolBot } from "../../contracts/index.js";
import { type BotTokens, botTokenRefusal } from "../../secrets/index.js";
import { assertAdmin, assertProject } from "../permissions.js";
import { defineTool, type ToolContext } from "../tool.js";
import { actorOf } from "./secrets.js";

/** The bot pool of this call, or `unavailable` where the process has no vault or Telegram to check with. */
function botsOf(ctx: ToolContext): BotTokens {
  if (!ctx.bots) {
    throw new AppError("unavailable", "secrets_unavailable", "the bot pool is not available here");
  }
  return ctx.bots;
}

export const poolTake = defineTool({
  name: "pool.take",
  group: "projects",
  summary:
    "Give a project a Telegram bot from the pool admins fill, for a person without a bot token of their own: its token becomes the project's TELEGRAM_BOT_TOKEN. `taken` names the bot; `own` means the project has its own token already; `waiting` means the pool is empty: the project gets the next bot an admin adds and its deploy goes on then, with no new request.",
  input: z.object({ projectId: Id.describe("project UUID") }),
  output: z.object({
    projectId: Id,
    status: z.enum(["taken", "own", "waiting"]),
    bot: BotIdentity.nullable(),
  }),
  async handler(input, ctx) {
    await assertProject(ctx, input.projectId);
    // A deploy blocked on the missing token goes on through the pool's `onFilled`.
    const taken = await botsOf(ctx).take(input.projectId, actorOf(ctx.principal));
    return {
      projectId: input.projectId,
      status: taken.status,
      bot: taken.status === "waiting" ? null : taken.bot,
    };
  },
});

export const poolAdd = defineTool({
  name: "pool.add",
  group: "secrets",
  secretField: "token",
  summary:
    "Add a pre-registered Telegram bot to the pool (admin). The token is checked with Telegram (getMe; a webhook on it is removed; a bot a project or the pool has already is refused), sealed, and handed to the longest-waiting project at once, if any, whose blocked deploy then goes on.",
  input: z.object({
    token: z.string().min(1).max(200).describe("the bot token from @BotFather (never echoed back)"),
  }),
  output: PoolBot,
  async handler(input, ctx) {
    assertAdmin(ctx.principal, "pool.add");
    const added = await botsOf(ctx).addToPool(input.token, actorOf(ctx.principal));
    if (!added.ok) throw botTokenRefusal(added, "token");
    return (await botsOf(ctx).listPool()).find((b) => b.id === added.bot.id) ?? added.bot;
  },
});

export const poolList = defineTool({
  name: "pool.list",
  group: "secrets",
  summary: "The pool's bots (admin): username, masked token, and which project holds each; free ones first.",
  input: z.object({}),
  output: z.array(PoolBot),
  async handler(_input, ctx) {
    assertAdmin(ctx.principal, "pool.list");
    return botsOf(ctx).listPool();
  },
});

export const poolRemove = defineTool({
  name: "pool.remove",
  group: "secrets",
  summary:
    "Remove a free bot from the pool (admin); one a project holds is refused until its teardown gives it back.",
  input: z.object({ id: Id.describe("pool bot id (from pool.list)") }),
  output: PoolBot,
  async handler(input, ctx) {
    assertAdmin(ctx.principal, "pool.remove");
    return botsOf(ctx).removeFromPool(input.id, actorOf(ctx.principal));
  },
});
