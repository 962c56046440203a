import { AppError, type BotIdentity, type PoolBot, type SecretMeta } from "../contracts/index.js";
import type { Logger } from "../observability/index.js";
import type { Store } from "../store/index.js";
import type { SecretsService } from "./service.js";
import { isTelegramBotToken, TELEGRAM_BOT_TOKEN_KEY } from "./telegram.js";
import type { TelegramBotApi } from "./telegram-bot-api.js";

/** Projects in these states no longer run their bot: its token may serve another. */
const INACTIVE = new Set(["stopped", "archived"]);

/**
 * What checking a token found, in the order the checks run: its shape, whether Telegram knows it
 * (`getMe` names the bot), and whether another active project or the pool already has that bot.
 * A webhook someone set is not a failure: it is reported, for the person to have it removed.
 */
export type BotTokenCheck =
  | { ok: true; bot: BotIdentity; webhook: string | null }
  | { ok: false; code: "invalid_bot_token" }
  | { ok: false; code: "bot_token_rejected"; description: string }
  | { ok: false; code: "bot_token_unchecked"; description: string }
  | { ok: false; code: "bot_in_use"; bot: BotIdentity; by: "project" | "pool" };

/** A check that failed. */
export type BotTokenRefused = Exclude<BotTokenCheck, { ok: true }>;

/** A stored token: the check that let it in, and its metadata. */
export type StoredBotToken = Extract<BotTokenCheck, { ok: true }> & { meta: SecretMeta };

/** What asking the pool for a bot gave: one, or a place in the queue for the next one added. */
export type PoolTake = { status: "taken" | "own"; bot: BotIdentity } | { status: "waiting" };

export interface BotTokensDeps {
  store: Pick<Store, "secrets" | "projects" | "botPool">;
  secrets: SecretsService;
  telegram: TelegramBotApi;
  logger: Logger;
  /** Told when a project's bot token was filled (its blocked deploy can go on). */
  onFilled?: (projectId: string, actor: string) => Promise<void>;
}

/**
 * Telegram bot tokens on their way into the vault: each checked with Telegram before it is kept,
 * and the pool of pre-registered bots admins fill for people without a token of their own.
 */
export class BotTokens {
  constructor(private readonly deps: BotTokensDeps) {}

  /** Runs the checks for a token that `projectId` (null: the pool) would keep. Never stores. */
  async check(token: string, projectId: string | null): Promise<BotTokenCheck> {
    const value = token.trim();
    if (!isTelegramBotToken(value)) return { ok: false, code: "invalid_bot_token" };
    const me = await this.deps.telegram.getMe(value);
    if (!me.ok) {
      return me.reason === "rejected"
        ? { ok: false, code: "bot_token_rejected", description: me.description }
        : { ok: false, code: "bot_token_unchecked", description: me.description };
    }
    const bot = me.value;
    const webhook = await this.deps.telegram.webhookOf(value);
    if (!webhook.ok) return { ok: false, code: "bot_token_unchecked", description: webhook.description };
    const by = await this.usedBy(bot, projectId);
    if (by) return { ok: false, code: "bot_in_use", bot, by };
    return { ok: true, bot, webhook: webhook.value };
  }

  /**
   * Checks a token and keeps it as the project's `TELEGRAM_BOT_TOKEN`. A project that waited for a
   * pool bot waits no more, and one it held goes back: the person brought their own.
   */
  async store(projectId: string, token: string, actor: string): Promise<BotTokenRefused | StoredBotToken> {
    const checked = await this.check(token, projectId);
    if (!checked.ok) return checked;
    const meta = await this.deps.secrets.set({
      projectId,
      key: TELEGRAM_BOT_TOKEN_KEY,
      value: token.trim(),
      kind: "user",
      createdBy: actor,
      bot: checked.bot,
    });
    await this.deps.store.botPool.stopWaiting(projectId);
    const pooled = await this.deps.store.botPool.heldBy(projectId);
    if (pooled && pooled.bot.botId !== checked.bot.id && (await this.release(projectId, actor, false))) {
      await this.serveWaiting(actor);
    }
    await this.deps.onFilled?.(projectId, actor);
    return { ...checked, meta };
  }

