/**
 * Renders the telegram-bot template and runs its manifest's own commands for real (npm install reaches the
 * npm registry), then starts it as the local deploy driver would.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeTelegram, startFakeTelegram } from "../../test/fakes/telegram/index.js";
import { freePort } from "../../test/support/ports.js";
import { childEnv, installTestBuild, start, stop } from "../../test/support/template-project.js";
import { renderTemplate } from "./index.js";

describe("telegram-bot template, installed, tested and started for real", () => {
  let root = "";
  let telegram: FakeTelegram;
  const running: ChildProcess[] = [];
  const variables = { projectName: "Weather Bot", slug: "weather-bot", description: 'Says "sunny"' };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "template-telegram-bot-"));
    telegram = await startFakeTelegram({ token: "4242:int-test-token", username: "weather_bot" });
  });
  afterAll(async () => {
    await Promise.all(running.map(stop));
    await telegram.close();
    await rm(root, { recursive: true, force: true });
  });

  it("telegram-bot: its own tests pass and the started bot answers /start", {
    timeout: 240_000,
  }, async () => {
    const dir = join(root, "telegram-bot");
    const manifest = await renderTemplate({ template: "telegram-bot", into: dir, variables });
    await installTestBuild(manifest, dir);

    const bot = start(
      manifest.commands.start,
      dir,
      childEnv({ TELEGRAM_BOT_TOKEN: "4242:int-test-token", TELEGRAM_API_ROOT: telegram.url }),
    );
    running.push(bot.child);
    telegram.pushMessage(42, "/start");
    const reply = await telegram
      .waitForMessage((m) => m.chatId === 42, 30_000)
      .catch((error: unknown) => {
        throw new Error(`${String(error)}\nbot output:\n${bot.output()}`);
      });
    expect(reply.text).toBe("Hello! I am Weather Bot. Send /help to see what I can do.");
    expect(reply.token).toBe("4242:int-test-token");
    const methods = telegram.calls.map((c) => c.method);
    expect(methods).toContain("setMyCommands");
    expect(methods).toContain("getUpdates");
    expect(telegram.calls.every((c) => c.token === "4242:int-test-token")).toBe(true);
    expect(await stop(bot.child), bot.output()).toBe(0);
  });
});
