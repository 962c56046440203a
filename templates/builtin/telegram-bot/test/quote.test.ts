import assert from "node:assert/strict";
import { test } from "node:test";
import type { FetchLike } from "../src/deps.js";
import { QUOTE_URL } from "../src/features/quote.js";
import { startBot } from "./acceptance/harness.js";

const answering: FetchLike = async () => ({
  ok: true,
  status: 200,
  json: async () => ({
    id: 1,
    quote: "Simplicity is prerequisite for reliability.",
    author: "Edsger Dijkstra",
  }),
});

/** A service that never answers: only the abort signal ends the call. */
const silent: FetchLike = (_url, init) =>
  new Promise((_resolve, reject) => {
    init.signal.addEventListener("abort", () => reject(init.signal.reason));
  });

test("/quote answers with what the service says", async () => {
  const urls: string[] = [];
  const fetch: FetchLike = (url, init) => {
    urls.push(url);
    return answering(url, init);
  };
  const bot = await startBot({}, { deps: { fetch } });
  try {
    assert.equal(
      await bot.ask(1, "/quote"),
      "“Simplicity is prerequisite for reliability.” (Edsger Dijkstra)",
    );
    assert.deepEqual(urls, [QUOTE_URL]);
  } finally {
    await bot.stop();
  }
});

test("a service that does not answer in time gets a clear reply, quickly", async () => {
  const bot = await startBot({}, { deps: { fetch: silent, callTimeoutMs: 100 } });
  try {
    const started = Date.now();
    assert.equal(await bot.ask(1, "/quote"), "The quote service did not answer in time. Try again later.");
    assert.ok(Date.now() - started < 3_000, "answered within the deadline");
    assert.ok(
      bot.logs.some((l) => l.includes("no answer within 100 ms")),
      bot.logs.join("\n"),
    );
  } finally {
    await bot.stop();
  }
});

test("a failing or odd service gets a clear reply", async () => {
  const bot = await startBot(
    {},
    {
      deps: { fetch: async () => ({ ok: false, status: 503, json: async () => ({}) }) },
    },
  );
  try {
    assert.equal(await bot.ask(1, "/quote"), "The quote service is not working right now. Try again later.");
  } finally {
    await bot.stop();
  }
});
