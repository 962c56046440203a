import type { Bus } from "../bus/index.js";
import { ChatModule } from "../chat/index.js";
import type { Config } from "../config/index.js";
import type { ServerService } from "../deploy/index.js";
import type { Logger, Metrics } from "../observability/index.js";
import type { BotTokens, SecretsService } from "../secrets/index.js";
import type { Store } from "../store/index.js";
import type { ToolRegistry } from "../tools/index.js";

/**
 * The chat of a process, built for its roles: with `chat`, it works on conversations (PO turns,
 * deliveries, run notifications, Telegram polling while it holds the `chat.telegram` lease); with
 * `api` alone, it only takes messages in (web chat routes, Telegram's webhook) and hands them over
 * through the store and the bus. Started with `start()` once the process listens.
 */
export function buildChatRole(deps: {
  config: Config;
  store: Store;
  bus: Bus;
  tools: ToolRegistry;
  logger: Logger;
  metrics: Metrics;
  /** This process's instance id: the holder of the conversations and leases it takes. */
  holder: string;
  demo: boolean;
  secrets: SecretsService;
  bots: BotTokens;
  servers: ServerService;
  /** Whether this process has the `chat` role (works on conversations) or only the `api` role. */
  isWorking: boolean;
  /**
   * Where a CLI Product Owner reaches this process's MCP endpoint: the API's URL, or in a chat
   * process without the API its own port (which serves that endpoint too).
   */
  poApiUrl: string;
}): ChatModule {
  const { config, store, bus, logger, secrets, bots, servers } = deps;
  return new ChatModule({
    config: { llm: config.llm, chat: config.chat, telegramApiRoot: config.deploy.telegramApiRoot },
    store,
    bus,
    tools: deps.tools,
    services: { store, bus, logger, secrets, bots, servers },
    metrics: deps.metrics,
    logger,
    holder: deps.holder,
    demo: deps.demo,
    secrets,
    bots,
    apiUrl: deps.poApiUrl,
    publicUrls: [config.workers.apiUrl],
    isWorking: deps.isWorking,
  });
}

/** This process's own address for a local client: its host (a wildcard means this machine) and port. */
export function localUrl(config: Pick<Config, "host" | "port">): string {
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${config.port}`;
}
