/**
 * The real orchestrator, in this test process, for the reliability suites: `up`'s composition on an
 * embedded store (demo agents, no model keys), with the roles that serve every route (api, workers)
 * and none that would run what the suites trigger (no engine, chat or scheduler), Telegram by
 * webhook on the fake Bot API. Beside the admin token it announces: a person (Ursula) with a user
 * token and her project, and another project with a worker token of the broadest kind.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Api } from "../../src/api/index.js";
import { type Orchestrator, startOrchestrator } from "../../src/app/index.js";
import { issueToken } from "../../src/auth/index.js";
import { loadConfig } from "../../src/config/index.js";
import { type Project, ToolGroup } from "../../src/contracts/index.js";
import { type FakeTelegram, startFakeTelegram } from "../fakes/telegram/index.js";
import { freePort, workerPortRange } from "./ports.js";

export const RELIABILITY_BOT_TOKEN = "880088:reliability-token-abcdefghijklmnopq";
export const WEBHOOK_SECRET = "reliability-webhook-secret-0123456789";

export interface ReliabilityApp {
  orchestrator: Orchestrator;
  api: Api;
  url: string;
  tg: FakeTelegram;
  tokens: { admin: string; user: string; worker: string };
  /** Ursula's project (the user token's); the worker token belongs to `other`. */
  projects: { own: Project; other: Project };
  userId: string;
  close(): Promise<void>;
}

export async function startReliabilityApp(): Promise<ReliabilityApp> {
  const dir = await mkdtemp(join(tmpdir(), "reliability-"));
  const tg = await startFakeTelegram({ token: RELIABILITY_BOT_TOKEN, username: "reliability_bot" });
  const port = await freePort();
  const [low, high] = workerPortRange(41_000);
  const config = loadConfig(
    {
      ORCHESTRATOR_DATA_DIR: join(dir, "data"),
      ORCHESTRATOR_PORT: String(port),
      // The orchestrator's own log, for a failure to be looked into (silent by default).
      LOG_LEVEL: process.env.RELIABILITY_LOG_LEVEL ?? "silent",
      DEPLOY_PORT_RANGE: `${low}-${high}`,
      TELEGRAM_BOT_TOKEN: RELIABILITY_BOT_TOKEN,
      TELEGRAM_API_ROOT: tg.url,
      TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/webhook`,
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
    "embedded",
  );
  const announced: string[] = [];
  let orchestrator: Orchestrator;
  try {
    orchestrator = await startOrchestrator(config, {
      roles: ["api", "workers"],
      demo: true,
      announce: (line) => announced.push(line),
    });
  } catch (error) {
    await tg.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const admin = /orc_[A-Za-z0-9_-]{43}/.exec(announced.join("\n"))?.[0];
  const { api, url, store } = orchestrator;
  if (!admin || !api || !url) throw new Error(`no API or admin token: ${announced.join("\n")}`);
  const ursula = await store.users.create({ name: "Ursula", telegramId: "5550001" });
  const own = await store.projects.create({ name: "Ursula's weather bot", ownerId: ursula.id });
  const other = await store.projects.create({ name: "Somebody else's shop" });
  const user = await issueToken(store, { name: "ursula", kind: "user", userId: ursula.id });
  const worker = await issueToken(store, {
    name: "other-po",
    kind: "worker",
    projectId: other.id,
    role: "po",
    groups: [...ToolGroup.options],
  });
  return {
    orchestrator,
    api,
    url,
    tg,
    tokens: { admin, user: user.token, worker: worker.token },
    projects: { own, other },
    userId: ursula.id,
    async close() {
      await orchestrator.stop();
      await tg.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
