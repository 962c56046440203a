import { createHash } from "node:crypto";
import type { Bus, Subscription } from "../bus/index.js";
import type { ChatSettings, Config } from "../config/index.js";
import type { ModelProviderKind } from "../contracts/index.js";
import { MeteredProvider, type ModelProvider, ScriptedProvider, selectModelProvider } from "../llm/index.js";
import { componentLogger, type Logger, type Metrics, timedModelFetch } from "../observability/index.js";
import { CliProductOwner, PoTurns, ProductOwner, scriptedProductOwner } from "../po/index.js";
import type { BotTokens, SecretsService } from "../secrets/index.js";
import type { Store } from "../store/index.js";
import type { ToolRegistry, ToolServices } from "../tools/index.js";
import { ClaudeCodeBackend } from "../workers/index.js";
import type { ChatChannel } from "./channel.js";
import { commandMenu } from "./commands.js";
import { ChatFeed } from "./feed.js";
import { handOverVia, takeHandovers } from "./handover.js";
import { createTranslator, type Translator } from "./i18n/index.js";
import { chatNotifierSubscriber } from "./notifier.js";
import { Outbox } from "./outbox.js";
import { ChatService } from "./service.js";
import { statusText } from "./status.js";
import { TelegramChannel } from "./telegram/channel.js";
import { personPrincipal, poModelKind } from "./turn.js";
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
  /** Where secrets a person pastes into a chat are held, sealed. */
  secrets: SecretsService;
  /** Bot tokens a person gives, checked with Telegram before they are kept; the bot pool. */
  bots: BotTokens;
  /** The API as a CLI Product Owner reaches its tools (`WORKER_API_URL`). */
  apiUrl: string;
  /** Addresses of this orchestrator the PO may give (the web chat's). */
  publicUrls?: string[];
  /**
   * Whether this process works on conversations (the `chat` role: PO turns, deliveries, the
   * notifier, Telegram polling); without it (the `api` role alone) it only takes messages in, by
   * the web chat and Telegram's webhook, and hands them to the chat processes. Default true.
   */
  isWorking?: boolean;
  /** How often the store is read for messages to deliver and queues to resume (default 500 ms). */
  pollMs?: number;
  /** What the PO sees in full before older messages are summarised (defaults: 40, 2,500 tokens, 8). */
  history?: { limit: number; summaryTokens: number; keepRecent: number };
}

/**
 * The PO's model: the scripted one in the demo or by setting, else the first provider with a key.
 * Its calls are timed and counted in the model-provider metrics, like the gateway's.
 */
export function poProvider(
  deps: Pick<ChatModuleDeps, "config" | "demo" | "metrics">,
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
      // One provider per client, so every call a client makes is its provider's (any base URL).
      fetchFor: (provider) =>
        timedModelFetch(fetch, { metrics: deps.metrics, upstreams: { [provider]: { baseUrl: "" } } }),
    },
    scriptedProductOwner,
  );
}

