import { z } from "zod";

/** pino's log levels, as `LOG_LEVEL` accepts them. */
export const LogLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
/** A TCP port given as text (0 lets the system choose). */
export const Port = z.coerce.number().int().min(0).max(65535);

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
/** `90s`, `30m`, `6h`, `500ms`; a bare number means seconds. Parsed to milliseconds. */
export const Duration = z
  .string()
  .regex(/^\d+(ms|s|m|h)?$/, "a duration like 90s, 30m or 6h")
  .transform((s) => {
    const [, amount, unit] = /^(\d+)(ms|s|m|h)?$/.exec(s) ?? [];
    return Number(amount) * DURATION_UNITS_MS[(unit as keyof typeof DURATION_UNITS_MS) ?? "s"];
  });

/**
 * How one environment variable is read: its schema, its line in the README's table, and the value
 * taken when it is unset (`embedded`/`server` per mode, else `default`).
 */
export type EnvVarSpec = {
  schema: z.ZodType;
  doc: string;
  embedded?: string;
  server?: string;
  default?: string;
};
