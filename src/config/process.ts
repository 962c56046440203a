import { z } from "zod";
import { Duration, type EnvVarSpec, LogLevel, Port } from "./values.js";

/** Settings of the process itself: data directory, listening address, database, bus, log level, heartbeat. */
export const PROCESS_VARS = {
  ORCHESTRATOR_DATA_DIR: {
    schema: z.string().min(1),
    doc: "Data directory (embedded database, admin token file)",
    embedded: "./.orchestrator",
  },
  ORCHESTRATOR_HOST: {
    schema: z.string().min(1),
    doc: "Address the API listens on",
    embedded: "127.0.0.1",
    server: "0.0.0.0",
  },
  ORCHESTRATOR_PORT: {
    schema: Port,
    doc: "Port this process listens on: the API, admin UI, /health and /metrics; without the api role only /health and /metrics",
    embedded: "8080",
    server: "8080",
  },
  DATABASE_URL: {
    schema: z.url({ protocol: /^postgres(ql)?$/ }),
    doc: "PostgreSQL URL; required by `serve`, optional for `up`",
  },
  REDIS_URL: {
    schema: z.url({ protocol: /^rediss?$/ }),
    doc: "Redis URL for the bus; required by `serve`, optional for `up`",
  },
  LOG_LEVEL: { schema: LogLevel, doc: "pino log level", embedded: "info", server: "info" },
  BUS_MAX_DELIVERIES: {
    schema: z.coerce.number().int().min(1).max(100),
    doc: "Deliveries before a message goes to the dead-letter stream",
    embedded: "5",
    server: "5",
  },
  INSTANCE_TTL: {
    schema: Duration.refine((ms) => ms >= 1_000, "at least 1s"),
    doc: "A process whose heartbeat in the store is this old counts as stopped: calls to its workers fail at once and another engine adopts its local releases (renewed every third of it)",
    default: "15s",
  },
  WEB_SESSION_TTL: {
    schema: Duration.refine((ms) => ms >= 60_000, "at least 1m"),
    doc: "How long a sign-in to the web app (admin UI and chat) lasts before the person signs in again",
    default: "12h",
  },
  WEB_COOKIE_SECURE: {
    schema: z.enum(["auto", "always", "never"]),
    doc: "Whether the session cookie is marked Secure (sent over HTTPS only): `auto` when the request came over HTTPS, `always` behind a proxy that ends TLS",
    default: "auto",
  },
} as const satisfies Record<string, EnvVarSpec>;

/** Signing in to the web app: how long a session lasts and when its cookie is Secure. */
export const WebSettings = z.object({
  sessionTtlMs: z.number().int(),
  cookieSecure: z.enum(["auto", "always", "never"]),
});
export type WebSettings = z.infer<typeof WebSettings>;
