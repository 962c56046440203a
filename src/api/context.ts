import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Bus } from "../bus/index.js";
import type { TelegramChannel, WebChat } from "../chat/index.js";
import type { WebSettings } from "../config/index.js";
import type { Principal, ProcessRole, WebSession } from "../contracts/index.js";
import type { ServerService } from "../deploy/index.js";
import type { ServedForge } from "../git/index.js";
import type { ModelGateway } from "../llm/index.js";
import type { Logger, Metrics, SecretRedactor } from "../observability/index.js";
import type { PoTurns } from "../po/index.js";
import type { JobState } from "../scheduler/index.js";
import type { BotTokens, SecretsService } from "../secrets/index.js";
import type { Store } from "../store/index.js";
import type { ToolRegistry } from "../tools/index.js";
import type { WorkerService } from "../workers/index.js";

/** Who may call a route: anyone (`public`), any valid token (`token`), or admin tokens only. */
export type Access = "public" | "token" | "admin";

declare module "fastify" {
  interface FastifyContextConfig {
    access?: Access;
    /** The token may also come as `x-api-key` (Anthropic's header), for the model gateway. */
    acceptsApiKeyHeader?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
    /** The web session (and its CSRF value) the request came with, when its cookie authenticated it. */
    webSession: { session: WebSession; csrfToken: string } | null;
    /** Values this request's answer shows on purpose (see `showOnce`); null when none. */
    shownOnce: Set<string> | null;
  }
  interface FastifyInstance {
    /** Masks secrets in every answer (the process's redactor); streams written by hand use it too. */
    redactor: SecretRedactor;
  }
}

/** The process behind an answer to `/health`: its roles, instance id and what else to check. */
export interface ProcessInfo {
  roles: readonly ProcessRole[];
  instanceId: string;
  /** Named checks beside store and bus (e.g. the workers' Docker engine); a throw is "failed". */
  checks?: Record<string, () => Promise<unknown>>;
  /** This process's scheduled jobs as they stand (see the scheduler's `state`). */
  jobs?: () => readonly JobState[];
}

/** What `/health` and `/metrics` need: every process has them. */
export interface HealthDeps {
  store: Store;
  bus: Bus;
  metrics: Metrics;
  logger: Logger;
  version: string;
  process?: ProcessInfo;
}

/** What the API needs, passed in by the composition root. */
export interface ApiDeps extends HealthDeps {
  tools: ToolRegistry;
  /** Workers (in-process manager or a bus client); their routes exist only when given. */
  workers?: WorkerService;
  /**
   * The forge (local, or GitHub through a relay); when given, its repositories are served over git
   * smart HTTP at `/git/<slug>.git/*` to admin tokens and to worker tokens of the repository's project.
   */
  forge?: ServedForge;
  /** Secret values for the `secret.*` tools (the process holds the vault key). */
  secrets?: SecretsService;
  /** Bot tokens checked with Telegram, and the bot pool (`pool.*` tools). */
  bots?: BotTokens;
  /** Deploy servers for the `server.*` tools. */
  servers?: ServerService;
  /** The model gateway behind `/llm/*`; without one those routes do not exist. */
  gateway?: ModelGateway;
  /** The chat: the web chat's routes and Telegram's webhook exist only when given. */
  chat?: { web: WebChat; telegram: TelegramChannel | null };
  /** The Product Owner's turns in a CLI agent; their MCP endpoint exists only when given. */
  poTurns?: PoTurns;
  /** The bus streams whose dead letters the dashboard counts (the run triggers, events, worker calls). */
  busStreams?: readonly string[];
  /** Signing in to the web app: session length and the cookie's Secure flag. */
  web?: WebSettings;
  /** How often a run's event stream repairs itself from the store (default `SSE_REPAIR_INTERVAL_MS`). */
  sseRepairIntervalMs?: number;
  /** How often the admin stream reads the store's change marks (default `CHANGE_POLL_MS`). */
  adminChangePollMs?: number;
  /**
   * The process's redactor: every answer (JSON, text, event streams) is masked with it, except
   * the git smart HTTP routes (repository bytes) and the model gateway's. Without one, only API
   * token shapes are masked.
   */
  redactor?: SecretRedactor;
}

export type Api = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/**
 * Lets this request's answer carry `value` unmasked: for what a route shows on purpose, once (a new
 * API token in the answer that issues it). Everything else in the answer is still masked.
 */
export function showOnce(request: { shownOnce: Set<string> | null }, value: string): void {
  request.shownOnce ??= new Set();
  request.shownOnce.add(value);
}

/** The principal of an authenticated request (routes behind `token`/`admin` always have one). */
export function principalOf(request: { principal: Principal | null }): Principal {
  if (!request.principal) throw new Error("route reached without a principal");
  return request.principal;
}
