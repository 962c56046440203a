/**
 * Telegram by webhook in the distributed mode, as `orchestrator serve` processes on one PostgreSQL
 * and one Redis: two `api`-only processes take the updates Telegram POSTs (behind a load balancer
 * either may get one, and Telegram may repeat one), a `chat` process answers them through the Bot
 * API fake. Every message is answered once, in order, whichever api process took it, also when the
 * same update reached both.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic/index.js";
import { type FakeTelegram, startFakeTelegram } from "../fakes/telegram/index.js";
import { answerEveryMessage, answerTo, textsIn } from "../support/chat-orchestrator.js";
import { distributedEnv, type RunningCli, runCli, START_DEADLINE_MS, serveRoles } from "../support/cli.js";
import { freePort } from "../support/ports.js";
import { startPostgres, type TestPostgres } from "../support/postgres.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { until } from "../support/until.js";

const BOT_TOKEN = "770189:roles-webhook-token-abcdefghijk";
const MODEL_KEY = "sk-ant-roles-webhook-key";
const SECRET = "roles-webhook-secret-abcdefghijklmnop";
const PERSON = 5_151;

let pg: TestPostgres;
let redis: TestRedis;
let tg: FakeTelegram;
let model: FakeAnthropic;
let dataDir: string;
const apis: string[] = [];
const procs: RunningCli[] = [];

async function serve(roles: string, env: NodeJS.ProcessEnv, port?: number): Promise<string> {
  const served = await serveRoles(roles, env, port);
  procs.push(served.proc);
  return served.url;
}

/** A private message update, POSTed by Telegram to one api process with the secret. */
function post(api: string, updateId: number, text: string): Promise<Response> {
  return fetch(`${api}/telegram/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
    body: JSON.stringify({
      update_id: updateId,
      message: {
        message_id: updateId,
        date: Math.floor(Date.now() / 1000),
        chat: { id: PERSON, type: "private", first_name: "Wren" },
        from: { id: PERSON, is_bot: false, first_name: "Wren", language_code: "en" },
        text,
      },
    }),
  });
}

beforeAll(async () => {
  [pg, redis, tg, model] = await Promise.all([
    startPostgres(),
    startRedis(),
    startFakeTelegram({ token: BOT_TOKEN, username: "roles_webhook_bot" }),
    startFakeAnthropic({ apiKey: MODEL_KEY }),
  ]);
  dataDir = mkdtempSync(join(tmpdir(), "roles-webhook-"));
  const first = await freePort();
  const apiUrl = `http://127.0.0.1:${first}`;
  const env = distributedEnv(
    { databaseUrl: pg.url, redisUrl: redis.url, apiUrl, dataDir },
    {
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      TELEGRAM_API_ROOT: tg.url,
      TELEGRAM_ADMIN_USER_IDS: String(PERSON),
      // The load balancer's address; the fake Bot API accepts http.
      TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${first}/telegram/webhook`,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      ANTHROPIC_API_KEY: MODEL_KEY,
      ANTHROPIC_BASE_URL: model.url,
    },
  );
  expect((await runCli(["migrate"], env)).code).toBe(0);
  apis.push(...(await Promise.all([serve("api", env, first), serve("api", env)])));
  await serve("chat", env);
}, 4 * START_DEADLINE_MS);

afterAll(async () => {
  for (const proc of procs) await proc.stop("SIGKILL");
  await Promise.all([pg?.stop(), redis?.stop(), tg?.close(), model?.close()]);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("Telegram by webhook on api replicas, answered by a chat process", () => {
  it("registers the webhook and never polls", async () => {
    await until("the webhook to be registered", 30_000, async () =>
      tg.callsOf("setWebhook").length > 0 ? true : null,
    );
    expect(tg.callsOf("setWebhook")[0]?.params).toMatchObject({ secret_token: SECRET });
    expect(tg.callsOf("getUpdates")).toEqual([]);
  });

  it("answers each update once, in order, whichever api process took it, also one POSTed to both", {
    timeout: 90_000,
  }, async () => {
    const texts = ["first", "second", "third", "fourth"].map((n) => `the ${n} message`);
    answerEveryMessage(model, texts.length);
    for (const [i, text] of texts.entries()) {
      const updateId = 7_000 + i;
      const api = apis[i % 2] as string;
      expect((await post(api, updateId, text)).status).toBe(200);
      // Telegram repeats an update it thinks was not taken: here it reaches the other replica.
      if (i === 1) expect((await post(apis[0] as string, updateId, text)).status).toBe(200);
    }
    await tg.waitForMessages(PERSON, texts.length, 60_000);
    // Nothing more comes later: a repeat would have been answered by now.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(textsIn(tg, PERSON)).toEqual(texts.map(answerTo));
  });
});
