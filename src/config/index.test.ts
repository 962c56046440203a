import { describe, expect, it } from "vitest";
import { AppError } from "../contracts/index.js";
import { ConfigError, loadConfig } from "./index.js";

describe("loadConfig", () => {
  it("gives embedded defaults with an empty environment", () => {
    const config = loadConfig({}, "embedded");
    expect(config.port).toBe(8080);
    expect(config.host).toBe("127.0.0.1");
    expect(config.dataDir.endsWith(".orchestrator")).toBe(true);
    expect(config.databaseUrl).toBeNull();
    expect(config.redisUrl).toBeNull();
  });

  it("names every missing variable in server mode", () => {
    try {
      loadConfig({}, "server");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
        "DATABASE_URL",
        "REDIS_URL",
      ]);
    }
  });

  it("is a user mistake with one code and one detail per variable, as the CLI and the API show it", () => {
    const error = (() => {
      try {
        loadConfig({ ORCHESTRATOR_PORT: "http" }, "server");
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(AppError);
    const appError = error as AppError;
    expect(appError.kind).toBe("invalid");
    expect(appError.toBody()).toEqual({
      code: "invalid_config",
      message: expect.stringMatching(
        /^invalid configuration: ORCHESTRATOR_PORT: .+; DATABASE_URL: required in server mode; REDIS_URL: required in server mode$/,
      ),
      details: [
        { path: "ORCHESTRATOR_PORT", message: expect.any(String) },
        { path: "DATABASE_URL", message: "required in server mode" },
        { path: "REDIS_URL", message: "required in server mode" },
      ],
    });
  });

  it("needs WORKER_API_URL for a serve process with workers, an engine or the chat but no API", () => {
    const env = { DATABASE_URL: "postgres://u@h/db", REDIS_URL: "redis://localhost:6379" };
    for (const roles of [["workers"], ["engine"], ["workers", "engine"], ["chat"]]) {
      try {
        loadConfig(env, "server", roles);
        expect.unreachable();
      } catch (error) {
        expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(["WORKER_API_URL"]);
      }
    }
    // With the API in the process, or the URL given, or embedded: the default stands.
    expect(loadConfig(env, "server", ["api", "engine"]).workers.apiUrl).toBe("http://127.0.0.1:8080");
    const given = loadConfig({ ...env, WORKER_API_URL: "http://api:8080" }, "server", ["workers"]);
    expect(given.workers.apiUrl).toBe("http://api:8080");
    expect(loadConfig({}, "embedded", ["engine"]).workers.apiUrl).toBe("http://127.0.0.1:8080");
    // A scheduler process reaches nobody by URL.
    expect(loadConfig(env, "server", ["scheduler"]).workers.apiUrl).toBe("http://127.0.0.1:8080");
  });

  it("names a malformed variable without echoing its value", () => {
    const env = {
      DATABASE_URL: "mysql://u:hunter2@h/db",
      REDIS_URL: "redis://localhost:6379",
      ORCHESTRATOR_PORT: "http",
    };
    try {
      loadConfig(env, "server");
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain("DATABASE_URL");
      expect(message).toContain("ORCHESTRATOR_PORT");
      expect(message).not.toContain("hunter2");
    }
  });

  it("accepts a full server configuration", () => {
    const config = loadConfig(
      { DATABASE_URL: "postgres://u@h:5432/db", REDIS_URL: "redis://h:6379/0" },
      "server",
    );
    expect(config.host).toBe("0.0.0.0");
    expect(config.databaseUrl).toBe("postgres://u@h:5432/db");
  });
});

describe("worker settings", () => {
  it("defaults the lifecycle limits", () => {
    const { workers } = loadConfig({}, "embedded");
    expect(workers).toMatchObject({
      runtime: "process",
      pausedTtlMs: 30 * 60_000,
      sessionMaxContextTokens: 150_000,
    });
    expect(workers.sessionMaxAgeMs).toBe(24 * 3_600_000);
  });
  it("sandboxes process workers by default, turns that off only with WORKER_SANDBOX=none, and names a bad value", () => {
    expect(loadConfig({}, "embedded").workers.sandbox).toBe("auto");
    expect(loadConfig({ WORKER_SANDBOX: "none" }, "embedded").workers.sandbox).toBe("none");
    for (const bad of ["off", "bwrap", "NONE", "false"]) {
      const error = (() => {
        try {
          loadConfig({ WORKER_SANDBOX: bad }, "embedded");
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        { variable: "WORKER_SANDBOX", message: expect.stringMatching(/"auto".*"none"/) },
      ]);
      expect((error as Error).message).not.toContain(bad);
    }
  });
  it("parses durations and names a bad one", () => {
    expect(loadConfig({ WORKER_PAUSED_TTL: "90s" }, "embedded").workers.pausedTtlMs).toBe(90_000);
    expect(loadConfig({ WORKER_PAUSED_TTL: "120" }, "embedded").workers.pausedTtlMs).toBe(120_000);
    expect(() => loadConfig({ WORKER_HARD_TTL: "soon" }, "embedded")).toThrow(/WORKER_HARD_TTL: a duration/);
  });
  it("deploys locally by default, to servers with DEPLOY_DRIVER=ssh-compose, and names a bad setting", () => {
    expect(loadConfig({}, "embedded").deploy).toMatchObject({
      driver: "local",
      baseImage: "node:22-bookworm-slim",
      remoteRoot: "/srv/orchestrator",
      serverCheckIntervalMs: 5 * 60_000,
      portRange: [20_000, 29_999],
    });
    expect(loadConfig({ DEPLOY_PORT_RANGE: "31000-31999" }, "embedded").deploy.portRange).toEqual([
      31_000, 31_999,
    ]);
    expect(() => loadConfig({ DEPLOY_PORT_RANGE: "9000-8000" }, "embedded")).toThrow(
      /DEPLOY_PORT_RANGE: from 1024/,
    );
    const env = {
      DEPLOY_DRIVER: "ssh-compose",
      DEPLOY_REMOTE_ROOT: "/opt/apps",
      SERVER_CHECK_INTERVAL: "1m",
    };
    expect(loadConfig(env, "embedded").deploy).toMatchObject({
      driver: "ssh-compose",
      remoteRoot: "/opt/apps",
      serverCheckIntervalMs: 60_000,
    });
    expect(() => loadConfig({ DEPLOY_DRIVER: "kubernetes" }, "embedded")).toThrow(/DEPLOY_DRIVER/);
    expect(() => loadConfig({ DEPLOY_REMOTE_ROOT: "apps" }, "embedded")).toThrow(
      /DEPLOY_REMOTE_ROOT: an absolute path/,
    );
  });
  it("takes an https webhook, and an http one only with a local Bot API server", () => {
    const bot = { TELEGRAM_BOT_TOKEN: "123456:abcdefghijklmnopqrstuvwxyz_0123" };
    const https = loadConfig(
      { ...bot, TELEGRAM_WEBHOOK_URL: "https://bot.example.com/telegram/webhook" },
      "embedded",
    );
    expect(https.chat.telegram?.webhookUrl).toBe("https://bot.example.com/telegram/webhook");
    expect(() =>
      loadConfig({ ...bot, TELEGRAM_WEBHOOK_URL: "http://bot.example.com/telegram/webhook" }, "embedded"),
    ).toThrow(/TELEGRAM_WEBHOOK_URL: Telegram sends webhooks only to https URLs/);
    const local = loadConfig(
      {
        ...bot,
        TELEGRAM_API_ROOT: "http://127.0.0.1:8081",
        TELEGRAM_WEBHOOK_URL: "http://127.0.0.1:8080/telegram/webhook",
      },
      "embedded",
    );
    expect(local.chat.telegram?.webhookUrl).toBe("http://127.0.0.1:8080/telegram/webhook");
  });
});
