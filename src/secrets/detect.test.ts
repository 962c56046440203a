import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { findSecrets, scrubSecrets } from "./detect.js";

// Shapes of real credentials, made up here (none of them works anywhere).
const BOT = "7012345678:AAHk3f9Qx_2LmN8pRtVw-4YzBc6DeFgHiJk";
const OTHER_BOT = "6098765432:AAG1b2C3d4E5f6G7h8I9j0K-LmNoPqRsTuV";
const ANTHROPIC = "sk-ant-api03-Xk29fPq8LmZr4Tn7Wv2Yb6Hc1Jd5Ke3Gs0Ua";
const OPENAI = "sk-proj-4fT9qLz2Wm8Rx6Vb1Nc7Hd3Jk5Pg0Ys";
const GITHUB = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
const GITHUB_PAT = `github_pat_11ABCDEFG0${"aB3dE5gH7j".repeat(7)}`;
const AWS = "AKIAIOSFODNN7EXAMPLE";
const SLACK = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp";
const PEM = [
  "-----BEGIN OPENSSH PRIVATE KEY-----",
  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
  "QyNTUxOQAAACB4n0tAReALkEyBuTsHaPeDlIkEoNe==",
  "-----END OPENSSH PRIVATE KEY-----",
].join("\n");

const names = (text: string) => findSecrets(text).map((s) => [s.name, s.value]);

describe("finding secrets in a message", () => {
  it("takes a Telegram bot token out of a sentence, wherever it stands", () => {
    const scrubbed = scrubSecrets(`here is my bot token: ${BOT}. Make it tell the weather`);
    expect(scrubbed.text).toBe("here is my bot token: [secret TELEGRAM_BOT_TOKEN]. Make it tell the weather");
    expect(scrubbed.secrets).toEqual([
      expect.objectContaining({ name: "TELEGRAM_BOT_TOKEN", kind: "telegram_bot_token", value: BOT }),
    ]);
    expect(names(`(${BOT})`)).toEqual([["TELEGRAM_BOT_TOKEN", BOT]]);
    expect(names(BOT)).toEqual([["TELEGRAM_BOT_TOKEN", BOT]]);
  });

  it("knows the common API-key shapes by name", () => {
    const text = [
      `anthropic ${ANTHROPIC}`,
      `openai ${OPENAI}`,
      `github ${GITHUB} and ${GITHUB_PAT}`,
      `aws ${AWS}`,
      `slack ${SLACK}`,
    ].join("\n");
    expect(names(text)).toEqual([
      ["ANTHROPIC_API_KEY", ANTHROPIC],
      ["OPENAI_API_KEY", OPENAI],
      ["GITHUB_TOKEN", GITHUB],
      ["GITHUB_TOKEN_2", GITHUB_PAT],
      ["AWS_ACCESS_KEY_ID", AWS],
      ["SLACK_TOKEN", SLACK],
    ]);
  });

  it("takes a PEM private key out whole, across its lines", () => {
    const scrubbed = scrubSecrets(`use this key:\n${PEM}\nthanks`);
    expect(scrubbed.text).toBe("use this key:\n[secret PRIVATE_KEY]\nthanks");
    expect(scrubbed.secrets[0]?.value).toBe(PEM);
  });

  it("names a random value after its variable in NAME=value lines", () => {
    const text = [
      "WEATHER_API_KEY=f3a9c2e7b1d84f60a5c9e2b7d3f1a8c4",
      "export DB_PASSWORD='Xq7!mZ2#pL9$wR4v'",
      `OPENAI_API_KEY=${OPENAI}`,
      "CITY=London",
      "MODE=production_release_build",
      "HOMEPAGE=https://example.com/a/very/long/path/indeed",
    ].join("\n");
    expect(names(text)).toEqual([
      ["WEATHER_API_KEY", "f3a9c2e7b1d84f60a5c9e2b7d3f1a8c4"],
      ["DB_PASSWORD", "Xq7!mZ2#pL9$wR4v"],
      ["OPENAI_API_KEY", OPENAI],
    ]);
    expect(scrubSecrets(text).text.split("\n").slice(0, 3)).toEqual([
      "WEATHER_API_KEY=[secret WEATHER_API_KEY]",
      "export DB_PASSWORD='[secret DB_PASSWORD]'",
      "OPENAI_API_KEY=[secret OPENAI_API_KEY]",
    ]);
  });

  it("takes every random hex key under a name that says key, however its characters happen to spread", () => {
    // This one spreads over 3.36 bits per character only: under the bar for a name that says nothing.
    expect(names("MAPS_API_KEY=Mpeeef3e763d051e4933c3db3d31ddeefd")).toEqual([
      ["MAPS_API_KEY", "Mpeeef3e763d051e4933c3db3d31ddeefd"],
    ]);
    expect(names("MAPS=Mpeeef3e763d051e4933c3db3d31ddeefd")).toEqual([]);
    for (let i = 0; i < 5_000; i++) {
      const key = randomBytes(16).toString("hex");
      expect(names(`SERVICE_TOKEN=${key}`), key).toEqual([["SERVICE_TOKEN", key]]);
    }
  });

  it("gives two values of one kind two names, and one value pasted twice one name", () => {
    const scrubbed = scrubSecrets(`old ${BOT}, new ${OTHER_BOT}, again ${BOT}`);
    expect(scrubbed.text).toBe(
      "old [secret TELEGRAM_BOT_TOKEN], new [secret TELEGRAM_BOT_TOKEN_2], again [secret TELEGRAM_BOT_TOKEN]",
    );
    expect(scrubbed.secrets.map((s) => s.name)).toEqual([
      "TELEGRAM_BOT_TOKEN",
      "TELEGRAM_BOT_TOKEN_2",
      "TELEGRAM_BOT_TOKEN",
    ]);
  });

  it("keeps the rest of a long message as it was", () => {
    const before = "I want a bot for my bakery. ".repeat(40);
    const after = " It should list today's bread and take orders until 18:00.".repeat(20);
    const scrubbed = scrubSecrets(`${before}${BOT}${after}`);
    expect(scrubbed.text).toBe(`${before}[secret TELEGRAM_BOT_TOKEN]${after}`);
  });

  it("leaves ordinary text alone", () => {
    for (const text of [
      "a Telegram bot that tells the weather at 12:30 in London",
      "my order 123456:abc is late",
      "sk-short is not a key, nor is task-ant-colony or ghp_short",
      "the id 7012345678:AAHk3f9Qx_2LmN8pRtVw-4YzBc6DeFgHiJ is one character short",
      "USER_NAME=alexander_the_great_baker",
      "MODE=production_release_build",
      "GREETING=HelloThereBakery",
      "RELEASE=v1.2.3",
      "AKIAIOSFODNN7EXAMPL is too short",
    ]) {
      expect(findSecrets(text), text).toEqual([]);
    }
  });
});
