/**
 * Playbooks for the scripted agent in the chat suites. A playbook holds one script per stage, the
 * same for a build and for a change, so the change-aware one decides by what the repository holds,
 * as an agent reading it would: the Architect asks for `/api/time` in a new repository and for
 * `/api/date` once `/api/time` is there; the Developer adds what the acceptance tests ask for.
 */
import {
  architectScript,
  developerScript,
  type ScriptedPlaybook,
  timeAcceptanceFiles,
  timeRouteFiles,
} from "../../src/demo/index.js";

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

/** `GET /api/date`: today's date in UTC, with its unit test, registered beside `/api/time`. */
function dateRouteFiles(): Files {
  const time = timeRouteFiles();
  const routes = (time["src/routes.ts"] ?? "")
    .replace(
      'import { timeRoute } from "./time.js";',
      'import { dateRoute } from "./date.js";\nimport { timeRoute } from "./time.js";',
    )
    .replace("  timeRoute,\n", "  timeRoute,\n  dateRoute,\n");
  if (!routes.includes("dateRoute,")) throw new Error("the demo's routes.ts changed: update dateRouteFiles");
  return {
    ...time,
    "src/routes.ts": routes,
    "src/date.ts": [
      'import type { Route } from "./routes.js";',
      "",
      "/** GET /api/date: today's date in UTC (YYYY-MM-DD). */",
      "export const dateRoute: Route = {",
      '  method: "GET",',
      '  path: "/api/date",',
      "  handle: () => ({ status: 200, body: { date: new Date().toISOString().slice(0, 10) } }),",
      "};",
      "",
    ].join("\n"),
    "test/date.test.ts": [
      'import assert from "node:assert/strict";',
      'import { test } from "node:test";',
      'import { dateRoute } from "../src/date.js";',
      "",
      'test("GET /api/date answers today", async () => {',
      '  const result = await dateRoute.handle(new URL("http://x/api/date"), { port: 0, appEnv: "test", publicUrl: undefined });',
      "  assert.equal(result.status, 200);",
      "  assert.match(String((result.body as { date: string }).date), /^\\d{4}-\\d{2}-\\d{2}$/);",
      "});",
      "",
    ].join("\n"),
  };
}

function dateAcceptanceFiles(): Files {
  return {
    "test/acceptance/date.test.ts": [
      'import assert from "node:assert/strict";',
      'import { after, before, test } from "node:test";',
      'import { type Service, startService } from "./harness.js";',
      "",
      "let service: Service;",
      "before(async () => {",
      "  service = await startService();",
      "});",
      "after(() => service.stop());",
      "",
      'test("GET /api/date answers today in UTC", async () => {',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source the architect writes
      "  const res = await fetch(`${service.url}/api/date`);",
      "  assert.equal(res.status, 200);",
      "  const { date } = (await res.json()) as { date: string };",
      "  assert.equal(date, new Date().toISOString().slice(0, 10));",
      "});",
      "",
    ].join("\n"),
  };
}

/** Builds the time service, and on a change adds `GET /api/date`; green on the first attempt both times. */
export function changeAwarePlaybook(): ScriptedPlaybook {
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
        writeByMarker("test/acceptance/time.test.ts", dateAcceptanceFiles(), timeAcceptanceFiles()),
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
          writeByMarker("test/acceptance/date.test.ts", dateRouteFiles(), timeRouteFiles()),
          ...developerScript({}, "Add what the acceptance tests ask for").steps,
        ],
      },
    ],
  };
}

/** The developer asks `question` and stops: the run ends blocked until the person answers. */
export function blockingPlaybook(question: string): ScriptedPlaybook {
  const green = changeAwarePlaybook();
  return {
    architect: green.architect,
    developer: [{ steps: [{ report: { status: "blocked", summary: "needs a decision", question } }] }],
  };
}

/** Builds a Telegram bot that answers /start and /help (its acceptance test asks /help); green at once. */
export function botPlaybook(): ScriptedPlaybook {
  const helpAcceptance = [
    'import assert from "node:assert/strict";',
    'import { after, before, test } from "node:test";',
    'import { type RunningBot, startBot } from "./harness.js";',
    "",
    "let bot: RunningBot;",
    "before(async () => {",
    "  bot = await startBot();",
    "});",
    "after(() => bot.stop());",
    "",
    'test("/help lists /start", async () => {',
    '  assert.match(await bot.ask(7, "/help"), /\\/start/);',
    "});",
    "",
  ].join("\n");
  return {
    architect: architectScript("telegram-bot", ["/start greets the person"], {
      "test/acceptance/help.test.ts": helpAcceptance,
    }),
    developer: [
      developerScript({ "src/about.ts": 'export const ABOUT = "Greets on /start.";\n' }, "Describe the bot"),
    ],
  };
}
