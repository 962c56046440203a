// bench/chat: what the orchestrator adds to one chat turn, and what one PO turn sends the model.
// The orchestrator side is an in-process ChatModule (PGlite store in a temporary directory, its real
// TelegramChannel polling the Bot API fake, the PO on the Anthropic provider against the Anthropic
// fake). The floor, measured in the same run on the same fakes, is a bare grammY bot with the
// runner that makes the same model call through the same provider and replies: no store, no queue.
// The model answers at once with one `respond` tool call, so a turn is one model call on each side.
//   latency:    fake Telegram update pushed -> the reply's sendMessage recorded by the fake, one turn
//               at a time in one chat, orchestrator and floor alternating round by round
//   throughput: `--chats` chats in parallel, each writing its next message once answered
//   tokens:     the orchestrator's requests in the fake model's log, split into system prompt,
//               tool schemas and messages
//   npm run bench:chat -- [--turns N] [--warmup N] [--chats N] [--per-chat N]
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InProcessBus } from "../src/bus/index.js";
import { ChatModule } from "../src/chat/index.js";
import { AnthropicProvider } from "../src/llm/index.js";
import { createLogger, createMetrics, SecretRedactor } from "../src/observability/index.js";
import { BotTokens, SecretsService, telegramBotApi, Vault } from "../src/secrets/index.js";
import { openPgliteStore } from "../src/store/index.js";
import { createToolRegistry } from "../src/tools/index.js";
import { type FakeAnthropic, type MessagesBody, startFakeAnthropic } from "../test/fakes/anthropic/index.js";
import { type FakeTelegram, startFakeTelegram } from "../test/fakes/telegram/index.js";
import { type FloorBot, floorCallFrom, startFloorBot } from "./chat-floor.js";
import { latencyReport, printAims, type Round, tokenReport } from "./chat-report.js";
import { percentile } from "./stats.js";
import { recordSummary, summaryRow } from "./summary.js";

const ORCHESTRATOR_TOKEN = "700001:AAH-bench-chat-orchestrator-bot_0123";
const FLOOR_TOKEN = "700002:AAH-bench-chat-floor-bot_0123456789";
const MODEL_KEY = "sk-ant-bench-chat-0123456789abcdef";
/** Private chats (= Telegram user ids), each talking to one bot: latency, then parallel ones. */
const LATENCY_CHAT = 5_000;
const FLOOR_LATENCY_CHAT = 5_001;
const ORCHESTRATOR_CHATS_FROM = 6_000;
const FLOOR_CHATS_FROM = 7_000;
const REPLY_WAIT_MS = 30_000;

interface Options {
  turns: number;
  warmup: number;
  chats: number;
  perChat: number;
}

function optionsFromArgs(argv: string[]): Options {
  const options: Options = { turns: 200, warmup: 20, chats: 20, perChat: 10 };
  const names: Record<string, keyof Options> = {
    "--turns": "turns",
    "--warmup": "warmup",
    "--chats": "chats",
    "--per-chat": "perChat",
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes("=") ? arg.split("=", 2) : [arg, undefined];
    const key = names[flag as string];
    if (!key) {
      throw new Error(
        `unknown argument ${arg}; usage: tsx bench/chat.ts [--turns N] [--warmup N] [--chats N] [--per-chat N]`,
      );
    }
    const value = inline ?? argv[++i] ?? "";
    const n = Number(value);
    if (!Number.isInteger(n) || n < (key === "warmup" ? 0 : 1)) {
      throw new Error(
        `${flag} must be a ${key === "warmup" ? "non-negative" : "positive"} integer, not ${value}`,
      );
    }
    options[key] = n;
  }
  return options;
}

/** The words of the last person's message in a Messages request. */
function lastUserText(body: MessagesBody): string {
  const last = [...(body.messages ?? [])].reverse().find((m) => m.role === "user");
  const content = last?.content;
  if (typeof content === "string") return content;
  const texts = Array.isArray(content)
    ? (content as { type?: string; text?: string }[])
        .filter((b) => b.type === "text")
        .map((b) => b.text ?? "")
    : [];
  return texts.at(-1) ?? "";
}

