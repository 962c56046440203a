import type { DeployDriver } from "../../deploy/index.js";
import type { RunJournal } from "../../events/index.js";
import type { Forge } from "../../git/index.js";
import type { Logger } from "../../observability/index.js";
import type { BotTokens, SecretsService } from "../../secrets/index.js";
import type { Store } from "../../store/index.js";

/** What the devops stages work with. */
export interface DevopsDeps {
  store: Store;
  forge: Forge;
  driver: DeployDriver;
  secrets: SecretsService;
  /** The bot pool: a torn-down project's pool bot goes back to it. */
  bots?: BotTokens;
  journal: RunJournal;
  logger: Logger;
  /** Ports given to services (`allocated-port` variables). */
  portRange: readonly [number, number];
  /** `APP_ENV` of deployed releases. */
  appEnv: string;
  /** `TELEGRAM_API_ROOT` given to bots (unset: Telegram's own); also where the gate calls `getMe`. */
  telegramApiRoot: string | null;
  /** Health gate timing: poll every `intervalMs` up to `deadlineMs`. */
  gate: { intervalMs: number; deadlineMs: number };
  /** Optional proof that a bot answers: sends a probe `/start` and waits for the reply. */
  botProbe?: BotProbe;
}

/** A way to send a bot a message as a person would, and see its answer (not possible with the Bot API alone). */
export interface BotProbe {
  probe(token: string, username: string): Promise<{ ok: boolean; reason: string | null }>;
}
