import type { ChatLanguage, ChatLink, RunEvent, RunEventOf } from "../contracts/index.js";
import type { MessageKey, Translator } from "./i18n/index.js";

/** One line of a progress message: a stage and how it went. */
interface ProgressLine {
  key: string;
  text: string;
  state: "running" | "done" | "failed";
}

const MARK = { running: "⏳", done: "✓", failed: "✗" } as const;

/** Deploy stages as the person sees them: the work of putting it live, then the health gate. */
const DEPLOY_STAGE: Record<string, "deploy" | "healthGate" | undefined> = {
  allocate: "deploy",
  environment: "deploy",
  readiness: "deploy",
  deploy: "deploy",
  start: "deploy",
  smoke: "healthGate",
};

/**
 * The progress message of a journey (an engineering run and the deploy its green commit started,
 * or a deploy alone), composed from the runs' events only: the same events give the same text,
 * so a replay after a restart edits nothing.
 */
export function composeProgress(
  t: Translator,
  language: ChatLanguage,
  project: string,
  events: readonly RunEvent[],
): string {
  const lines: ProgressLine[] = [];
  let title: MessageKey = "progress.titleBuild";
  const upsert = (key: string, text: string, state: ProgressLine["state"] = "running") => {
    // A new stage ends the one before it.
    const last = lines.at(-1);
    if (last && last.key !== key && last.state === "running") last.state = "done";
    const same = lines.find((l) => l.key === key);
    if (same) {
      same.text = text;
      same.state = state;
    } else lines.push({ key, text, state });
  };
  for (const event of events) {
    switch (event.type) {
      case "run.created":
        if (event.data.kind === "engineering" && event.data.mode === "change") title = "progress.titleChange";
        if (event.data.kind === "deploy" && lines.length === 0) title = "progress.titleDeploy";
        break;
      case "run.stage_changed": {
        const stage = event.data.stage;
        if (stage === "architect") upsert("architect", t(language, "progress.architect"));
        else if (stage === "preparer") upsert("preparer", t(language, "progress.preparer"));
        else if (stage === "developer") {
          const round = event.data.iteration ?? 1;
          upsert(`developer:${round}`, t(language, "progress.developer", { round }));
        } else if (stage === "acceptance_revision") {
          upsert(`revise:${event.data.revision ?? 0}`, t(language, "progress.revise"));
        } else {
          const deployStage = DEPLOY_STAGE[stage];
          if (deployStage) upsert(deployStage, t(language, `progress.${deployStage}`));
        }
        break;
      }
      case "engineering.tested":
        upsert(
          `tester:${event.data.iteration}`,
          event.data.counts
            ? t(language, "progress.tester", {
                passed: event.data.counts.passed,
                failed: event.data.counts.failed,
              })
            : t(language, "progress.testerNoRun"),
          event.data.passed ? "done" : "failed",
        );
        break;
      case "run.status_changed": {
        const last = lines.at(-1);
        if (!last) break;
        if (event.data.to === "succeeded" && last.state === "running") last.state = "done";
        if (event.data.to === "failed" || event.data.to === "cancelled") last.state = "failed";
        if (event.data.to === "blocked") last.state = "failed";
        break;
      }
      default:
        break;
    }
  }
  const head = t(language, title, { project });
  if (lines.length === 0) return `${head}\n${MARK.running} ${t(language, "progress.queued")}`;
  return [head, ...lines.map((l) => `${MARK[l.state]} ${l.text}`)].join("\n");
}

/** The message a deploy run's terminal event makes: live with its links, failed, or blocked. */
export function composeDeployOutcome(
  t: Translator,
  language: ChatLanguage,
  project: string,
  event: RunEventOf<"deploy.succeeded" | "deploy.failed" | "deploy.blocked">,
  action: "deploy" | "rollback" | "teardown",
): { kind: "live" | "failed" | "blocked" | "notice"; text: string; links: ChatLink[] } {
  const { url, botUsername, reason, missing, restoredPrevious } = event.data;
  if (event.type === "deploy.succeeded") {
    if (action === "teardown")
      return { kind: "notice", text: t(language, "outcome.tornDown", { project }), links: [] };
    const links: ChatLink[] = [];
    if (botUsername) links.push({ url: `https://t.me/${botUsername}`, label: `@${botUsername}` });
    if (url) links.push({ url, label: url });
    const text = botUsername
      ? url
        ? t(language, "outcome.liveBot", { project, bot: botUsername, url })
        : t(language, "outcome.liveBotOnly", { project, bot: botUsername })
      : url
        ? t(language, "outcome.liveUrl", { project, url })
        : t(language, "outcome.liveNoLink", { project });
    return { kind: "live", text, links };
  }
  if (event.type === "deploy.blocked") {
    return {
      kind: "blocked",
      text:
        missing.length > 0
          ? t(language, "outcome.blockedSecrets", { project, names: missing.join(", ") })
          : t(language, "outcome.blocked", { project, reason: reason ?? "" }),
      links: [],
    };
  }
  return {
    kind: "failed",
    text: restoredPrevious
      ? t(language, "outcome.failedRestored", { project, reason: reason ?? "" })
      : t(language, "outcome.failed", { project, what: t(language, "outcome.deploy"), reason: reason ?? "" }),
    links: [],
  };
}
