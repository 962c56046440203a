import type { User } from "../contracts/index.js";
import type { Store } from "../store/index.js";
import type { ChatSender } from "./channel.js";

/** Who may talk to the PO through Telegram: ids in `TELEGRAM_ADMIN_USER_IDS`, and whom they approved. */
export interface TelegramAccess {
  admins: readonly string[];
}

/**
 * The user behind a Telegram sender, made on first contact: an admin when listed (and allowed),
 * otherwise not allowed until an admin approves. Someone listed later becomes an admin then.
 */
export async function telegramUser(store: Store, access: TelegramAccess, sender: ChatSender): Promise<User> {
  const isAdmin = access.admins.includes(sender.externalId);
  const existing = await store.users.findByTelegramId(sender.externalId);
  if (existing) {
    if (isAdmin && (existing.role !== "admin" || !existing.isAllowed)) {
      return store.users.update(existing.id, { role: "admin", isAllowed: true });
    }
    return existing;
  }
  try {
    return await store.users.create({
      telegramId: sender.externalId,
      name: sender.name.slice(0, 200) || sender.externalId,
      role: isAdmin ? "admin" : "user",
      isAllowed: isAdmin,
    });
  } catch (error) {
    // Two first messages at once: the other one made the user.
    const made = await store.users.findByTelegramId(sender.externalId);
    if (made) return made;
    throw error;
  }
}

/** The user a web chat token stands for: its own user, or for an admin token the `admin` web user. */
export async function webUser(store: Store, principal: { kind: string; userId?: string }): Promise<User> {
  if (principal.kind === "user" && principal.userId) return store.users.get(principal.userId);
  const existing = await store.users.findByWebLogin("admin");
  if (existing) return existing;
  try {
    return await store.users.create({ webLogin: "admin", name: "Admin", role: "admin", isAllowed: true });
  } catch (error) {
    const made = await store.users.findByWebLogin("admin");
    if (made) return made;
    throw error;
  }
}

/** Button data of an access decision: `access:approve:<userId>` or `access:deny:<userId>`. */
export function accessButtonData(decision: "approve" | "deny", userId: string): string {
  return `access:${decision}:${userId}`;
}

export function parseAccessButton(data: string): { decision: "approve" | "deny"; userId: string } | null {
  const match = /^access:(approve|deny):([0-9a-f-]{36})$/.exec(data);
  return match ? { decision: match[1] as "approve" | "deny", userId: match[2] as string } : null;
}
