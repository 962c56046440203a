import { z } from "zod";
import { Duration, type EnvVarSpec } from "./values.js";

/** Settings of the secrets vault and the deploy: health gate, ports, driver, servers. */
export const DEPLOY_VARS = {
  ORCHESTRATOR_SECRET_KEY: {
    schema: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, "32 bytes in base64 (openssl rand -base64 32)"),
    doc: "Key of the secrets vault (default: a key file made once in the data directory)",
  },
  SECRETS_REFRESH_INTERVAL: {
    schema: Duration.refine((ms) => ms >= 1_000 && ms <= 10 * 60_000, "from 1s to 10m"),
    doc: "How often each process learns the secret values other processes stored, to mask them in records and answers",
    default: "30s",
  },
  DEPLOY_HEALTH_DEADLINE: {
    schema: Duration,
    doc: "How long a new release has to pass its health gate (polled every second)",
    default: "30s",
  },
  TELEGRAM_API_ROOT: {
    schema: z.url({ protocol: /^https?$/ }),
    doc: "Bot API root given to deployed bots and used by their health gate (default: Telegram's)",
  },
  DEPLOY_PORT_RANGE: {
    schema: z
      .string()
      .regex(/^\d{4,5}-\d{4,5}$/, "two ports like 20000-29999")
      .transform((s) => s.split("-").map(Number) as [number, number])
      .refine(([min, max]) => min >= 1024 && max <= 65_535 && min <= max, "from 1024 to 65535, low-high"),
    // Below Linux's ephemeral range (32768-60999), so outgoing connections never hold one of ours.
    doc: "Ports given to deployed services (on this machine or each server)",
    default: "20000-29999",
  },
  DEPLOY_DRIVER: {
    schema: z.enum(["local", "ssh-compose"]),
    doc: "How projects are deployed: `local` (processes on this machine) or `ssh-compose` (Docker Compose on registered servers over SSH)",
    default: "local",
  },
  DEPLOY_BASE_IMAGE: {
    schema: z.string().min(1),
    doc: "Base image of every release's Dockerfile (ssh-compose)",
    default: "node:22-bookworm-slim",
  },
  DEPLOY_REMOTE_ROOT: {
    schema: z.string().regex(/^\/[A-Za-z0-9._/-]*$/, "an absolute path"),
    doc: "Folder on each server that holds the projects' releases (ssh-compose)",
    default: "/srv/orchestrator",
  },
  DEPLOY_BUILD_NETWORK: {
    schema: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "a Docker network name, e.g. host"),
    doc: "Docker network the release builds' RUN steps use on servers (ssh-compose; default: the engine's)",
  },
  SERVER_CHECK_INTERVAL: {
    schema: Duration,
    doc: "How often the engine re-checks registered servers over SSH (a failing one goes to `error`)",
    default: "5m",
  },
} as const satisfies Record<string, EnvVarSpec>;

/** The `secrets` section of the typed settings: redaction of secret values in everything stored or served. */
export const SecretsSettings = z.object({ refreshIntervalMs: z.number().int() });

/** The `deploy` section of the typed settings (the vault key included). */
export const DeploySettings = z.object({
  secretKey: z.string().nullable(),
  healthDeadlineMs: z.number().int(),
  telegramApiRoot: z.string().nullable(),
  portRange: z.tuple([z.number().int(), z.number().int()]),
  driver: z.enum(["local", "ssh-compose"]),
  baseImage: z.string(),
  remoteRoot: z.string(),
  buildNetwork: z.string().nullable(),
  serverCheckIntervalMs: z.number().int(),
});
