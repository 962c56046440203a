import { randomBytes } from "node:crypto";
import { InProcessBus } from "../../src/bus/index.js";
import { ChatModule, type ChatModuleDeps } from "../../src/chat/index.js";
import type { ModelProvider } from "../../src/llm/index.js";
import { createLogger, createMetrics, SecretRedactor } from "../../src/observability/index.js";
import { BotTokens, SecretsService, telegramBotApi, Vault } from "../../src/secrets/index.js";
import type { Store } from "../../src/store/index.js";
import { createToolRegistry } from "../../src/tools/index.js";

/**
 * A chat module of one API process in this test process, on `store`: the web chat always, Telegram
 * when `telegram` is given, the PO on `provider`. Not started.
 */
export function testChatModule(opts: {
  store: Store;
  provider: ModelProvider;
  holder?: string;
  telegram?: { token: string; apiRoot: string; admins: string[] };
  history?: ChatModuleDeps["history"];
  /** The Bot API bot tokens are checked with (default: Telegram's `apiRoot`, else nothing answers). */
  botApiRoot?: string;
}): ChatModule {
  const { store } = opts;
  const redactor = new SecretRedactor();
  const logger = createLogger({ level: "silent", redactor });
  const secrets = new SecretsService({ store, vault: new Vault(randomBytes(32)), redactor });
  return new ChatModule({
    config: {
      llm: { credentials: {}, anthropicBaseUrl: null, openaiBaseUrl: null, gatewayTimeoutMs: 1000 },
      chat: {
        telegram: opts.telegram
          ? {
              token: opts.telegram.token,
              webhookUrl: null,
              webhookSecret: null,
              admins: opts.telegram.admins,
            }
          : null,
        poProvider: null,
        poTurnTimeoutMs: 5000,
      },
      telegramApiRoot: opts.telegram?.apiRoot ?? null,
    },
    apiUrl: "http://127.0.0.1:1",
    store,
    bus: new InProcessBus(),
    tools: createToolRegistry(),
    services: { store, bus: new InProcessBus(), logger },
    metrics: createMetrics({ roles: ["api"] }),
    logger,
    holder: opts.holder ?? `test-${Math.random()}`,
    secrets,
    // Without a fake Bot API, a token cannot be checked: nothing listens on port 9.
    bots: new BotTokens({
      store,
      secrets,
      telegram: telegramBotApi(opts.botApiRoot ?? opts.telegram?.apiRoot ?? "http://127.0.0.1:9"),
      logger,
    }),
    demo: false,
    provider: opts.provider,
    pollMs: 50,
    ...(opts.history ? { history: opts.history } : {}),
  });
}
