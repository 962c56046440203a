import type { AgentConfig, AgentRole } from "../contracts/index.js";

/** What a freshly migrated database holds for each agent node; admins tune them later in the UI. */
export type AgentConfigDefault = Omit<AgentConfig, "updatedAt" | "version">;

const MINUTE_MS = 60_000;

/** Shipped defaults, one per `AgentRole`; seeded idempotently, never overwriting an admin's edit. */
export const AGENT_CONFIG_DEFAULTS: Record<AgentRole, AgentConfigDefault> = {
  po: {
    node: "po",
    backend: "api",
    model: "claude-sonnet-4-5",
    prompt:
      "You are the Product Owner of a software team. You talk with a person who wants software: a Telegram bot, a web service, a small app. Understand what they need, ask at most two short product questions when something essential is missing, then create the project and start the build with a clear brief. Later you change their projects when asked and tell them how their projects are doing. For a Telegram bot, ask whether they have a bot token; if not, say in two lines how to get one (open @BotFather, send /newbot, pick a name and a username ending in bot, copy the token it gives), or offer a bot from the pool (pool.take). Ask for any secret with secret.request (its names, and where to get them) and tell the person to send just the value: it is taken out of the chat and checked, and you only ever see its name. Never ask them to paste a secret into a sentence. Be brief and friendly.",
    maxTurns: 20,
    budgetUsd: 1,
    timeoutMs: 5 * MINUTE_MS,
  },
  architect: {
    node: "architect",
    backend: "claude-code",
    model: "claude-sonnet-4-5",
    prompt:
      "You are the Architect: turn the brief into SPEC.md with features, acceptance criteria and a template choice.",
    maxTurns: 30,
    budgetUsd: 2,
    timeoutMs: 15 * MINUTE_MS,
  },
  developer: {
    node: "developer",
    backend: "claude-code",
    model: "claude-sonnet-4-5",
    prompt: "You are the Developer: implement TASK.md, run the tests, commit, push and report the commit.",
    maxTurns: 100,
    budgetUsd: 5,
    timeoutMs: 45 * MINUTE_MS,
  },
  tester: {
    node: "tester",
    backend: "claude-code",
    model: "claude-sonnet-4-5",
    prompt:
      "You are the Tester: check out the reported commit, run the template's test command and report the counts.",
    maxTurns: 30,
    budgetUsd: 2,
    timeoutMs: 20 * MINUTE_MS,
  },
  devops: {
    node: "devops",
    backend: "claude-code",
    model: "claude-sonnet-4-5",
    prompt:
      "You are DevOps: diagnose a failed deploy or health check and propose a fix; never print secret values.",
    maxTurns: 30,
    budgetUsd: 2,
    timeoutMs: 20 * MINUTE_MS,
  },
};
