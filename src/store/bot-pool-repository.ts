import type { PoolBot } from "../contracts/index.js";

/** A pool bot with its sealed token, as only the secrets service sees it. */
export interface SealedPoolBot {
  bot: PoolBot;
  ciphertext: string;
}

/**
 * The bot token pool: pre-registered bots admins add, each held by at most one project, and the
 * projects waiting for one while the pool is empty. Every change leaves an audit row.
 */
export interface BotPoolRepository {
  /** Adds a checked bot; one already in the pool is a `conflict` naming it. */
  add(input: {
    botId: string;
    botUsername: string;
    ciphertext: string;
    length: number;
    addedBy: string | null;
  }): Promise<PoolBot>;
  /** Every pool bot, free ones first, oldest first. */
  list(): Promise<PoolBot[]>;
  /**
   * Gives `projectId` a free bot in one statement (two callers never get the same one), or the one
   * it already holds; null when none is free.
   */
  take(projectId: string, actor: string | null): Promise<SealedPoolBot | null>;
  /** The bot a project holds, if any. */
  heldBy(projectId: string): Promise<SealedPoolBot | null>;
  /** Frees the bot a project holds; answers it, or null when it held none. */
  giveBack(projectId: string, actor: string | null): Promise<PoolBot | null>;
  /** Removes a free bot from the pool; a held one is a `conflict`, an unknown one `not_found`. */
  remove(id: string, actor: string | null): Promise<PoolBot>;
  /** Records that a project waits for a bot (again: no change). */
  wait(projectId: string): Promise<void>;
  /** Projects waiting for a bot, the longest waiting first. */
  waiting(): Promise<string[]>;
  stopWaiting(projectId: string): Promise<void>;
  /** Sealed tokens changed at or after `changedSince` (all when absent), for the redactor. */
  listCiphertexts(opts: {
    changedSince?: string;
  }): Promise<{ ciphertext: string; updatedAt: string; label: string }[]>;
}
