/**
 * `orchestrator up` as a user runs it, with its Telegram bot on the fake Bot API and its Product
 * Owner on the Anthropic provider against the fake Messages API, behind a proxy that makes the model
 * slow or silent on demand. The process can be killed and started again on the same data directory.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeAnthropic, type MessagesBody, startFakeAnthropic } from "../fakes/anthropic/index.js";
import { type FakeSentMessage, type FakeTelegram, startFakeTelegram } from "../fakes/telegram/index.js";
import { checkText } from "../fakes/telegram/markup.js";
import { type RunningCli, START_DEADLINE_MS, startCli, waitForHealth } from "./cli.js";
import { type ModelLatency, startModelLatency } from "./model-latency.js";
import { freePort, workerPortRange } from "./ports.js";
import { until } from "./until.js";

export const CHAT_BOT_TOKEN = "770077:chat-e2e-token-abcdefghijklmnop";
const MODEL_KEY = "sk-ant-chat-e2e-key";

export interface ChatOrchestrator {
  tg: FakeTelegram;
  model: FakeAnthropic;
  latency: ModelLatency;
  /** The orchestrator's address. */
  url: string;
  /** The running process (the latest start). */
  proc(): RunningCli;
  /** Starts `up` (again) and waits until it answers and its bot polls. */
  start(): Promise<RunningCli>;
  /** SIGKILL: no shutdown of any kind. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

export interface ChatOrchestratorOptions {
  /** Telegram user ids allowed at once (TELEGRAM_ADMIN_USER_IDS). */
  admins: number[];
  /** More environment for the process (PO_TURN_TIMEOUT, ...). */
  env?: Record<string, string>;
  /** Telegram delivers updates to the API's webhook route with this secret, instead of polling. */
  webhookSecret?: string;
}

export async function startChatOrchestrator(opts: ChatOrchestratorOptions): Promise<ChatOrchestrator> {
  const dataDir = await mkdtemp(join(tmpdir(), "chat-e2e-"));
  const tg = await startFakeTelegram({ token: CHAT_BOT_TOKEN, username: "orchestrator_e2e_bot" });
  const model = await startFakeAnthropic({ apiKey: MODEL_KEY });
  const latency = await startModelLatency(model.url);
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ORCHESTRATOR_DATA_DIR: dataDir,
    ORCHESTRATOR_PORT: String(port),
    DEPLOY_PORT_RANGE: workerPortRange(24_000).join("-"),
    LOG_LEVEL: "info",
    TELEGRAM_BOT_TOKEN: CHAT_BOT_TOKEN,
    TELEGRAM_API_ROOT: tg.url,
    TELEGRAM_ADMIN_USER_IDS: opts.admins.join(","),
    ANTHROPIC_API_KEY: MODEL_KEY,
    ANTHROPIC_BASE_URL: latency.url,
    ...(opts.webhookSecret
      ? {
          TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/webhook`,
          TELEGRAM_WEBHOOK_SECRET: opts.webhookSecret,
        }
      : {}),
    ...opts.env,
  };
  const procs: RunningCli[] = [];
  const current = () => {
    const proc = procs.at(-1);
    if (!proc) throw new Error("the orchestrator was not started");
    return proc;
  };
  return {
    tg,
    model,
    latency,
    url: `http://127.0.0.1:${port}`,
    proc: current,
    async start() {
      const proc = startCli(["up"], env);
      procs.push(proc);
      await waitForHealth(`http://127.0.0.1:${port}/health`, START_DEADLINE_MS, proc);
      const ready = opts.webhookSecret ? "Telegram bot receiving by webhook" : "Telegram bot polling";
      await until("the bot to receive updates", 30_000, async () =>
        proc.output().includes(ready) ? true : null,
      );
      return proc;
    },
    async kill() {
      await current().stop("SIGKILL");
    },
    async close() {
      for (const proc of procs) await proc.stop("SIGKILL");
      await latency.close();
      await model.close();
      await tg.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The newest thing the person said in a Messages request (the message the PO works on). */
export function lastPersonText(body: MessagesBody): string {
  const last = [...(body.messages ?? [])].reverse().find((m) => m.role === "user");
  const content = last?.content;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const texts = (content as { type?: string; text?: string }[]).filter((c) => c.type === "text");
  return texts.at(-1)?.text ?? "";
}

/** Everything a person said in a Messages request, oldest first (the history the PO was shown). */
export function personTexts(body: MessagesBody): string[] {
  return (body.messages ?? [])
    .filter((m) => m.role === "user")
    .flatMap((m) =>
      typeof m.content === "string"
        ? [m.content]
        : Array.isArray(m.content)
          ? (m.content as { type?: string; text?: string }[])
              .filter((c) => c.type === "text")
              .map((c) => c.text ?? "")
          : [],
    );
}

/** The PO's answer to a message: it repeats what it answers, so a reply shows its message. */
export const answerTo = (text: string) => `Noted: ${text}`;

/** Queues `count` model answers that repeat the message each one answers. */
export function answerEveryMessage(model: FakeAnthropic, count: number): void {
  for (let i = 0; i < count; i++) model.enqueue((body) => answerTo(lastPersonText(body)));
}

/** The texts the bot sent to a chat, oldest first. */
export function textsIn(tg: FakeTelegram, chatId: number): string[] {
  return tg.sentMessages(chatId).map((m: FakeSentMessage) => visibleText(m));
}

/** A sent message's text as the person sees it (HTML tags and entities gone). */
export function visibleText(m: FakeSentMessage): string {
  const checked = checkText(m.text, m.parseMode);
  return "visible" in checked ? checked.visible : m.text;
}
