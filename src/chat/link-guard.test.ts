import { describe, expect, it } from "vitest";
import { type KnownLinks, unverifiedClaims } from "./link-guard.js";

const nothing: KnownLinks = { urls: [], bots: new Set(), anyLive: false };
const live: KnownLinks = {
  urls: ["127.0.0.1:20001", "t.example.org/app"],
  bots: new Set(["weather_bot"]),
  anyLive: true,
};

describe("unverifiedClaims", () => {
  it("lets through the person's own links and bots, also deeper paths", () => {
    expect(unverifiedClaims("Open http://127.0.0.1:20001/api/time.", live)).toEqual([]);
    expect(unverifiedClaims("Here: https://t.example.org/app/", live)).toEqual([]);
    expect(unverifiedClaims("Talk to @weather_bot or t.me/weather_bot", live)).toEqual([]);
  });

  it("catches a link, a bot or a t.me link the store does not hold", () => {
    expect(unverifiedClaims("see https://weather-bot.example.com", live)).toEqual([
      { kind: "link", value: "https://weather-bot.example.com" },
    ]);
    expect(unverifiedClaims("try @invented_bot", live)).toEqual([{ kind: "bot", value: "@invented_bot" }]);
    expect(unverifiedClaims("https://t.me/invented_bot", live)).toEqual([
      { kind: "link", value: "https://t.me/invented_bot" },
    ]);
    // A prefix of a real host is not that host.
    expect(unverifiedClaims("http://127.0.0.1:200011", live)).toHaveLength(1);
  });

  it("catches a claim of being live while nothing is, in English and Russian", () => {
    expect(unverifiedClaims("Your bot is live!", nothing)).toMatchObject([{ kind: "live_claim" }]);
    expect(unverifiedClaims("It's now live.", nothing)).toMatchObject([{ kind: "live_claim" }]);
    expect(unverifiedClaims("Ваш бот запущен", nothing)).toMatchObject([{ kind: "live_claim" }]);
    expect(unverifiedClaims("Your bot is live!", live)).toEqual([]);
  });

  it("leaves promises about the future alone", () => {
    for (const text of [
      "I will send the link when it is live.",
      "Once the bot is live you get a message.",
      "It will be deployed to your server.",
      "Когда бот запущен, я пришлю ссылку.",
      "Бот будет запущен после тестов.",
    ]) {
      expect(unverifiedClaims(text, nothing), text).toEqual([]);
    }
  });

  it("allows the orchestrator's own address", () => {
    expect(unverifiedClaims("open http://127.0.0.1:8080/", nothing, ["http://127.0.0.1:8080"])).toEqual([]);
  });
});
