/**
 * The chat end to end: `orchestrator up` as a user runs it, with its Telegram bot polling the Bot
 * API fake and its Product Owner talking to the Anthropic fake, the architect and developer
 * played by the scripted agent, and the local deploy driver putting results live on 127.0.0.1.
 * A test plays the people (`tg.pushMessage`) and scripts the PO's model (`model.enqueue`).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ScriptedPlaybook } from "../../src/demo/index.js";
import {
  type FakeAnthropic,
  type FakeReply,
  type FakeReplyFn,
  lastToolResultText,
  type MessagesBody,
  startFakeAnthropic,
} from "../fakes/anthropic/index.js";
import {
  type FakePushOptions,
  type FakeSentMessage,
  type FakeTelegram,
  startFakeTelegram,
} from "../fakes/telegram/index.js";
import { type RunningCli, START_DEADLINE_MS, startCli, waitForHealth } from "./cli.js";
import { isAnnouncedAdminToken, type LeakScan } from "./leak-scan.js";
import { freePort, workerPortRange } from "./ports.js";

/** The orchestrator's own bot, as BotFather would give it (the fake knows it). */
export const BOT_TOKEN = "777001:AAH-chat-e2e-fake-bot-token_0123456789";
export const BOT_USERNAME = "orchestrator_e2e_bot";
/** The PO's model key: the fake refuses any other. */
export const MODEL_KEY = "sk-ant-chat-e2e-fake-key-0123456789abcdef";

/**
 * First port of the deploys' range. Apart from the ranges other suites use, since suites of other
 * runs may deploy on this machine at the same time (each Vitest worker takes its own block).
 */
const DEPLOY_PORT_BASE = 27_000;

/** How long one build with its deploy may take on a busy 2-core machine. */
export const BUILD_DEADLINE_MS = 180_000;

export interface TelegramChatOptions {
  /** Telegram user ids in `TELEGRAM_ADMIN_USER_IDS`. */
  admins: number[];
  /** What the scripted agent plays (`SCRIPTED_PLAYBOOK`); the demo's playbook without it. */
  playbook?: ScriptedPlaybook;
}

/** One orchestrator with its fakes, as a test drives them. */
export interface TelegramChat {
  tg: FakeTelegram;
  model: FakeAnthropic;
  /** The running `orchestrator up` (replaced by `restart`). */
  proc: RunningCli;
  baseUrl: string;
  dataDir: string;
  adminToken: string;
  /** Calls the HTTP API with the admin token; throws on a non-2xx answer. */
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** Calls a tool through `POST /api/tools/<name>` with the admin token; returns its data. */
  tool<T>(name: string, input: unknown): Promise<T>;
  /** Stops the process politely and starts it again on the same data, optionally with another playbook. */
  restart(opts?: { playbook?: ScriptedPlaybook }): Promise<void>;
  close(): Promise<void>;
}