  /**
   * Fills a secret a person gives for their project: a bot token through `store` (checked), any
   * other value kept as it is; either way a deploy waiting on it is told (`onFilled`).
   */
  async fill(
    projectId: string,
    key: string,
    value: string,
    actor: string,
  ): Promise<BotTokenRefused | StoredBotToken | { ok: true; meta: SecretMeta; bot?: undefined }> {
    if (key === TELEGRAM_BOT_TOKEN_KEY) return this.store(projectId, value, actor);
    const meta = await this.deps.secrets.set({ projectId, key, value, kind: "user", createdBy: actor });
    await this.deps.onFilled?.(projectId, actor);
    return { ok: true, meta };
  }

  /** Tells whoever waits that the project's secrets changed (values stored another way, e.g. adopted). */
  async filled(projectId: string, actor: string): Promise<void> {
    await this.deps.onFilled?.(projectId, actor);
  }

  /**
   * Removes the webhook of a bot, so long polling gets its updates: the project's bot, or the one a
   * conversation holds for a project not made yet.
   */
  async removeWebhook(
    owner: { projectId: string } | { conversationId: string },
  ): Promise<{ ok: boolean; description: string | null }> {
    const token =
      "projectId" in owner
        ? await this.deps.secrets.get(owner.projectId, TELEGRAM_BOT_TOKEN_KEY)
        : await this.deps.secrets.heldValue(owner.conversationId, TELEGRAM_BOT_TOKEN_KEY);
    if (!token) return { ok: false, description: "no bot token is kept for it" };
    const removed = await this.deps.telegram.deleteWebhook(token);
    return removed.ok ? { ok: true, description: null } : { ok: false, description: removed.description };
  }

  /**
   * Adds an admin's bot to the pool after the same checks (a webhook on it is removed: a pool bot is
   * the orchestrator's), then serves the projects waiting for one, longest waiting first.
   */
  async addToPool(token: string, actor: string): Promise<BotTokenRefused | { ok: true; bot: PoolBot }> {
    const checked = await this.check(token, null);
    if (!checked.ok) return checked;
    const value = token.trim();
    if (checked.webhook !== null) await this.deps.telegram.deleteWebhook(value);
    const bot = await this.deps.store.botPool.add({
      botId: checked.bot.id,
      botUsername: checked.bot.username,
      ciphertext: this.deps.secrets.seal(value, `pool bot @${checked.bot.username}`),
      length: value.length,
      addedBy: actor,
    });
    await this.serveWaiting(actor);
    return { ok: true, bot };
  }

  listPool(): Promise<PoolBot[]> {
    return this.deps.store.botPool.list();
  }

  removeFromPool(id: string, actor: string): Promise<PoolBot> {
    return this.deps.store.botPool.remove(id, actor);
  }

  /**
   * Gives the project a pool bot (the one it holds already, if any) and keeps its token as the
   * project's; with the pool empty, the project waits for the next bot an admin adds. A project
   * with a checked token of its own keeps it (`own`).
   */
  async take(projectId: string, actor: string): Promise<PoolTake> {
    await this.deps.store.projects.get(projectId);
    const own = (await this.deps.secrets.listMeta(projectId)).find((m) => m.key === TELEGRAM_BOT_TOKEN_KEY);
    const pooled = await this.deps.store.botPool.heldBy(projectId);
    if (own?.bot && own.bot.id !== pooled?.bot.botId) return { status: "own", bot: own.bot };
    const taken = await this.deps.store.botPool.take(projectId, actor);
    if (!taken) {
      await this.deps.store.botPool.wait(projectId);
      return { status: "waiting" };
    }
    const bot = { id: taken.bot.botId, username: taken.bot.botUsername };
    await this.deps.secrets.set({
      projectId,
      key: TELEGRAM_BOT_TOKEN_KEY,
      value: this.deps.secrets.open(taken.ciphertext, `pool bot @${bot.username}`),
      kind: "user",
      createdBy: `pool ${actor}`,
      bot,
    });
    await this.deps.onFilled?.(projectId, actor);
    return { status: "taken", bot };
  }