/** What the model answers to `text`, and so what the person should get. */
const answerTo = (text: string) => `Noted: ${text.slice(0, 60)}`;

/** A fake model that answers every conversation request at once with one `respond` call. */
async function respondingModel(): Promise<FakeAnthropic> {
  const model = await startFakeAnthropic({ apiKey: MODEL_KEY });
  // Each reply is computed from the request it answers and queues the next one: the script never ends.
  const reply = (body: MessagesBody) => {
    model.enqueue(reply);
    return { toolUse: { name: "respond", input: { text: answerTo(lastUserText(body)) } } };
  };
  model.enqueue(reply);
  return model;
}

/** Waits until the bot holds a long poll open (it is ready to read the next update at once). */
async function polling(tg: FakeTelegram, token: string): Promise<void> {
  const end = Date.now() + REPLY_WAIT_MS;
  while (tg.pendingPolls(token) === 0) {
    if (Date.now() > end) throw new Error("bench/chat: the bot does not poll the fake");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** One turn: pushes `text` to the bot in `chat`, resolves with ms until its reply was recorded. */
async function turn(tg: FakeTelegram, token: string, chat: number, text: string, misses: string[]) {
  const before = tg.sentMessages(chat).length;
  const started = performance.now();
  tg.pushMessage(chat, text, { token, firstName: "Bench", languageCode: "en" });
  const sent = await tg.waitForMessages(chat, before + 1, REPLY_WAIT_MS);
  const ms = performance.now() - started;
  const reply = sent.at(-1)?.text ?? "";
  if (reply !== answerTo(text))
    misses.push(`chat ${chat}: ${JSON.stringify(text)} -> ${JSON.stringify(reply)}`);
  return ms;
}

/** `chats` chats at once, each writing `perChat` messages one after the other; turns per second. */
async function throughput(
  run: (chat: number, text: string) => Promise<number>,
  chatsFrom: number,
  opts: Options,
): Promise<number> {
  const chats = Array.from({ length: opts.chats }, (_, i) => chatsFrom + i);
  // First contact (a new user and conversation) is not what the rate is about.
  await Promise.all(chats.map((chat) => run(chat, `hello from chat ${chat}`)));
  const started = performance.now();
  await Promise.all(
    chats.map(async (chat) => {
      for (let i = 0; i < opts.perChat; i++) await run(chat, `parallel message ${i} in chat ${chat}`);
    }),
  );
  return (opts.chats * opts.perChat) / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const opts = optionsFromArgs(process.argv.slice(2));
  const misses: string[] = [];
  const tg = await startFakeTelegram({ token: ORCHESTRATOR_TOKEN, username: "bench_orchestrator_bot" });
  tg.addBot({ token: FLOOR_TOKEN, username: "bench_floor_bot" });
  const poModel = await respondingModel();
  const floorModel = await respondingModel();
  const scratch = await mkdtemp(join(tmpdir(), "bench-chat-"));
  const store = await openPgliteStore(scratch);
  const bus = new InProcessBus();
  const redactor = new SecretRedactor();
  const logger = createLogger({ level: "warn", redactor, destination: process.stderr });
  const tools = createToolRegistry();
  const secrets = new SecretsService({ store, vault: new Vault(randomBytes(32)), redactor });
  const admins = [
    LATENCY_CHAT,
    ...Array.from({ length: opts.chats }, (_, i) => ORCHESTRATOR_CHATS_FROM + i),
  ].map(String);
  const chat = new ChatModule({
    config: {
      llm: { anthropicBaseUrl: poModel.url, openaiBaseUrl: null, gatewayTimeoutMs: 120_000, credentials: {} },
      chat: {
        telegram: { token: ORCHESTRATOR_TOKEN, webhookUrl: null, webhookSecret: null, admins },
        poProvider: "anthropic",
        poTurnTimeoutMs: 90_000,
      },
      telegramApiRoot: tg.url,
    },
    apiUrl: "http://127.0.0.1:1",
    store,
    bus,
    tools,
    services: { store, bus, logger },
    metrics: createMetrics(),
    logger,
    holder: `bench-chat-${process.pid}`,
    secrets,
    bots: new BotTokens({ store, secrets, telegram: telegramBotApi(tg.url), logger }),
    demo: false,
    provider: new AnthropicProvider({ apiKey: MODEL_KEY, baseUrl: poModel.url, maxRetries: 0 }),
  });
  let floor: FloorBot | null = null;
  try {
    await chat.start();
    const orchestratorTurn = async (chatId: number, text: string) => {
      await polling(tg, ORCHESTRATOR_TOKEN);
      return turn(tg, ORCHESTRATOR_TOKEN, chatId, text, misses);
    };
    const floorTurn = async (chatId: number, text: string) => {
      await polling(tg, FLOOR_TOKEN);
      return turn(tg, FLOOR_TOKEN, chatId, text, misses);
    };
    const brief = (i: number) => `make me a Telegram bot that tells the weather in city number ${i}`;

    // The orchestrator's first request gives the floor its call: the same system prompt and tools.
    await orchestratorTurn(LATENCY_CHAT, brief(0));
    await chat.drained();
    const first = poModel.conversation()[0];
    if (!first) throw new Error("bench/chat: the PO made no model call");
    floor = await startFloorBot({
      token: FLOOR_TOKEN,
      apiRoot: tg.url,
      provider: new AnthropicProvider({ apiKey: MODEL_KEY, baseUrl: floorModel.url, maxRetries: 0 }),
      call: floorCallFrom(first.body),
    });

    const rounds: Round[] = [];
    for (let i = 1; i <= opts.warmup + opts.turns; i++) {
      const floorMs = await floorTurn(FLOOR_LATENCY_CHAT, brief(i));
      const orchestratorMs = await orchestratorTurn(LATENCY_CHAT, brief(i));
      // What the orchestrator does after the reply (marking it delivered) is not the floor's turn.
      await chat.drained();
      if (i > opts.warmup) rounds.push({ orchestrator: orchestratorMs, floor: floorMs });
    }
    const measuredRequests = poModel.conversation().slice(-opts.turns);
    console.error(`latency: ${rounds.length} rounds done; throughput with ${opts.chats} chats in parallel`);

    const orchestratorRate = await throughput(orchestratorTurn, ORCHESTRATOR_CHATS_FROM, opts);
    await chat.drained();
    const floorRate = await throughput(floorTurn, FLOOR_CHATS_FROM, opts);

    const aims = [
      ...latencyReport(opts, rounds, { orchestrator: orchestratorRate, floor: floorRate }),
      ...(await tokenReport(
        first.body,
        measuredRequests.map((r) => r.body),
      )),
    ];
    if (misses.length > 0) {
      console.log(
        `\n${misses.length} replies were not the model's words, e.g. ${misses.slice(0, 3).join("; ")}`,
      );
    }
    printAims(aims);
    const p50 = (pick: (r: Round) => number) => percentile(rounds.map(pick), 50);
    await recordSummary([
      summaryRow({
        bench: "chat",
        measure: "chat turn latency p50 (update -> reply)",
        unit: "ms",
        value: p50((r) => r.orchestrator),
        baselineLabel: "bare grammY bot, same model call",
        baseline: p50((r) => r.floor),
      }),
      summaryRow({
        bench: "chat",
        measure: `chat turns/s, ${opts.chats} chats in parallel`,
        unit: "turns/s",
        value: orchestratorRate,
        baselineLabel: "bare grammY bot, same model call",
        baseline: floorRate,
      }),
    ]);
  } finally {
    await floor?.stop();
    await chat.stop();
    await bus.close();
    await store.close();
    await tg.close();
    await poModel.close();
    await floorModel.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
