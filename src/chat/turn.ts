import {
  type AgentBackend,
  AppError,
  type ChatMessage,
  type ChatMessageKind,
  type Conversation,
  type ModelProviderKind,
  nullIfNotFound,
  type Principal,
  type Run,
} from "../contracts/index.js";
import { inSpan, type Logger } from "../observability/index.js";
import {
  type CliProductOwner,
  estimateTokens,
  type PoHistoryItem,
  type PoTurnResult,
  type ProductOwner,
  summarize,
} from "../po/index.js";
import { type BotTokens, type SecretsService, TELEGRAM_BOT_TOKEN_KEY } from "../secrets/index.js";
import type { Store } from "../store/index.js";
import { type ToolRegistry, type ToolServices, toolContextFor } from "../tools/index.js";
import { projectLines, userProjects } from "./commands.js";
import type { ChatFeed } from "./feed.js";
import type { MessageKey, Translator } from "./i18n/index.js";
import { knownLinksFor, unverifiedClaims } from "./link-guard.js";

export interface TurnDeps {
  store: Store;
  tools: ToolRegistry;
  services: ToolServices;
  po: ProductOwner;
  /** The PO on the scripted model, for a `po` AgentConfig whose backend is `scripted`. */
  scriptedPo: ProductOwner;
  /** The PO as a CLI agent, for a `po` AgentConfig whose backend is `claude-code`. */
  cliPo: CliProductOwner;
  t: Translator;
  logger: Logger;
  /** Where secrets a person pastes are held until their project adopts them. */
  secrets: SecretsService;
  /** Bot tokens checked with Telegram before they are kept, and the bot pool. */
  bots: BotTokens;
  /** Told of each reply as it is stored, so the outbox sends it while the turn winds down. */
  feed: ChatFeed;
  /** Links the system itself may give beside the person's own (this orchestrator's address). */
  publicUrls: readonly string[];
  /** Messages the PO sees in full; older ones it sees as a summary. */
  historyLimit: number;
  /** History past this many tokens is summarised, keeping the newest `keepRecent` messages. */
  summaryTokens: number;
  keepRecent: number;
}

/** Model calls per message at most, whatever the AgentConfig allows: a person waits for the answer. */
const MAX_ROUNDS = 10;

/** The AgentConfig's model when the provider serves it (a Claude model is no OpenAI model). */
function modelFits(provider: string, model: string): boolean {
  if (provider === "scripted") return false;
  return (provider === "anthropic") === model.startsWith("claude");
}

/** The model the PO talks with on an AgentConfig `backend`: the CLI's is Claude. */
export function poModelKind(
  deps: Pick<TurnDeps, "po" | "scriptedPo">,
  backend: AgentBackend,
): ModelProviderKind {
  if (backend === "claude-code") return "anthropic";
  return (backend === "scripted" ? deps.scriptedPo : deps.po).provider.kind;
}

/** The kinds of message the PO reads back as history: words and runs' outcomes, not progress or errors. */
const HISTORY_KINDS: readonly ChatMessageKind[] = ["text", "live", "failed", "blocked", "notice"];

/** The person behind a conversation, as the tools see them. */
export function personPrincipal(conversation: Conversation, userId: string): Principal {
  return { kind: "user", tokenId: `chat:${conversation.id}`, userId };
}

/**
 * Handles one queued message of a conversation: the answer to a blocked run's question when one
 * waits, else a PO turn. Every reply is keyed by the message, so handling it again after a crash
 * adds nothing twice. Each message is a trace of its own: the PO's turn, the runs it starts and
 * their agents' turns and deploys are its spans.
 */
export function handleMessage(
  deps: TurnDeps,
  conversation: Conversation,
  message: ChatMessage,
  signal: AbortSignal,
): Promise<void> {
  const attributes = {
    "chat.channel": conversation.channel,
    "chat.conversation.id": conversation.id,
    "chat.message.id": message.id,
  };
  return inSpan("chat.message", attributes, () => answer(deps, conversation, message, signal), {
    root: true,
  });
}