/** Starts the fakes and `orchestrator up` with Telegram on and the PO on the Anthropic fake. */
export async function startTelegramChat(opts: TelegramChatOptions): Promise<TelegramChat> {
  const tg = await startFakeTelegram({ token: BOT_TOKEN, username: BOT_USERNAME });
  const model = await startFakeAnthropic({ apiKey: MODEL_KEY });
  const dataDir = await mkdtemp(join(tmpdir(), "chat-telegram-"));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const playbookFile = join(dataDir, "playbook.json");
  const envFor = async (playbook: ScriptedPlaybook | undefined): Promise<NodeJS.ProcessEnv> => {
    if (playbook) await writeFile(playbookFile, JSON.stringify(playbook));
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ORCHESTRATOR_DATA_DIR: dataDir,
      ORCHESTRATOR_PORT: String(port),
      LOG_LEVEL: "info",
      DEPLOY_PORT_RANGE: workerPortRange(DEPLOY_PORT_BASE).join("-"),
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      TELEGRAM_API_ROOT: tg.url,
      TELEGRAM_ADMIN_USER_IDS: opts.admins.join(","),
      ANTHROPIC_API_KEY: MODEL_KEY,
      ANTHROPIC_BASE_URL: model.url,
      ...(playbook ? { SCRIPTED_PLAYBOOK: playbookFile } : {}),
    };
  };
  const start = async (playbook: ScriptedPlaybook | undefined) => {
    const started = startCli(["up"], await envFor(playbook));
    try {
      await waitForHealth(`${baseUrl}/health`, START_DEADLINE_MS, started);
    } catch (error) {
      await started.stop("SIGKILL");
      throw error;
    }
    return started;
  };

  let proc: RunningCli | null = null;
  try {
    proc = await start(opts.playbook);
    const adminToken = (await readFile(join(dataDir, "admin.token"), "utf8")).trim();
    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return (text ? JSON.parse(text) : null) as T;
    };
    const tool = async <T>(name: string, input: unknown) =>
      (await api<{ data: T }>("POST", `/api/tools/${name}`, input)).data;
    // The agents are the scripted one, set as an admin would: through the agent_config.update tool.
    for (const node of ["architect", "developer"]) {
      await tool("agent_config.update", { node, backend: "scripted" });
    }
    // The bot is up once it polls: a message pushed now is read at once.
    await waitUntil("the bot to poll the fake", START_DEADLINE_MS, () => tg.pendingPolls() > 0);
    const chat: TelegramChat = {
      tg,
      model,
      proc,
      baseUrl,
      dataDir,
      adminToken,
      api,
      tool,
      async restart(next = {}) {
        expect0(await chat.proc.stop("SIGTERM"), chat.proc.output());
        chat.proc = await start(next.playbook ?? opts.playbook);
        await waitUntil("the bot to poll the fake again", START_DEADLINE_MS, () => tg.pendingPolls() > 0);
      },
      async close() {
        await stopPolitely(chat.proc);
        await tg.close();
        await model.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
    return chat;
  } catch (error) {
    await proc?.stop("SIGKILL");
    await tg.close();
    await model.close();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** How long a stopping orchestrator may take to end its deployed releases before it is killed. */
const STOP_DEADLINE_MS = 20_000;

/**
 * SIGTERM, then SIGKILL past the deadline. Only a polite stop ends the releases the local driver
 * started (they outlive a killed orchestrator, as they should in production).
 */
async function stopPolitely(proc: RunningCli): Promise<void> {
  const killer = setTimeout(() => proc.child.kill("SIGKILL"), STOP_DEADLINE_MS);
  try {
    await proc.stop("SIGTERM");
  } finally {
    clearTimeout(killer);
  }
}

function expect0(code: number | null, output: string): void {
  if (code !== 0) throw new Error(`orchestrator exited with ${code} on SIGTERM:\n${output.slice(-4_000)}`);
}

async function waitUntil(what: string, deadlineMs: number, ready: () => boolean): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!ready()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A model reply calling one tool. */
export function toolCall(name: string, input: Record<string, unknown>): FakeReply {
  return { toolUse: { name, input } };
}

/** A model reply calling `respond`: the words the person should get. */
export function respond(text: string): FakeReply {
  return toolCall("respond", { text });
}

/** A reply computed from the last tool result the PO sent back (parsed as JSON). */
export function afterToolResult(reply: (result: Record<string, unknown>) => FakeReply): FakeReplyFn {
  return (body: MessagesBody) => {
    const text = lastToolResultText(body);
    if (text === null) throw new Error("the request carries no tool result");
    return reply(JSON.parse(text) as Record<string, unknown>);
  };
}

/** The names of the tools a Messages request offered the model. */
export function offeredTools(body: unknown): string[] {
  return ((body as MessagesBody).tools ?? []).map((t) => t.name);
}

/** The id of the project the system prompt lists first (the newest), as the PO reads it. */
export function newestProjectId(body: MessagesBody): string {
  const system = JSON.stringify(body.system ?? "");
  const id = /The person's projects[\s\S]*?\(slug [^,]+, id ([0-9a-f-]{36})\)/.exec(system)?.[1];
  if (!id) throw new Error(`no project in the system prompt: ${system.slice(0, 500)}`);
  return id;
}

/** The person's side of one private chat: what they write, and what the bot answers them. */
export class TelegramPerson {
  constructor(
    private readonly tg: FakeTelegram,
    readonly id: number,
    readonly as: FakePushOptions = {},
  ) {}

  /** Everything the bot sent to this person, in order. */
  messages(): FakeSentMessage[] {
    return this.tg.sentMessages(this.id);
  }

  /** Writes `text` to the bot; returns the update's id. */
  write(text: string): number {
    return this.tg.pushMessage(this.id, text, this.as);
  }

  /** Writes `text`; resolves with the bot's next `count` new messages in this chat. */
  async say(text: string, count = 1, timeoutMs = 30_000): Promise<FakeSentMessage[]> {
    const before = this.messages().length;
    this.write(text);
    return (await this.tg.waitForMessages(this.id, before + count, timeoutMs)).slice(before);
  }

  /** The first message to this person matching `predicate`, now or when it comes. */
  async waitFor(
    predicate: (m: FakeSentMessage) => boolean,
    timeoutMs = BUILD_DEADLINE_MS,
  ): Promise<FakeSentMessage> {
    try {
      return await this.tg.waitForMessage((m) => m.chatId === this.id && predicate(m), timeoutMs);
    } catch (error) {
      // Say what the person did see: a failed build's message names the reason.
      const seen = this.messages().map((m) => m.text);
      throw new Error(`${(error as Error).message}; chat ${this.id} got ${JSON.stringify(seen, null, 1)}`);
    }
  }
}

/** The first http(s) link in a text. */
export function linkIn(text: string): string {
  const url = /https?:\/\/[^\s)]+/.exec(text)?.[0];
  if (!url) throw new Error(`no link in: ${text}`);
  return url;
}

/**
 * `startTelegramChat` under a leak scan: every answer its API gives is recorded from the start, and
 * the folders `up` removes once a run ends (sandboxes with the agents' transcripts, the Tester's
 * checkouts) are watched until the scan's end (`assertUpLeaksNothing`).
 */
export async function startScannedTelegramChat(
  scan: LeakScan,
  opts: TelegramChatOptions,
): Promise<TelegramChat> {
  let chat: TelegramChat | undefined;
  scan.recordResponses((url) => chat !== undefined && url.startsWith(`${chat.baseUrl}/`));
  chat = await startTelegramChat(opts);
  scan
    .watchFolder("workers", join(chat.dataDir, "workers"))
    .watchFolder("engine", join(chat.dataDir, "engine"));
  return chat;
}

/**
 * The leak scan at the end of a suite on `up`: the process is stopped first (its database is read
 * from its files, its output is whole), then its own secrets (the orchestrator's bot token, the
 * model key, the admin token, the vault key) and the suite's `extra` ones are looked for in what the
 * model was sent, the output, the data directory with its repositories, and every database column.
 */
export async function assertUpLeaksNothing(
  chat: TelegramChat,
  scan: LeakScan,
  extra: Record<string, string>,
): Promise<void> {
  await chat.proc.stop("SIGTERM");
  const vaultKey = (await readFile(join(chat.dataDir, "secret.key"), "utf8")).trim();
  scan
    .secret("orchestrator bot token", BOT_TOKEN)
    .secret("model key", MODEL_KEY)
    .secret("admin token", chat.adminToken)
    .secret("vault key", vaultKey)
    .allow("`up` hands its admin token to its operator", isAnnouncedAdminToken)
    .allow("the files that hold the admin token and the vault key (mode 0600)", (hit) =>
      ["data: admin.token", "data: secret.key"].includes(hit.where),
    )
    .modelRequests("model", chat.model.requests)
    .logs("orchestrator output", chat.proc.output());
  for (const [name, value] of Object.entries(extra)) scan.secret(name, value);
  await scan.pgliteDir("database", join(chat.dataDir, "db"));
  await scan.folder("data", chat.dataDir);
  await scan.assertClean();
}