/** What the Claude Code CLI needs to reach its model: the key and base URL, in its environment only. */
function cliModelEnv(llm: ChatModuleDeps["config"]["llm"]): Record<string, string> {
  const env: Record<string, string> = {};
  const key = llm.credentials.ANTHROPIC_API_KEY;
  if (key) env.ANTHROPIC_API_KEY = key;
  if (llm.anthropicBaseUrl) env.ANTHROPIC_BASE_URL = llm.anthropicBaseUrl;
  return env;
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
  readonly cliPo: CliProductOwner;
  /** The turns of a CLI Product Owner, reached over the API's MCP endpoint. */
  readonly poTurns = new PoTurns();
  private readonly outboxes: Outbox[] = [];
  private readonly telegramOutbox: Outbox | null = null;
  private readonly notifier;
  readonly scriptedPo: ProductOwner;
  /** The PO's models, their usage recorded as they answer. */
  private readonly metered: MeteredProvider[] = [];
  private resumeTimer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private leading = false;
  private stopped = false;
  private started = false;
  private handovers: Subscription | null = null;

  constructor(private readonly deps: ChatModuleDeps) {
    const logger = componentLogger(deps.logger, "chat");
    const { store, tools, services } = deps;
    const inner = deps.provider ?? poProvider(deps, deps.config.chat);
    const productOwner = (model: ModelProvider) => {
      const metered = new MeteredProvider(model, { store, metrics: deps.metrics, logger }, () => ({
        projectId: null,
        runId: null,
      }));
      this.metered.push(metered);
      return new ProductOwner({
        provider: metered,
        registry: tools,
        services,
        logger: componentLogger(deps.logger, "po"),
      });
    };
    this.po = productOwner(inner);
    this.scriptedPo =
      inner.kind === "scripted" ? this.po : productOwner(new ScriptedProvider(scriptedProductOwner));
    this.cliPo = new CliProductOwner({
      registry: tools,
      services,
      logger: componentLogger(deps.logger, "po"),
      store,
      metrics: deps.metrics,
      backend: new ClaudeCodeBackend(),
      turns: this.poTurns,
      apiUrl: deps.apiUrl,
      env: cliModelEnv(deps.config.llm),
      timeoutMs: deps.config.chat.poTurnTimeoutMs,
    });
    const settings = deps.config.chat.telegram;
    const admins = settings?.admins ?? [];
    this.service = new ChatService({
      store,
      tools,
      services,
      po: this.po,
      scriptedPo: this.scriptedPo,
      cliPo: this.cliPo,
      secrets: deps.secrets,
      bots: deps.bots,
      t: this.t,
      logger,
      feed: this.feed,
      holder: deps.holder,
      telegram: { admins },
      leaseMs: 30_000,
      publicUrls: deps.publicUrls ?? [],
      historyLimit: deps.history?.limit ?? 40,
      summaryTokens: deps.history?.summaryTokens ?? 2_500,
      keepRecent: deps.history?.keepRecent ?? 8,
      ...(this.isWorking ? {} : { handOver: handOverVia(deps.bus, logger) }),
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
      secrets: this.service,
      feed: this.feed,
      model: async () => poModelKind(this, (await store.agentConfigs.get("po")).backend),
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
      const outbox = new Outbox({
        store,
        channel,
        feed: this.feed,
        logger,
        ...(deps.pollMs ? { pollMs: deps.pollMs } : {}),
      });
      // Telegram's outbox runs only while this process holds the Telegram lease.
      if (channel === this.telegram) this.telegramOutbox = outbox;
      else this.outboxes.push(outbox);
    }
    this.notifier = chatNotifierSubscriber({ store, bus: deps.bus, feed: this.feed, t: this.t, logger });
    if (inner.kind === "scripted")
      logger.warn("the Product Owner is scripted (no model); its words are labelled so");
    else logger.info({ provider: inner.kind, model: inner.defaultModel }, "Product Owner model");
  }

  /** Whether this process works on conversations (see `ChatModuleDeps.isWorking`). */
  get isWorking(): boolean {
    return this.deps.isWorking ?? true;
  }

  async start(): Promise<void> {
    this.started = true;
    // In webhook mode every process with the API route takes updates in (it has the route); the
    // holder of the Telegram lease registers the webhook with Telegram.
    this.telegram?.acceptWebhook(this.service);
    if (!this.isWorking) return;
    await this.notifier.start();
    this.handovers = takeHandovers(this.deps.bus, {
      consumer: this.deps.holder,
      work: (conversationId) => this.service.kick(conversationId),
    });
    for (const outbox of this.outboxes) outbox.start();
    if (this.telegram) await this.leadTelegram();
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

  /**
   * One process at a time talks to Telegram (`getUpdates` allows one poller per bot, and one
   * sender keeps each chat's messages in order): the holder of the `chat.telegram` lease. Another
   * process with the chat role takes over when the holder stops renewing it.
   */
  private async leadTelegram(): Promise<void> {
    const telegram = this.telegram;
    const outbox = this.telegramOutbox;
    if (!telegram || !outbox) return;
    const { store, holder, logger } = this.deps;
    const check = async () => {
      const held = await store.jobLeases.tryAcquire(TELEGRAM_LEASE, holder, TELEGRAM_LEASE_MS);
      if (held && !this.leading && !this.stopped) {
        await telegram.start(this.service);
        outbox.start();
        this.leading = true;
        logger.info({ bot: telegram.username }, "this process talks to Telegram");
      } else if (!held && this.leading) {
        this.leading = false;
        logger.warn("another process took over Telegram");
        await telegram.stop();
        await outbox.stop();
      }
    };
    // The first check throws at start: a refused token is said plainly, not retried forever.
    await check();
    const again = () => {
      this.leaseTimer = setTimeout(() => {
        check()
          .catch((error) => logger.warn({ err: error }, "could not renew the Telegram lease"))
          .finally(() => {
            if (!this.stopped) again();
          });
      }, TELEGRAM_LEASE_MS / 3);
      this.leaseTimer.unref();
    };
    again();
  }

  /** Delivers everything pending now (tests and benchmarks wait on it). */
  async drained(): Promise<void> {
    await this.service.settled();
    const outboxes = [
      ...this.outboxes,
      ...(this.leading && this.telegramOutbox ? [this.telegramOutbox] : []),
    ];
    await Promise.all(outboxes.map((o) => o.drained()));
    await Promise.all(this.metered.map((m) => m.flush()));
  }

  async stop(deadlineMs = 5_000): Promise<void> {
    this.stopped = true;
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    if (this.leaseTimer) clearTimeout(this.leaseTimer);
    await this.handovers?.stop(deadlineMs);
    await this.telegram?.stop();
    await this.service.stop();
    await Promise.all(
      [...this.outboxes, ...(this.telegramOutbox ? [this.telegramOutbox] : [])].map((o) => o.stop()),
    );
    if (this.leading) await this.deps.store.jobLeases.release(TELEGRAM_LEASE, this.deps.holder);
    await Promise.all(this.metered.map((m) => m.flush()));
    if (this.started && this.isWorking) await this.notifier.stop(deadlineMs);
  }
}

/** The lease of the process that polls Telegram and sends to it. */
const TELEGRAM_LEASE = "chat.telegram";
const TELEGRAM_LEASE_MS = 15_000;

/** A webhook secret nobody needs to configure: stable per bot, not guessable without the token. */
function webhookSecretOf(token: string): string {
  return createHash("sha256").update(`telegram-webhook:${token}`).digest("hex").slice(0, 48);
}