async function answer(
  deps: TurnDeps,
  conversation: Conversation,
  message: ChatMessage,
  signal: AbortSignal,
): Promise<void> {
  const { store, t } = deps;
  const userId = conversation.userId;
  if (!userId) return;
  const principal = personPrincipal(conversation, userId);
  const reply = async (i: number, text: string, kind: ChatMessage["kind"] = "text") => {
    const said = await store.conversations.addOutgoing({
      conversationId: conversation.id,
      role: "po",
      kind,
      text,
      key: `reply:${message.id}:${i}`,
    });
    deps.feed.emit(conversation.id);
    return said;
  };

  if (conversation.awaitingRunId && (await answerBlockedRun(deps, conversation, principal, message, reply)))
    return;

  const history = await historyFor(deps, conversation, message, signal);
  const config = await store.agentConfigs.get("po");
  const input = {
    principal,
    systemPrompt: config.prompt,
    summary: history.summary,
    questionsAsked: conversation.questionsAsked,
    history: history.items,
    message: message.text,
    budgetUsd: config.budgetUsd,
    maxRounds: Math.min(config.maxTurns, MAX_ROUNDS),
    signal,
    // Tied to this chat the moment it starts: the run's events find the chat while the PO talks on.
    onRunStarted: (run: Run) => store.conversations.linkRun(run.id, conversation.id),
    // The secrets pasted in this chat become the project's the PO creates, builds or deploys for the person.
    onProject: async (projectId: string) => {
      const project = await store.projects.get(projectId).catch(nullIfNotFound);
      if (project?.ownerId !== userId) return;
      await adoptHeld(deps, conversation, projectId);
    },
    // The person's next bare value (or the web's masked field) fills the first of these.
    onSecretsRequested: async (projectId: string, keys: string[]) => {
      await store.conversations.update(conversation.id, { awaitingSecrets: { projectId, keys } });
      deps.feed.emit(conversation.id, "other");
    },
  };
  const isCli = config.backend === "claude-code";
  const po = config.backend === "scripted" ? deps.scriptedPo : deps.po;
  const result: PoTurnResult = isCli
    ? await deps.cliPo.turn({ ...input, model: config.model })
    : await po.turn({
        ...input,
        ...(modelFits(po.provider.kind, config.model) ? { model: config.model } : {}),
      });
  // Again (it is idempotent), for a run whose tie failed mid-turn.
  for (const run of result.runs) await store.conversations.linkRun(run.id, conversation.id);
  if (result.questionsAsked !== conversation.questionsAsked) {
    await store.conversations.update(conversation.id, { questionsAsked: result.questionsAsked });
  }
  if (signal.aborted) return; // `/cancel`: the person said stop; runs already started stand.
  if (result.error) {
    deps.logger.warn({ err: result.error, conversationId: conversation.id }, "PO turn failed");
    await reply(0, t(conversation.language, modelErrorKey(result.error)), "error");
    return;
  }
  if (result.exhausted) {
    await reply(0, t(conversation.language, "error.rounds"), "error");
    return;
  }
  const prefix =
    poModelKind(deps, config.backend) === "scripted" ? `${t(conversation.language, "demo.prefix")} ` : "";
  for (const [i, said] of result.replies.entries()) {
    await reply(i, `${prefix}${await checked(deps, conversation, userId, said.text)}`);
  }
}

/**
 * Hands what the chat holds to the person's project: a bot token through the same checks as one
 * given directly (so the project records which bot it runs), the rest as it is; a deploy waiting on
 * them goes on.
 */
async function adoptHeld(deps: TurnDeps, conversation: Conversation, projectId: string): Promise<void> {
  const actor = `chat ${conversation.id}`;
  const token = await deps.secrets.heldValue(conversation.id, TELEGRAM_BOT_TOKEN_KEY);
  if (token) {
    const stored = await deps.bots.store(projectId, token, actor);
    // Unchecked (Telegram unreachable): still held, tried again at the next adoption.
    if (stored.ok || stored.code !== "bot_token_unchecked")
      await deps.secrets.dropHeld(conversation.id, TELEGRAM_BOT_TOKEN_KEY);
    if (!stored.ok) deps.logger.warn({ projectId, code: stored.code }, "a held bot token was not adopted");
  }
  const adopted = await deps.secrets.adopt(conversation.id, projectId, actor);
  if (adopted.length > 0) {
    deps.logger.info({ conversationId: conversation.id, projectId, keys: adopted }, "chat secrets adopted");
    await deps.bots.filled(projectId, actor);
  }
}

