import { z } from "zod";
import { ConfigAuthor } from "./agent-configs.js";
import { Timestamp } from "./ids.js";

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** A lifetime an admin may set at run time: a whole number of milliseconds, a minute to 30 days. */
const LifetimeMs = z
  .number()
  .int()
  .min(MINUTE_MS, "at least 1 minute (60000 ms)")
  .max(30 * DAY_MS, "at most 30 days");

/**
 * Settings an admin changes at run time (Settings page) instead of through the environment. The
 * environment's value (`WORKER_PAUSED_TTL`, `WORKER_HARD_TTL`, `SESSION_MAX_AGE`, `WEB_SESSION_TTL`)
 * is the default; a stored value wins. New workers and new sign-ins read them when they start.
 */
export const RuntimeSettings = z.object({
  /** A worker paused this long is terminated and its sandbox removed. */
  workerPausedTtlMs: LifetimeMs,
  /** The longest life of a worker, fixed when it is created. */
  workerHardTtlMs: LifetimeMs,
  /** An agent session idle longer than this starts fresh. */
  agentSessionMaxAgeMs: LifetimeMs,
  /** How long a sign-in to the web app lasts. */
  webSessionTtlMs: LifetimeMs,
});
export type RuntimeSettings = z.infer<typeof RuntimeSettings>;
export const RuntimeSettingKey = RuntimeSettings.keyof();
export type RuntimeSettingKey = z.infer<typeof RuntimeSettingKey>;

/** A change: a value sets the setting, `null` returns it to the environment's default. */
export const RuntimeSettingsUpdate = z
  .object(
    Object.fromEntries(RuntimeSettingKey.options.map((k) => [k, LifetimeMs.nullable().optional()])) as {
      [K in RuntimeSettingKey]: z.ZodOptional<z.ZodNullable<typeof LifetimeMs>>;
    },
  )
  .strict();
export type RuntimeSettingsUpdate = z.infer<typeof RuntimeSettingsUpdate>;

/** A value an admin stored, with who stored it and when. */
export const StoredSetting = z.object({
  key: RuntimeSettingKey,
  value: z.number().int(),
  updatedBy: ConfigAuthor,
  updatedAt: Timestamp,
});
export type StoredSetting = z.infer<typeof StoredSetting>;

/** One setting as the Settings page shows it: the value in force, the default, and who changed it. */
export const RuntimeSettingView = z.object({
  key: RuntimeSettingKey,
  value: z.number().int(),
  defaultValue: z.number().int(),
  isDefault: z.boolean(),
  updatedBy: ConfigAuthor.nullable(),
  updatedAt: Timestamp.nullable(),
});
export type RuntimeSettingView = z.infer<typeof RuntimeSettingView>;
export const RuntimeSettingsView = z.object({ items: z.array(RuntimeSettingView) });
export type RuntimeSettingsView = z.infer<typeof RuntimeSettingsView>;

/** The values in force: each stored value, else the default. */
export function effectiveSettings(
  defaults: RuntimeSettings,
  stored: readonly StoredSetting[],
): RuntimeSettings {
  const values = { ...defaults };
  for (const s of stored) values[s.key] = s.value;
  return values;
}

/** The Settings page's view of `stored` over `defaults`, in `RuntimeSettings` order. */
export function settingsView(
  defaults: RuntimeSettings,
  stored: readonly StoredSetting[],
): RuntimeSettingsView {
  const byKey = new Map(stored.map((s) => [s.key, s]));
  return {
    items: RuntimeSettingKey.options.map((key) => {
      const s = byKey.get(key);
      return {
        key,
        value: s?.value ?? defaults[key],
        defaultValue: defaults[key],
        isDefault: !s,
        updatedBy: s?.updatedBy ?? null,
        updatedAt: s?.updatedAt ?? null,
      };
    }),
  };
}