  /**
   * Gives the pool bot a project holds back (its teardown): the webhook removed, the token taken
   * from the project, the bot free for the next project, which a waiting one gets at once.
   */
  async giveBack(projectId: string, actor: string): Promise<PoolBot | null> {
    const given = await this.release(projectId, actor, true);
    await this.deps.store.botPool.stopWaiting(projectId);
    if (given) await this.serveWaiting(actor);
    return given;
  }

  private async release(projectId: string, actor: string, dropToken: boolean): Promise<PoolBot | null> {
    const held = await this.deps.store.botPool.heldBy(projectId);
    if (!held) return null;
    const token = this.deps.secrets.open(held.ciphertext, `pool bot @${held.bot.botUsername}`);
    const removed = await this.deps.telegram.deleteWebhook(token);
    if (!removed.ok) {
      this.deps.logger.warn(
        { projectId, bot: held.bot.botUsername, reason: removed.description },
        "could not remove a returned pool bot's webhook",
      );
    }
    if (dropToken) {
      const meta = (await this.deps.secrets.listMeta(projectId)).find(
        (m) => m.key === TELEGRAM_BOT_TOKEN_KEY,
      );
      if (meta?.bot?.id === held.bot.botId) await this.deps.secrets.remove(projectId, TELEGRAM_BOT_TOKEN_KEY);
    }
    return this.deps.store.botPool.giveBack(projectId, actor);
  }

  /** Hands free bots to waiting projects until either runs out. */
  private async serveWaiting(actor: string): Promise<void> {
    for (const projectId of await this.deps.store.botPool.waiting()) {
      const project = await this.deps.store.projects.get(projectId).catch(() => null);
      if (!project || INACTIVE.has(project.status)) {
        await this.deps.store.botPool.stopWaiting(projectId);
        continue;
      }
      const taken = await this.take(projectId, actor);
      if (taken.status === "waiting") return;
      this.deps.logger.info({ projectId, bot: taken.bot.username }, "a waiting project got a pool bot");
    }
  }

  /** Who else runs this bot: an active project other than `projectId`, or the pool (free or held elsewhere). */
  private async usedBy(bot: BotIdentity, projectId: string | null): Promise<"project" | "pool" | null> {
    for (const holder of await this.deps.store.secrets.projectsWithBot(bot.id)) {
      if (holder.projectId === projectId) continue;
      const project = await this.deps.store.projects.get(holder.projectId).catch(() => null);
      if (project && !INACTIVE.has(project.status)) return "project";
    }
    const pooled = (await this.deps.store.botPool.list()).find((p) => p.botId === bot.id);
    if (pooled && (projectId === null || pooled.projectId !== projectId)) return "pool";
    return null;
  }
}

/** A failed check as an error naming the field and the reason in plain words (the API's and tools' answer). */
export function botTokenRefusal(check: BotTokenRefused, field = "value"): AppError {
  switch (check.code) {
    case "invalid_bot_token":
      return new AppError("invalid", "invalid_bot_token", "the value is not a Telegram bot token", {
        details: [
          {
            path: field,
            message: "expected <bot id digits>:<35 letters, digits, _ or ->, as @BotFather gives it",
          },
        ],
      });
    case "bot_token_rejected":
      return new AppError("invalid", "bot_token_rejected", "Telegram does not accept this token", {
        details: [
          { path: field, message: `getMe answered: ${check.description}; the token may have been revoked` },
        ],
      });
    case "bot_token_unchecked":
      return new AppError(
        "unavailable",
        "bot_token_unchecked",
        "Telegram could not be asked about this token",
        {
          details: [{ path: field, message: `${check.description}; try again` }],
        },
      );
    case "bot_in_use":
      return new AppError(
        "conflict",
        "bot_in_use",
        `@${check.bot.username} already runs for ${check.by === "pool" ? "the bot pool" : "another active project"}`,
        {
          details: [{ path: field, message: "one bot serves one project at a time" }],
        },
      );
  }
}
