import { z } from "zod";
import { Duration, type EnvVarSpec } from "./values.js";

/** Settings of the chat: the Telegram bot and the Product Owner's model. */
export const CHAT_VARS = {
  TELEGRAM_BOT_TOKEN: {
    schema: z.string().regex(/^\d+:[A-Za-z0-9_-]{20,}$/, "a token like 123456:ABC... from BotFather"),
    doc: "The orchestrator's own Telegram bot (from BotFather); the Telegram chat is on when it is set",
  },
  TELEGRAM_WEBHOOK_URL: {
    schema: z.url({ protocol: /^https?$/ }),
    doc: "Public HTTPS URL that reaches this API's /telegram/webhook: Telegram pushes updates there instead of long polling (http only with a local Bot API server, TELEGRAM_API_ROOT)",
  },
  TELEGRAM_WEBHOOK_SECRET: {
    schema: z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, "16 to 256 of A-Z a-z 0-9 _ -"),
    doc: "Secret Telegram sends with each webhook update (default: derived from the bot token)",
  },
  TELEGRAM_ADMIN_USER_IDS: {
    schema: z
      .string()
      .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, "comma-separated Telegram user ids")
      .transform((s) => s.split(",").map((id) => id.trim())),
    doc: "Telegram user ids of the admins: they talk to the PO at once and approve everyone else",
  },
  PO_PROVIDER: {
    schema: z.enum(["anthropic", "openai", "scripted"]),
    doc: "Model of the Product Owner: `anthropic`, `openai` (any OpenAI-compatible server) or `scripted` (default: the first with a key, else scripted)",
  },
  PO_TURN_TIMEOUT: {
    schema: Duration,
    doc: "Longest one model call of the Product Owner may take",
    default: "90s",
  },
} as const satisfies Record<string, EnvVarSpec>;

/** The `chat` section of the typed settings. */
export const ChatSettings = z.object({
  telegram: z
    .object({
      /** A secret: never logged, masked by the redactor. */
      token: z.string(),
      webhookUrl: z.string().nullable(),
      webhookSecret: z.string().nullable(),
      admins: z.array(z.string()),
    })
    .nullable(),
  poProvider: z.enum(["anthropic", "openai", "scripted"]).nullable(),
  poTurnTimeoutMs: z.number().int(),
});
export type ChatSettings = z.infer<typeof ChatSettings>;
