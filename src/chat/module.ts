import { createHash } from "node:crypto";
import type { Bus } from "../bus/index.js";
import type { ChatSettings, Config } from "../config/index.js";
import type { ModelProviderKind } from "../contracts/index.js";
import { MeteredProvider, type ModelProvider, selectModelProvider } from "../llm/index.js";
import { componentLogger, type Logger, type Metrics } from "../observability/index.js";
import { ProductOwner, scriptedProductOwner } from "../po/index.js";
import type { Store } from "../store/index.js";
import type { ToolRegistry, ToolServices } from "../tools/index.js";
import type { ChatChannel } from "./channel.js";
import { commandMenu } from "./commands.js";
import { ChatFeed } from "./feed.js";
import { createTranslator, type Translator } from "./i18n/index.js";
import { chatNotifierSubscriber } from "./notifier.js";
import { Outbox } from "./outbox.js";
import { ChatService } from "./service.js";
import { statusText } from "./status.js";
import { TelegramChannel } from "./telegram/channel.js";
import { personPrincipal } from "./turn.js";
import { WebChannel, WebChat } from "./web.js";

export interface ChatModuleDeps {
  config: Pick<Config, "llm" | "chat"> & { telegramApiRoot: string | null };
  store: Store;
  bus: Bus;
  tools: ToolRegistry;
  services: ToolServices;
  metrics: Metrics;
  logger: Logger;
  /** This process (the holder of the conversations it works on). */
  holder: string;
  /** `up --demo`: the PO is the scripted one. */
  demo: boolean;
  /** A provider to use instead of the configured one (tests, benchmarks). */
  provider?: ModelProvider;
  /** Addresses of this orchestrator the PO may give (the web chat's). */
  publicUrls?: string[];
  /** How often the store is read for messages to deliver and queues to resume (default 500 ms). */
  pollMs?: number;
}

/** The PO's model: the scripted one in the demo or by setting, else the first provider with a key. */
export function poProvider(
  deps: Pick<ChatModuleDeps, "config" | "demo">,
  settings: ChatSettings,
): ModelProvider {
  const kind: ModelProviderKind | undefined = deps.demo ? "scripted" : (settings.poProvider ?? undefined);
  return selectModelProvider(
    {
      credentials: deps.config.llm.credentials,
      anthropicBaseUrl: deps.config.llm.anthropicBaseUrl,
      openaiBaseUrl: deps.config.llm.openaiBaseUrl,
      ...(kind ? { kind } : {}),
      deadlineMs: settings.poTurnTimeoutMs,
    },
    scriptedProductOwner,
  );
}

/**
 * The chat of one process: the conversation service with its channels (the web chat always,
 * Telegram when its token is set), an outbox per channel, and the subscriber that turns run
 * events into progress and outcome messages.
 */
export class ChatModule {
  readonly feed = new ChatFeed();
  readonly t: Translator = createTranslator();
  readonly service: ChatService;
  readonly web: WebChat;
  readonly telegram: TelegramChannel | null;
  readonly po: ProductOwner;
  private readonly outboxes: Outbox[] = [];
  private readonly notifier;
  private resumeTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: ChatModuleDeps) {
    const logger = componentLogger(deps.logger, "chat");
    const { store, tools, services } = deps;
    const inner = deps.provider ?? poProvider(deps, deps.config.chat);
    const provider = new MeteredProvider(inner, { store, metrics: deps.metrics, logger }, () => ({
      projectId: null,
      runId: null,
    }));
    this.po = new ProductOwner({
      provider,
      registry: tools,
      services,
      logger: componentLogger(deps.logger, "po"),
    });
    const settings = deps.config.chat.telegram;
    const admins = settings?.admins ?? [];
    this.service = new ChatService({
      store,
      tools,
      services,
      po: this.po,
      t: this.t,
      logger,
      feed: this.feed,
      holder: deps.holder,
      telegram: { admins },
      leaseMs: 10 * 60_000,
      publicUrls: deps.publicUrls ?? [],
      historyLimit: 40,
      summaryTokens: 2_500,
      keepRecent: 8,
      status: (conversation, user) =>
        statusText(
          { tools, services, t: this.t },
          personPrincipal(conversation, user.id),
          conversation.language,
        ),
    });
    this.web = new WebChat({
      store,
      inbox: this.service,
      feed: this.feed,
      model: inner.kind,
      demo: deps.demo,
    });
    this.telegram = settings
      ? new TelegramChannel({
          token: settings.token,
          apiRoot: deps.config.telegramApiRoot,
          webhookUrl: settings.webhookUrl,
          webhookSecret: settings.webhookSecret ?? webhookSecretOf(settings.token),
          commands: { default: commandMenu(this.t, "en"), ru: commandMenu(this.t, "ru") },
          logger: componentLogger(deps.logger, "telegram"),
        })
      : null;
    const channels: ChatChannel[] = [new WebChannel(), ...(this.telegram ? [this.telegram] : [])];
    for (const channel of channels) {
      this.service.attach(channel);
      this.outboxes.push(
        new Outbox({
          store,
          channel,
          feed: this.feed,
          logger,
          ...(deps.pollMs ? { pollMs: deps.pollMs } : {}),
        }),
      );
    }
    this.notifier = chatNotifierSubscriber({ store, bus: deps.bus, feed: this.feed, t: this.t, logger });
    if (inner.kind === "scripted")
      logger.warn("the Product Owner is scripted (no model); its words are labelled so");
    else logger.info({ provider: inner.kind, model: inner.defaultModel }, "Product Owner model");
  }

  /** The model behind the PO. */
  get modelKind(): ModelProviderKind {
    return this.po.provider.kind;
  }

  async start(): Promise<void> {
    await this.notifier.start();
    for (const outbox of this.outboxes) outbox.start();
    if (this.telegram) await this.telegram.start(this.service);
    await this.service.resume();
    // Queues another process left (it died mid-turn) are taken over once its lease ends.
    const resume = () => {
      this.resumeTimer = setTimeout(() => {
        this.service
          .resume()
          .catch((error) => this.deps.logger.warn({ err: error }, "could not resume conversations"))
          .finally(resume);
      }, 5_000);
      this.resumeTimer.unref();
    };
    resume();
  }

  /** Delivers everything pending now (tests and benchmarks wait on it). */
  async drained(): Promise<void> {
    await this.service.settled();
    await Promise.all(this.outboxes.map((o) => o.drained()));
  }

  async stop(deadlineMs = 5_000): Promise<void> {
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    await this.telegram?.stop();
    await this.service.stop();
    await Promise.all(this.outboxes.map((o) => o.stop()));
    await this.notifier.stop(deadlineMs);
  }
}

/** A webhook secret nobody needs to configure: stable per bot, not guessable without the token. */
function webhookSecretOf(token: string): string {
  return createHash("sha256").update(`telegram-webhook:${token}`).digest("hex").slice(0, 48);
}
