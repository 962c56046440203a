import type { Bus } from "../bus/index.js";
import {
  type Conversation,
  DeployRunInput,
  EngineeringRunResult,
  nullIfNotFound,
  type Run,
  type RunEvent,
} from "../contracts/index.js";
import { RunEventSubscriber } from "../events/index.js";
import type { Logger } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { composeDeployOutcome, composeProgress } from "./compose.js";
import type { ChatFeed } from "./feed.js";
import type { Translator } from "./i18n/index.js";

/** The durable subscriber name (its cursor and bus consumer group). */
export const CHAT_NOTIFIER = "chat-notifier";

export interface ChatNotifierDeps {
  store: Store;
  bus: Bus;
  feed: ChatFeed;
  t: Translator;
  logger: Logger;
}

const WATCHED = [
  "run.created",
  "run.stage_changed",
  "run.status_changed",
  "engineering.tested",
  "deploy.succeeded",
  "deploy.failed",
  "deploy.blocked",
  "deploy.incident_opened",
  "deploy.incident_closed",
] as const;

/**
 * Tells the conversation a run was started from how it goes: one progress message per journey
 * (a build and the deploy its green commit started), edited in place, and one message per
 * outcome (live with its link, failed with the reason, blocked with the question or the missing
 * secrets), composed from the event data alone. Keys make a replayed event add nothing.
 */
export async function notifyChat(deps: ChatNotifierDeps, event: RunEvent): Promise<void> {
  const { store } = deps;
  const run = await store.runs.get(event.runId).catch(nullIfNotFound);
  if (!run) return;
  const conversationId = await originOf(deps, run);
  if (!conversationId) return;
  const conversation = await store.conversations.get(conversationId).catch(nullIfNotFound);
  if (!conversation) return;
  const project = (await store.projects.get(run.projectId).catch(nullIfNotFound))?.name ?? run.projectId;
  if (event.type === "deploy.incident_opened" || event.type === "deploy.incident_closed") {
    await reportIncident(deps, conversation, project, run, event);
    deps.feed.emit(conversation.id);
    return;
  }
  const journey = journeyOf(run);
  await updateProgress(deps, conversation, project, journey);
  await reportOutcome(deps, conversation, project, run, event);
  deps.feed.emit(conversation.id);
}

/** The conversation of a run: recorded when the PO started it, or inherited from the run a deploy follows. */
async function originOf(deps: ChatNotifierDeps, run: Run): Promise<string | null> {
  const known = await deps.store.conversations.originOf(run.id);
  if (known) return known;
  // A deploy started by a green build, or taking up a blocked deploy, tells the same chat.
  const input = run.kind === "deploy" ? DeployRunInput.safeParse(run.input).data : undefined;
  const source = input?.sourceRunId ?? input?.resumes ?? null;
  if (!source) return null;
  const inherited = await deps.store.conversations.originOf(source);
  if (inherited) await deps.store.conversations.linkRun(run.id, inherited);
  return inherited;
}

function sourceRunOf(run: Run): string | null {
  if (run.kind !== "deploy") return null;
  const input = DeployRunInput.safeParse(run.input);
  return input.success ? input.data.sourceRunId : null;
}

/** The runs whose events one progress message shows: a deploy's source run first, then the run. */
function journeyOf(run: Run): { id: string; runs: string[] } {
  const source = sourceRunOf(run);
  return source ? { id: source, runs: [source, run.id] } : { id: run.id, runs: [run.id] };
}

async function updateProgress(
  deps: ChatNotifierDeps,
  conversation: Conversation,
  project: string,
  journey: { id: string; runs: string[] },
): Promise<void> {
  const { store, t } = deps;
  const events: RunEvent[] = [];
  for (const runId of journey.runs) events.push(...(await store.runEvents.list(runId, { limit: 2_000 })));
  const text = composeProgress(t, conversation.language, project, events);
  const key = `progress:${journey.id}`;
  const existing = await store.conversations.findByKey(conversation.id, key);
  if (!existing) {
    await store.conversations.addOutgoing({
      conversationId: conversation.id,
      role: "system",
      kind: "progress",
      text,
      runId: journey.id,
      key,
    });
  } else if (existing.text !== text) {
    await store.conversations.edit(existing.id, { text });
  }
}

