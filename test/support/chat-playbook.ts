/**
 * Playbooks for the scripted agent in the chat suites, on the light project (test/support/light-project.ts)
 * but for the todo bot, which keeps the real telegram-bot template going through the whole pipeline.
 * A playbook holds one script per stage, the same for a build and for a change, so the change-aware
 * one decides by what the repository holds, as an agent reading it would: the Architect asks for
 * `/api/time` in a new repository and for `/api/date` once `/api/time` is there; the Developer adds
 * what the acceptance tests ask for.
 */
import { architectScript, developerScript, type ScriptedPlaybook } from "../../src/demo/index.js";
import {
  ACCEPTANCE_RUNNER,
  LIGHT_ACCEPTANCE_TEST,
  lightAcceptanceFiles,
  lightServiceFiles,
} from "./light-project.js";

/** A Node program run in the workspace: writes `present` when `marker` exists, else `absent`. */
const WRITE_BY_MARKER = [
  'const fs = require("node:fs");',
  'const path = require("node:path");',
  "const { marker, present, absent } = JSON.parse(process.argv[1]);",
  "for (const [file, content] of Object.entries(fs.existsSync(marker) ? present : absent)) {",
  "  fs.mkdirSync(path.dirname(file), { recursive: true });",
  "  fs.writeFileSync(file, content);",
  "}",
].join("\n");

type Files = Record<string, string>;
type Script = ScriptedPlaybook["architect"];

/** A step that writes one set of files or the other, by whether `marker` exists in the workspace. */
function writeByMarker(marker: string, present: Files, absent: Files): Script["steps"][number] {
  // The agent runs in a sandbox that sees this Node binary at the same path.
  return {
    run: { argv: [process.execPath, "-e", WRITE_BY_MARKER, JSON.stringify({ marker, present, absent })] },
  };
}

/**
 * A todo bot: /todo <item> keeps an item, /todos lists them, kept in the bot's store on DATA_DIR
 * (the acceptance test restarts the bot on the same folder and finds the list); green at once.
 */
export function todoBotPlaybook(): ScriptedPlaybook {
  const acceptance = [
    'import assert from "node:assert/strict";',
    'import { mkdtemp } from "node:fs/promises";',
    'import { tmpdir } from "node:os";',
    'import { join } from "node:path";',
    'import { test } from "node:test";',
    'import { startBot } from "./harness.js";',
    "",
    'test("the todo list survives a restart", async () => {',
    '  const dataDir = await mkdtemp(join(tmpdir(), "todo-"));',
    "  const first = await startBot({ DATA_DIR: dataDir });",
    '  assert.match(await first.ask(5, "/todo buy milk"), /buy milk/);',
    "  await first.stop();",
    "  const second = await startBot({ DATA_DIR: dataDir });",
    '  assert.match(await second.ask(5, "/todos"), /1\\. buy milk/);',
    "  await second.stop();",
    "});",
    "",
  ].join("\n");
  const feature = [
    'import { Composer } from "grammy";',
    'import type { BotContext } from "../context.js";',
    'import type { Feature } from "./feature.js";',
    "",
    "/** /todo <item> keeps an item, /todos lists them (kept in the notes store under todo:<chat>). */",
    "export const todo: Feature = {",
    '  name: "todo",',
    "  commands: [",
    '    { command: "todo", description: "Add to your list: /todo <item>" },',
    '    { command: "todos", description: "Show your list" },',
    "  ],",
    "  composer({ stores }) {",
    "    const composer = new Composer<BotContext>();",
    "    const key = (ctx: BotContext) => `todo:${ctx.chat?.id}`;",
    '    composer.command("todo", async (ctx) => {',
    "      const item = ctx.match.trim();",
    '      if (!item) return ctx.reply("Send /todo <item>.");',
    "      const list = [...(stores.notes.get(key(ctx)) ?? []), item];",
    "      await stores.notes.set(key(ctx), list);",
    "      return ctx.reply(`Added: ${item}`);",
    "    });",
    '    composer.command("todos", (ctx) => {',
    "      const list = stores.notes.get(key(ctx)) ?? [];",
    '      return ctx.reply(list.length ? list.map((item, i) => `${i + 1}. ${item}`).join("\\n") : "Your list is empty.");',
    "    });",
    "    return composer;",
    "  },",
    "};",
    "",
  ].join("\n");
  const index = [
    'import type { Feature } from "./feature.js";',
    'import { help } from "./help.js";',
    'import { notes } from "./notes.js";',
    'import { profile } from "./profile.js";',
    'import { quote } from "./quote.js";',
    'import { start } from "./start.js";',
    'import { todo } from "./todo.js";',
    "",
    'export type { Feature } from "./feature.js";',
    "",
    "/** Every feature of the bot, in registration order; `help` last so it lists them all. */",
    "export const features: Feature[] = [start, todo, notes, profile, quote];",
    "features.push(help(() => features));",
    "",
  ].join("\n");
  return {
    architect: architectScript("telegram-bot", ["/todo keeps a list that survives restarts"], {
      "test/acceptance/todo.test.ts": acceptance,
    }),
    developer: [
      developerScript(
        { "src/features/todo.ts": feature, "src/features/index.ts": index },
        "Add /todo and /todos, kept on DATA_DIR",
      ),
    ],
  };
}

