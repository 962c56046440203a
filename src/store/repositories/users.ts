import { eq, sql } from "drizzle-orm";
import { type PageQuery, parseOrThrow, User, UserCreate, UserUpdate } from "../../contracts/index.js";
import { users } from "../schema.js";
import type { UserRepository } from "../store.js";
import { type Db, firstOrNotFound, guard, iso, listPage, requireId, toContract } from "./common.js";

type Row = typeof users.$inferSelect;

function toUser(row: Row): User {
  return toContract(
    User,
    {
      id: row.id,
      telegramId: row.telegramId,
      webLogin: row.webLogin,
      name: row.name,
      role: row.role,
      isAllowed: row.isAllowed,
      createdAt: iso(row.createdAt),
      updatedAt: iso(row.updatedAt),
    },
    "user",
  );
}

/** Users on any Postgres driver. */
export function createUserRepository(db: Db): UserRepository {
  return {
    async create(input) {
      const data = parseOrThrow(UserCreate, input, "user");
      const [row] = await guard(() => db.insert(users).values(data).returning());
      return toUser(row as Row);
    },
    async get(id) {
      requireId("user", id);
      return toUser(await firstOrNotFound(db.select().from(users).where(eq(users.id, id)), "user", id));
    },
    async findByTelegramId(telegramId) {
      const [row] = await guard(() => db.select().from(users).where(eq(users.telegramId, telegramId)));
      return row ? toUser(row) : null;
    },
    async findByWebLogin(webLogin) {
      const [row] = await guard(() => db.select().from(users).where(eq(users.webLogin, webLogin)));
      return row ? toUser(row) : null;
    },
    async list(page: PageQuery) {
      return listPage(db, users, undefined, page, toUser);
    },
    async update(id, patch) {
      requireId("user", id);
      const data = parseOrThrow(UserUpdate, patch, "user update");
      return toUser(
        await firstOrNotFound(
          db
            .update(users)
            .set({ ...data, updatedAt: sql`clock_timestamp()` })
            .where(eq(users.id, id))
            .returning(),
          "user",
          id,
        ),
      );
    },
  };
}
