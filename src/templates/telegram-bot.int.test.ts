/**
 * Renders the telegram-bot template and runs its manifest's own commands for real (npm install reaches the
 * npm registry), then starts it as the local deploy driver would: against the fake Bot API, with DATA_DIR
 * in a temporary folder kept across a restart.
 */
import type { ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TemplateManifest } from "../../src/contracts/index.js";
import { type FakeTelegram, startFakeTelegram } from "../../test/fakes/telegram/index.js";
import {
  childEnv,
  installTestBuild,
  run,
  type Started,
  start,
  stop,
} from "../../test/support/template-project.js";
import { renderTemplate } from "./index.js";

const TOKEN = "4242:int-test-token";

/** A test file for the rendered project whose features never answer: it must fail fast, by name. */
const NEVER_ANSWERS_TEST = `import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Composer } from "grammy";
import type { BotContext } from "../src/context.js";
import { type Feature, features } from "../src/features/index.js";
import { type RunningBot, startBot } from "./acceptance/harness.js";

const mute: Feature = {
  name: "mute",
  commands: [],
  composer() {
    const composer = new Composer<BotContext>();
    composer.command("silent", () => undefined);
    composer.command("stuck", () => new Promise<void>(() => undefined));
    return composer;
  },
};

let bot: RunningBot;
before(async () => {
  bot = await startBot({}, { features: [mute, ...features] });
});
after(() => bot.stop());

test("a feature that returns without replying", async () => {
  assert.equal(await bot.ask(7, "/silent"), "hi");
});

test("a feature that never returns", async () => {
  assert.equal(await bot.ask(8, "/stuck"), "hi");
});
`;

describe("telegram-bot template, installed, tested and started for real", () => {
  let root = "";
  let dir = "";
  let manifest: TemplateManifest;
  let telegram: FakeTelegram;
  const running: ChildProcess[] = [];
  const variables = { projectName: "Weather Bot", slug: "weather-bot", description: 'Says "sunny"' };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "template-telegram-bot-"));
    dir = join(root, "telegram-bot");
    telegram = await startFakeTelegram({ token: TOKEN, username: "weather_bot" });
  });
  afterAll(async () => {
    await Promise.all(running.map(stop));
    await telegram.close();
    await rm(root, { recursive: true, force: true });
  });

  /** Starts the built bot as the deploy does, with `dataDir` as its DATA_DIR. */
  const startBot = (dataDir: string): Started => {
    const bot = start(
      manifest.commands.start,
      dir,
      childEnv({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: telegram.url, DATA_DIR: dataDir }),
    );
    running.push(bot.child);
    return bot;
  };
  /** The bot's next message in `chatId` with exactly `text` (past ones count: texts are unique here). */
  const reply = (bot: Started, chatId: number, text: string) =>
    telegram
      .waitForMessage((m) => m.chatId === chatId && m.text === text, 30_000)
      .catch((error: unknown) => {
        const seen = telegram.sentMessages(chatId).map((m) => m.text);
        throw new Error(
          `${String(error)}\nwanted ${JSON.stringify(text)}, chat ${chatId} got ${JSON.stringify(seen)}\nbot output:\n${bot.output()}`,
        );
      });

  it("telegram-bot: its own tests pass, the started bot answers /start and keeps its data across a restart", {
    timeout: 300_000,
  }, async () => {
    manifest = await renderTemplate({ template: "telegram-bot", into: dir, variables });
    expect(manifest.env.find((e) => e.name === "DATA_DIR")).toMatchObject({
      kind: "computed",
      computed: "DATA_DIR",
    });
    const testOutput = await installTestBuild(manifest, dir);
    expect(testOutput).toMatch(/^ℹ pass \d+/m);

    const dataDir = join(root, "data");
    const first = startBot(dataDir);
    telegram.pushMessage(42, "/start");
    const hello = await reply(first, 42, "Hello! I am Weather Bot. Send /help to see what I can do.");
    expect(hello.token).toBe(TOKEN);
    telegram.pushMessage(42, "/note buy milk");
    await reply(first, 42, "Noted (1): buy milk");
    const methods = telegram.calls.map((c) => c.method);
    expect(methods).toContain("setMyCommands");
    expect(methods).toContain("getUpdates");
    expect(telegram.calls.every((c) => c.token === TOKEN)).toBe(true);
    expect(await stop(first.child), first.output()).toBe(0);
    expect(JSON.parse(await readFile(join(dataDir, "notes.json"), "utf8"))).toEqual({ "42": ["buy milk"] });

    // A new process on the same DATA_DIR: the note is there, once (the stop confirmed its updates).
    const second = startBot(dataDir);
    telegram.pushMessage(42, "/notes");
    await reply(second, 42, "Your notes:\n1. buy milk");
    expect(telegram.sentMessages(42).filter((m) => m.text.startsWith("Noted"))).toHaveLength(1);
    expect(await stop(second.child), second.output()).toBe(0);
  });

  it("telegram-bot: a feature that never answers fails its test fast, by name, not the whole run", {
    timeout: 240_000,
  }, async () => {
    await mkdir(join(dir, "test"), { recursive: true });
    await writeFile(join(dir, "test", "never-answers.test.ts"), NEVER_ANSWERS_TEST);
    const started = Date.now();
    const result = await run(manifest.commands.test, dir);
    const seconds = (Date.now() - started) / 1000;
    await rm(join(dir, "test", "never-answers.test.ts"));

    expect(result.code, result.output).not.toBe(0);
    expect(result.output).toMatch(/^ℹ fail 2\s*$/m);
    for (const [name, message] of [
      ["a feature that returns without replying", '/silent" in chat 7'],
      ["a feature that never returns", '/stuck" in chat 8'],
    ] as const) {
      const failed = new RegExp(`✖ ${name} \\((\\d+(?:\\.\\d+)?)ms\\)`).exec(result.output);
      expect(failed, result.output).not.toBeNull();
      // The harness's answer deadline (5 s) fails it, far below the per-test timeout.
      expect(Number(failed?.[1])).toBeLessThan(15_000);
      expect(result.output).toContain(`the bot did not answer "${message}`);
    }
    // The other tests still ran and passed; the whole command did not hang.
    expect(result.output).not.toMatch(/^ℹ pass 0\s*$/m);
    expect(seconds, result.output).toBeLessThan(120);
  });
});