/*
 * The light counterparts (test/support/light-project.ts): the same journeys in plain JavaScript
 * without dependencies, so a Tester round and a deploy cost about a second of CPU instead of npm,
 * tsc, Fastify or grammY. For suites whose point is the chat, not the templates' own code.
 */

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** A package without dependencies: its own tests under node's test runner, built by copying `src/`. */
function lightPackage(name: string, tests: string[]): Files {
  return {
    "package.json": json({
      name,
      version: "0.1.0",
      private: true,
      type: "module",
      scripts: {
        test: `node --test ${tests.join(" ")}`,
        build: "mkdir -p dist/src && cp src/*.mjs dist/src/ && mv dist/src/main.mjs dist/src/main.js",
        start: "node dist/src/main.js",
      },
    }),
    "package-lock.json": json({
      name,
      version: "0.1.0",
      lockfileVersion: 3,
      requires: true,
      packages: { "": { name, version: "0.1.0" } },
    }),
  };
}

/** The light service's entry point: the routes of `src/routes.mjs`, 404 for any other path. */
const LIGHT_ROUTED_MAIN = [
  'import { createServer } from "node:http";',
  'import { routes } from "./routes.mjs";',
  "const server = createServer((req, res) => {",
  "  const answer = routes[req.url];",
  '  res.writeHead(answer ? 200 : 404, { "content-type": "application/json" });',
  '  res.end(JSON.stringify(answer ? answer() : { error: "not found" }));',
  "});",
  'server.listen(Number(process.env.PORT ?? 3000), process.env.HOST || "0.0.0.0");',
  'process.on("SIGTERM", () => server.close(() => process.exit(0)));',
  "",
].join("\n");

/** The light time service (`GET /health`, `GET /api/time`), and with `date` also `GET /api/date`. */
function lightRoutedServiceFiles(date: boolean): Files {
  const service = lightServiceFiles();
  const files: Files = {
    ...lightPackage(
      "light-service",
      date ? ["test/time.test.mjs", "test/date.test.mjs"] : ["test/time.test.mjs"],
    ),
    "src/time.mjs": service["src/time.mjs"] ?? "",
    "test/time.test.mjs": service["test/time.test.mjs"] ?? "",
    "src/main.mjs": LIGHT_ROUTED_MAIN,
    "src/routes.mjs": [
      'import { currentTime } from "./time.mjs";',
      ...(date ? ['import { currentDate } from "./date.mjs";'] : []),
      "/** Every route the service answers, by path. */",
      "export const routes = {",
      '  "/health": () => ({ status: "ok" }),',
      '  "/api/time": () => currentTime(),',
      ...(date ? ['  "/api/date": () => currentDate(),'] : []),
      "};",
      "",
    ].join("\n"),
  };
  if (!date) return files;
  return {
    ...files,
    "src/date.mjs": [
      "/** Today's date in UTC (YYYY-MM-DD), as GET /api/date answers it. */",
      "export const currentDate = () => ({ date: new Date().toISOString().slice(0, 10) });",
      "",
    ].join("\n"),
    "test/date.test.mjs": [
      'import assert from "node:assert/strict";',
      'import { test } from "node:test";',
      'import { currentDate } from "../src/date.mjs";',
      "",
      'test("the date is YYYY-MM-DD", () => {',
      "  assert.match(currentDate().date, /^\\d{4}-\\d{2}-\\d{2}$/);",
      "});",
      "",
    ].join("\n"),
  };
}

/** The light acceptance test a change adds: the date the service tells is today in UTC. */
const LIGHT_DATE_ACCEPTANCE: Files = {
  "test/acceptance/date.test.mjs": [
    'import assert from "node:assert/strict";',
    'import { test } from "node:test";',
    'import { currentDate } from "../../src/date.mjs";',
    "",
    'test("the service tells today\'s date in UTC", () => {',
    "  assert.equal(currentDate().date, new Date().toISOString().slice(0, 10));",
    "});",
    "",
  ].join("\n"),
};

/**
 * `changeAwarePlaybook` on the light project: builds the time service, and on a change adds
 * `GET /api/date`; green on the first attempt both times.
 */
