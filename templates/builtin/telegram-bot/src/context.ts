import type { Context, SessionFlavor } from "grammy";

/**
 * What the bot remembers per chat between messages (kept in `sessions.json` on DATA_DIR). Add a
 * field for your feature here; keep it optional and JSON-serializable.
 */
export interface SessionData {
  /** The profile dialog in progress (src/features/profile.ts), if any. */
  profile?: { step: "name" } | { step: "city"; name: string };
  /** What the person told the profile dialog. */
  name?: string;
  city?: string;
}

/** The context every handler gets: grammY's plus `ctx.session`. */
export type BotContext = Context & SessionFlavor<SessionData>;