/**
 * The person's message answers the question a blocked run asked: passed on as the answer, and the
 * run goes on. A run no longer blocked (answered elsewhere, cancelled) leaves the message to the PO.
 */
async function answerBlockedRun(
  deps: TurnDeps,
  conversation: Conversation,
  principal: Principal,
  message: ChatMessage,
  reply: (i: number, text: string, kind?: ChatMessage["kind"]) => Promise<unknown>,
): Promise<boolean> {
  const { store, t } = deps;
  const runId = conversation.awaitingRunId as string;
  try {
    const run = (await deps.tools.invoke(
      "engineering.answer",
      { runId, answer: message.text },
      toolContextFor(principal, deps.services, { tool: "engineering.answer" }),
    )) as Run;
    await store.conversations.linkRun(run.id, conversation.id);
    await store.conversations.update(conversation.id, { awaitingRunId: null });
    const project = await store.projects.get(run.projectId);
    await reply(0, t(conversation.language, "answer.taken", { project: project.name }), "notice");
    return true;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    await store.conversations.update(conversation.id, { awaitingRunId: null });
    if (error.kind === "conflict" || error.kind === "not_found") return false;
    await reply(0, t(conversation.language, "answer.failed", { reason: error.message }), "error");
    return true;
  }
}

/** What the PO sees of the past: a summary of the old part and the newest messages in full. */
async function historyFor(
  deps: TurnDeps,
  conversation: Conversation,
  message: ChatMessage,
  signal: AbortSignal,
): Promise<{ summary: string | null; items: PoHistoryItem[] }> {
  const recent = await deps.store.conversations.history(conversation.id, {
    afterSeq: conversation.summarizedThrough,
    beforeSeq: message.seq,
    kinds: HISTORY_KINDS,
    limit: deps.historyLimit,
  });
  const items = recent.map((m) => ({ role: m.role, text: m.text }));
  if (estimateTokens(items) <= deps.summaryTokens || recent.length <= deps.keepRecent) {
    return { summary: conversation.summary, items };
  }
  const old = recent.slice(0, recent.length - deps.keepRecent);
  const through = old.at(-1)?.seq ?? conversation.summarizedThrough;
  try {
    const summary = await summarize(
      deps.po.provider,
      conversation.summary,
      old.map((m) => ({ role: m.role, text: m.text })),
      signal,
    );
    await deps.store.conversations.update(conversation.id, { summary, summarizedThrough: through });
    return { summary, items: items.slice(old.length) };
  } catch (error) {
    // A failed summary costs tokens, not the turn: the PO sees the full history this time.
    deps.logger.warn({ err: error, conversationId: conversation.id }, "could not summarise the history");
    return { summary: conversation.summary, items };
  }
}

/**
 * The PO's words, unless they name a link or bot the store does not hold for this person or claim
 * something is live when nothing is: then what the system knows, composed by the system.
 */
async function checked(
  deps: TurnDeps,
  conversation: Conversation,
  userId: string,
  text: string,
): Promise<string> {
  const { store, t } = deps;
  // Most replies name no link, bot or live service: the store is read only for those that do.
  const nothing = { urls: [], bots: new Set<string>(), anyLive: false };
  if (unverifiedClaims(text, nothing, deps.publicUrls).length === 0) return text;
  const claims = unverifiedClaims(text, await knownLinksFor(store, userId), deps.publicUrls);
  if (claims.length === 0) return text;
  deps.logger.warn(
    { conversationId: conversation.id, claims },
    "PO reply named what the store does not hold",
  );
  const user = await store.users.get(userId);
  const projects = await userProjects(store, user);
  const lines = await projectLines(store, t, conversation.language, projects);
  const anyLive = projects.some((p) => p.status === "live");
  return [
    t(conversation.language, "guard.unverified"),
    ...(lines.length > 0 ? lines : [t(conversation.language, "projects.none")]),
    ...(anyLive ? [] : [t(conversation.language, "guard.nothingLive")]),
  ].join("\n");
}

/** The catalogue message for a failed model call. */
export function modelErrorKey(error: AppError): MessageKey {
  switch (error.code) {
    case "model_timeout":
    case "model_unavailable":
    case "model_unauthorized":
    case "model_rejected":
      return `error.${error.code}`;
    case "po_budget_exhausted":
      return "error.budget";
    default:
      return "error.internal";
  }
}