async function reportOutcome(
  deps: ChatNotifierDeps,
  conversation: Conversation,
  project: string,
  run: Run,
  event: RunEvent,
): Promise<void> {
  const { store, t } = deps;
  const language = conversation.language;
  const say = (
    kind: "live" | "failed" | "blocked" | "notice",
    text: string,
    links: { url: string; label: string }[] = [],
  ) =>
    store.conversations.addOutgoing({
      conversationId: conversation.id,
      role: "system",
      kind,
      text,
      links,
      runId: run.id,
      key: `outcome:${run.id}`,
    });
  if (
    event.type === "deploy.succeeded" ||
    event.type === "deploy.failed" ||
    event.type === "deploy.blocked"
  ) {
    const input = DeployRunInput.safeParse(run.input);
    const outcome = composeDeployOutcome(
      t,
      language,
      project,
      event,
      input.success ? input.data.action : "deploy",
    );
    await say(outcome.kind, outcome.text, outcome.links);
    return;
  }
  if (event.type !== "run.status_changed") return;
  const to = event.data.to;
  if (to !== "failed" && to !== "blocked" && to !== "cancelled") return;
  const what = t(language, run.kind === "deploy" ? "outcome.deploy" : "outcome.build");
  if (run.kind === "deploy") {
    // The deploy's own outcome event follows its status with the reason; only a run ended
    // without one (its engine died, it was cancelled) is reported from the status.
    const later = await store.runEvents.list(run.id, { afterSeq: event.seq, limit: 100 });
    if (later.some((e) => e.type.startsWith("deploy."))) return;
  }
  if (to === "cancelled") {
    await say("notice", t(language, "outcome.cancelled", { project, what }));
    return;
  }
  const result = run.kind === "engineering" ? EngineeringRunResult.safeParse(run.result) : null;
  const question = result?.success ? result.data.question : null;
  if (to === "blocked" && question) {
    await say("blocked", t(language, "outcome.blockedQuestion", { project, question }));
    await store.conversations.update(conversation.id, { awaitingRunId: run.id });
    // Shown as awaiting now unless the PO is working on it (then when it is done).
    await store.conversations.release(conversation.id, null, "awaiting");
    return;
  }
  const reason =
    event.data.error?.message ?? run.error?.message ?? (result?.success ? result.data.summary : "");
  if (to === "blocked") await say("blocked", t(language, "outcome.blocked", { project, reason }));
  else await say("failed", t(language, "outcome.failed", { project, what, reason }));
}

/**
 * The health monitor's word on a live release: down (with the repair run, if one started) or back
 * up, one message per incident and event (keyed, so a replay adds nothing).
 */
async function reportIncident(
  deps: ChatNotifierDeps,
  conversation: Conversation,
  project: string,
  run: Run,
  event: Extract<RunEvent, { type: "deploy.incident_opened" | "deploy.incident_closed" }>,
): Promise<void> {
  const { t } = deps;
  const language = conversation.language;
  const isOpened = event.type === "deploy.incident_opened";
  let text: string;
  if (event.type === "deploy.incident_opened") {
    const { reason, restarts, repairRunId } = event.data;
    text = t(language, "outcome.incidentOpened", { project, reason, restarts: String(restarts) });
    if (repairRunId) text += `\n${t(language, "outcome.incidentRepair", { runId: repairRunId })}`;
  } else {
    text = t(language, "outcome.incidentClosed", { project, duration: durationText(event.data.downSeconds) });
  }
  await deps.store.conversations.addOutgoing({
    conversationId: conversation.id,
    role: "system",
    kind: isOpened ? "failed" : "live",
    text,
    runId: run.id,
    key: `incident:${event.data.incidentId}:${isOpened ? "opened" : "closed"}`,
  });
}

/** `45s`, `12m`, `3h 5m`: short, language-neutral. */
function durationText(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/** The subscriber of the chat: started by the process that runs the chat. */
export function chatNotifierSubscriber(
  deps: ChatNotifierDeps,
  opts: { gapHoldMs?: number; sweepEveryMs?: number } = {},
): RunEventSubscriber {
  return new RunEventSubscriber({
    name: CHAT_NOTIFIER,
    types: [...WATCHED],
    handle: (event) => notifyChat(deps, event),
    store: deps.store,
    bus: deps.bus,
    logger: deps.logger,
    ...opts,
  });
}
