import { eq, inArray, sql } from "drizzle-orm";
import {
  ConfigAuthor,
  parseOrThrow,
  RuntimeSettingKey,
  RuntimeSettingsUpdate,
  StoredSetting,
} from "../../contracts/index.js";
import { settings } from "../schema.js";
import type { SettingsRepository } from "../store.js";
import { type Db, guard, iso, toContract } from "./common.js";

type Row = typeof settings.$inferSelect;

function toSetting(row: Row): StoredSetting {
  return toContract(StoredSetting, { ...row, updatedAt: iso(row.updatedAt) }, "setting");
}

/** Run-time settings on any Postgres driver; keys outside `RuntimeSettingKey` are left alone. */
export function createSettingsRepository(db: Db): SettingsRepository {
  const known = RuntimeSettingKey.options;
  return {
    async list() {
      const rows = await guard(() => db.select().from(settings).where(inArray(settings.key, known)));
      return rows.map(toSetting);
    },
    async get(key) {
      const name = parseOrThrow(RuntimeSettingKey, key, "setting");
      const [row] = await guard(() => db.select().from(settings).where(eq(settings.key, name)));
      return row ? toSetting(row).value : null;
    },
    async update(patch, actor) {
      const data = parseOrThrow(RuntimeSettingsUpdate, patch, "settings update");
      const by = parseOrThrow(ConfigAuthor, actor, "author");
      await guard(() =>
        db.transaction(async (tx) => {
          for (const key of known) {
            const value = data[key];
            if (value === undefined) continue;
            if (value === null) {
              await tx.delete(settings).where(eq(settings.key, key));
              continue;
            }
            await tx
              .insert(settings)
              .values({ key, value, updatedBy: by })
              .onConflictDoUpdate({
                target: settings.key,
                set: { value, updatedBy: by, updatedAt: sql`clock_timestamp()` },
              });
          }
        }),
      );
      return this.list();
    },
  };
}
