/**
 * Renders each built-in template and runs its manifest's own commands for real (npm install reaches
 * the npm registry), then starts it: the web service must answer its health path, the bot must
 * answer /start through the fake Telegram Bot API.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeTelegram, startFakeTelegram } from "../../test/fakes/telegram/index.js";
import { freePort } from "../../test/support/ports.js";
import type { Argv, TemplateManifest } from "../contracts/index.js";
import { renderTemplate } from "./index.js";

const INSTALL_AND_TEST_MS = 150_000;
const STOP_DEADLINE_MS = 5_000;
/** What the rendered project's commands inherit from us; everything else is left out. */
const PASSED_ENV = [
  "PATH",
  "HOME",
  "LANG",
  "NODE_EXTRA_CA_CERTS",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
];

function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of PASSED_ENV) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

/** Starts `argv` in its own process group, output collected. */
function start(
  argv: Argv,
  cwd: string,
  env: Record<string, string>,
): { child: ChildProcess; output: () => string } {
  const [program, ...args] = argv;
  const child = spawn(program ?? "false", args, {
    cwd,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  return { child, output: () => output };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** SIGTERM to the group, SIGKILL after the deadline; resolves with the exit code. */
async function stop(child: ChildProcess): Promise<number | null> {
  const done = exited(child);
  const signal = (name: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, name);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), STOP_DEADLINE_MS);
  const code = await done;
  clearTimeout(timer);
  return code;
}

/** Runs a command to completion (killed at the deadline); returns its exit code and output. */
async function run(
  argv: Argv,
  cwd: string,
  env = childEnv(),
): Promise<{ code: number | null; output: string }> {
  const { child, output } = start(argv, cwd, env);
  const timer = setTimeout(() => void stop(child), INSTALL_AND_TEST_MS);
  const code = await exited(child);
  clearTimeout(timer);
  return { code, output: output() };
}

async function installTestBuild(manifest: TemplateManifest, dir: string): Promise<void> {
  const install = await run(manifest.commands.install, dir);
  expect(install.code, install.output).toBe(0);
  const test = await run(manifest.commands.test, dir);
  expect(test.code, test.output).toBe(0);
  expect(test.output).toMatch(/# fail 0/);
  expect(test.output).not.toMatch(/# pass 0\b/);
  if (manifest.commands.build) {
    const build = await run(manifest.commands.build, dir);
    expect(build.code, build.output).toBe(0);
  }
}

describe("built-in templates, installed, tested and started for real", () => {
  let root = "";
  let telegram: FakeTelegram;
  const running: ChildProcess[] = [];
  const variables = { projectName: "Weather Bot", slug: "weather-bot", description: 'Says "sunny"' };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "templates-int-"));
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

  it("web-service: its own tests pass and the started service answers its health path", {
    timeout: 240_000,
  }, async () => {
    const dir = join(root, "web-service");
    const manifest = await renderTemplate({ template: "web-service", into: dir, variables });
    await installTestBuild(manifest, dir);
    if (manifest.healthCheck.kind !== "http") throw new Error("web-service must have an http health check");

    const port = await freePort();
    const service = start(manifest.commands.start, dir, childEnv({ PORT: String(port), APP_ENV: "test" }));
    running.push(service.child);
    const url = `http://127.0.0.1:${port}${manifest.healthCheck.path}`;
    let body: unknown;
    // Bounded wait for the service to listen (the deploy health gate does the same, harder).
    for (let attempt = 0; attempt < 100 && body === undefined; attempt++) {
      body = await fetch(url)
        .then((res) => (res.ok ? res.json() : undefined))
        .catch(() => undefined);
      if (body === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(body, service.output()).toEqual({ status: "ok", env: "test" });
    expect(await stop(service.child), service.output()).toBe(0);
  });
});
