/** Tables of the vault beyond project secrets: the bot token pool and the key check. */
import { integer, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { projects } from "./schema.js";
import { id, optionalStamp, stamp } from "./schema-columns.js";

/**
 * Pre-registered Telegram bots admins add for people who have no token of their own. A row with
 * `project_id` null is free; taking one sets it in the same statement that finds it.
 */
export const botPool = pgTable(
  "bot_pool",
  {
    id: id(),
    botId: text("bot_id").notNull(),
    botUsername: text("bot_username").notNull(),
    ciphertext: text("ciphertext").notNull(),
    length: integer("length").notNull(),
    projectId: uuid("project_id").references(() => projects.id, { onDelete: "set null" }),
    addedBy: text("added_by"),
    createdAt: stamp("created_at"),
    updatedAt: stamp("updated_at"),
    takenAt: optionalStamp("taken_at"),
  },
  (t) => [
    uniqueIndex("bot_pool_bot_unique").on(t.botId),
    uniqueIndex("bot_pool_project_unique").on(t.projectId),
  ],
);

/** Projects that asked for a pool bot while the pool was empty, served oldest first when one is added. */
export const botPoolWaits = pgTable("bot_pool_waits", {
  projectId: uuid("project_id")
    .primaryKey()
    .references(() => projects.id, { onDelete: "cascade" }),
  since: stamp("since"),
});

/**
 * One row: a known text sealed with the vault key the stored secrets are sealed with, so a process
 * started with another key is refused before it reads garbage or seals with the wrong key.
 */
export const vaultCheck = pgTable("vault_check", {
  id: integer("id").primaryKey(),
  keyId: text("key_id").notNull(),
  ciphertext: text("ciphertext").notNull(),
  /** The key a rotation in progress seals with (its id), null when none is under way. */
  rotatingTo: text("rotating_to"),
  updatedAt: stamp("updated_at"),
});