export function lightChangeAwarePlaybook(): ScriptedPlaybook {
  const spec = architectScript(
    "web-service",
    ["GET /health answers ok", "GET /api/time answers the current time", "GET /api/date, once asked for"],
    {},
  );
  const specSteps = spec.steps.filter((step) => !("report" in step));
  return {
    architect: {
      steps: [
        ...specSteps,
        writeByMarker(LIGHT_ACCEPTANCE_TEST, LIGHT_DATE_ACCEPTANCE, lightAcceptanceFiles()),
        {
          report: {
            status: "complete",
            summary: "SPEC.md and acceptance tests written; template web-service",
          },
        },
      ],
    },
    developer: [
      {
        steps: [
          writeByMarker(
            "test/acceptance/date.test.mjs",
            lightRoutedServiceFiles(true),
            lightRoutedServiceFiles(false),
          ),
          ...developerScript({}, "Add what the acceptance tests ask for").steps,
        ],
      },
    ],
  };
}

/** The developer asks `question` and stops: the run ends blocked until the person answers. */
export function lightBlockingPlaybook(question: string): ScriptedPlaybook {
  const green = lightChangeAwarePlaybook();
  return {
    architect: green.architect,
    developer: [{ steps: [{ report: { status: "blocked", summary: "needs a decision", question } }] }],
  };
}

/**
 * What the light bot answers, by the text it is sent: a greeting on /start, its commands on /help,
 * nothing otherwise.
 */
const LIGHT_BOT_ANSWERS = [
  "/** The bot's answer to a message's text, or null when it has none. */",
  "export function answer(text) {",
  '  const command = text.trim().split(/\\s+/)[0]?.split("@")[0];',
  '  if (command === "/start") return "Hello! I greet you on /start. Send /help to see what I can do.";',
  '  if (command === "/help") return "/start: a greeting\\n/help: this help";',
  "  return null;",
  "}",
  "",
].join("\n");

/**
 * The light bot's process, as the telegram-bot template's start command runs it: long polling of
 * the Bot API at TELEGRAM_API_ROOT with TELEGRAM_BOT_TOKEN, each answer sent to the message's chat.
 */
const LIGHT_BOT_MAIN = [
  'import { answer } from "./bot.mjs";',
  'const root = (process.env.TELEGRAM_API_ROOT || "https://api.telegram.org").replace(/\\/+$/, "");',
  "const base = `${root}/bot${process.env.TELEGRAM_BOT_TOKEN}`;",
  "async function call(method, params) {",
  "  const res = await fetch(`${base}/${method}`, {",
  '    method: "POST",',
  '    headers: { "content-type": "application/json" },',
  "    body: JSON.stringify(params),",
  "  });",
  "  const body = await res.json();",
  // The description only: the token is in the URL, which an error must not carry.
  "  if (!body.ok) throw new Error(`${method} refused: ${body.description}`);",
  "  return body.result;",
  "}",
  'process.on("SIGTERM", () => process.exit(0));',
  "let offset = 0;",
  "for (;;) {",
  "  try {",
  '    const updates = await call("getUpdates", { offset, timeout: 10 });',
  "    for (const update of updates) {",
  "      offset = update.update_id + 1;",
  "      const text = update.message?.text;",
  "      const reply = text ? answer(text) : null;",
  '      if (reply) await call("sendMessage", { chat_id: update.message.chat.id, text: reply });',
  "    }",
  "  } catch (error) {",
  "    console.error(String(error));",
  "    await new Promise((resolve) => setTimeout(resolve, 1_000));",
  "  }",
  "}",
  "",
].join("\n");

/**
 * `botPlaybook` on the light project: a bot on the telegram-bot template that answers /start and
 * /help (its acceptance test asks /help), in plain JavaScript polling the Bot API with fetch;
 * green at once.
 */
export function lightBotPlaybook(): ScriptedPlaybook {
  const helpAcceptance = [
    'import assert from "node:assert/strict";',
    'import { test } from "node:test";',
    'import { answer } from "../../src/bot.mjs";',
    "",
    'test("/help lists /start", () => {',
    '  assert.match(answer("/help") ?? "", /\\/start/);',
    "});",
    "",
  ].join("\n");
  const files: Files = {
    ...lightPackage("light-bot", ["test/bot.test.mjs"]),
    "src/bot.mjs": LIGHT_BOT_ANSWERS,
    "src/main.mjs": LIGHT_BOT_MAIN,
    "test/bot.test.mjs": [
      'import assert from "node:assert/strict";',
      'import { test } from "node:test";',
      'import { answer } from "../src/bot.mjs";',
      "",
      'test("/start greets", () => {',
      '  assert.match(answer("/start") ?? "", /^Hello!/);',
      "});",
      "",
    ].join("\n"),
  };
  return {
    architect: architectScript("telegram-bot", ["/start greets the person"], {
      "test/acceptance/run.mjs": ACCEPTANCE_RUNNER,
      "test/acceptance/help.test.mjs": helpAcceptance,
    }),
    developer: [developerScript(files, "Add the bot: /start greets, /help lists the commands")],
  };
}
