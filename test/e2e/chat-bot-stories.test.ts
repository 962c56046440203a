/**
 * The two first user stories end to end, through real HTTP: `orchestrator up` with its bot polling
 * the Bot API fake, the Product Owner on the Anthropic fake (whose replies script its tool calls),
 * the scripted agent building a Telegram bot and the local driver deploying it. The deployed bot
 * polls the same fake with its own token and answers `/start`. The bot is the light one (plain
 * JavaScript on the telegram-bot template, no dependencies; test/support/chat-playbook.ts): these
 * stories are about tokens, the pool and the chat, and the template itself is built, deployed and
 * probed by deploy-telegram.test.ts.
 *
 * US1: a person brings their own bot token; it is checked, stored, the bot is built and deployed
 * with it, and the person hears its @username once it is live.
 * US2: a person without a token gets one from the pool; the pool is empty, so the project waits
 * blocked until an admin adds a bot (through the CLI, the token on stdin), then goes live without a
 * new request; teardown gives the bot back to the pool.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PoolBot, Run } from "../../src/contracts/index.js";
import type { FakeSentMessage } from "../fakes/telegram/index.js";
import {
  afterToolResult,
  assertUpLeaksNothing,
  BUILD_DEADLINE_MS,
  respond,
  startScannedTelegramChat,
  type TelegramChat,
  TelegramPerson,
  toolCall,
} from "../support/chat.js";
import { lightBotPlaybook } from "../support/chat-playbook.js";
import { runCli } from "../support/cli.js";
import { leakScan } from "../support/leak-scan.js";

const OWNER_ID = 2001;
const POOL_PERSON_ID = 2002;
const PROBE_CHAT = 990_001;

/** A bot token as @BotFather gives it, for a bot the fake Bot API knows. */
function botToken(id: number): string {
  return `${id}:${randomBytes(35).toString("base64url").slice(0, 35)}`;
}
const OWN_TOKEN = botToken(6_100_000_001);
const POOL_TOKEN = botToken(6_100_000_002);

let chat: TelegramChat;
let owner: TelegramPerson;
let poolPerson: TelegramPerson;
const scan = leakScan();

beforeAll(async () => {
  chat = await startScannedTelegramChat(scan, {
    admins: [OWNER_ID, POOL_PERSON_ID],
    playbook: lightBotPlaybook(),
  });
  chat.tg.addBot({ token: OWN_TOKEN, username: "jokes_own_bot" });
  chat.tg.addBot({ token: POOL_TOKEN, username: "pool_one_bot" });
  owner = new TelegramPerson(chat.tg, OWNER_ID, { firstName: "Olga", languageCode: "en" });
  poolPerson = new TelegramPerson(chat.tg, POOL_PERSON_ID, { firstName: "Pavel", languageCode: "en" });
}, 120_000);
afterAll(async () => {
  await chat?.close();
});

/** A deployed bot answers a person's /start through the fake Bot API. */
async function answersStart(token: string): Promise<FakeSentMessage> {
  chat.tg.pushMessage(PROBE_CHAT, "/start", { token });
  return chat.tg.waitForMessage((m) => m.token === token && m.chatId === PROBE_CHAT, 30_000);
}

describe("US1: my own bot token", () => {
  it("asks for the token, checks and stores it, builds and deploys with it, then names the live bot", {
    timeout: BUILD_DEADLINE_MS + 60_000,
  }, async () => {
    let projectId = "";
    const ASKED =
      "Do you have a bot token? If not: open @BotFather, send /newbot, pick a name. Then send me just the token.";
    chat.model.enqueue(
      toolCall("project_create", { name: "Jokes bot", description: "tells jokes on /start" }),
      afterToolResult((project) => {
        projectId = String(project.id);
        return toolCall("secret_request", { projectId, keys: ["TELEGRAM_BOT_TOKEN"] });
      }),
      respond(ASKED),
    );
    await owner.say("make me a telegram bot that tells jokes");
    await owner.waitFor((m) => m.text === ASKED, 60_000);

    // The person sends the token alone: checked with Telegram, stored, their message deleted.
    chat.model.enqueue(
      (body) =>
        toolCall("engineering_start", {
          projectId,
          brief: `a joke bot; token ${JSON.stringify(body).includes("[secret TELEGRAM_BOT_TOKEN]") ? "given" : "missing"}`,
        }),
      respond("Building your bot now."),
    );
    owner.write(OWN_TOKEN);
    const verdict = await owner.waitFor(
      (m) => m.text.includes("That token belongs to @jokes_own_bot, stored for Jokes bot"),
      30_000,
    );
    expect(verdict).toBeDefined();
    expect(chat.tg.userMessages(OWNER_ID).find((m) => m.text === OWN_TOKEN)?.isDeleted).toBe(true);
    await owner.waitFor((m) => m.text === "Building your bot now.", 60_000);
    const secrets = await chat.tool<{ key: string; isFilled: boolean }[]>("secret.list", { projectId });
    expect(secrets).toEqual([expect.objectContaining({ key: "TELEGRAM_BOT_TOKEN", isFilled: true })]);

    // Told the @username only once the health gate passed: the live message comes from the deploy's outcome.
    const live = await owner.waitFor((m) => m.text.startsWith("✅ Jokes bot is live"));
    expect(live.text).toContain("@jokes_own_bot");
    const [deploy] = (
      await chat.api<{ items: Run[] }>("GET", `/api/runs?projectId=${projectId}&kind=deploy&limit=1`)
    ).items;
    expect(deploy?.status).toBe("succeeded");
    expect((deploy?.result as { botUsername: string } | undefined)?.botUsername).toBe("jokes_own_bot");
    // The deployed bot polls with its own token and answers /start.
    expect((await answersStart(OWN_TOKEN)).text.length).toBeGreaterThan(0);
    expect(chat.tg.calls.some((c) => c.method === "getUpdates" && c.token === OWN_TOKEN)).toBe(true);
    // The model never saw the token: only its reference.
    expect(JSON.stringify(chat.model.requests.map((r) => r.body))).not.toContain(OWN_TOKEN);
  });
});

describe("US2: a bot from the pool", () => {
  it("waits blocked on an empty pool, goes live when an admin adds a bot, and gives it back at teardown", {
    timeout: BUILD_DEADLINE_MS + 120_000,
  }, async () => {
    let projectId = "";
    chat.model.enqueue(
      toolCall("project_create", { name: "Pool bot", description: "says hello" }),
      afterToolResult((project) => {
        projectId = String(project.id);
        return toolCall("pool_take", { projectId });
      }),
      afterToolResult((taken) => {
        expect(taken.status).toBe("waiting");
        return toolCall("engineering_start", { projectId, brief: "a bot that says hello" });
      }),
      respond(
        "The bot pool is empty right now: I am building your bot, and it goes live as soon as an admin adds a bot.",
      ),
    );
    await poolPerson.say("make me a bot, I have no token");
    await poolPerson.waitFor((m) => m.text.startsWith("The bot pool is empty"), 60_000);

    // The build is green; the deploy stops blocked on the missing token and the person is told.
    const blocked = await poolPerson.waitFor((m) => m.text.includes("TELEGRAM_BOT_TOKEN"));
    expect(blocked.text).toContain("Pool bot");

    // An admin adds a bot through the CLI, the token on stdin: the waiting project gets it at once.
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ORCHESTRATOR_API_URL: chat.baseUrl,
      ORCHESTRATOR_TOKEN: chat.adminToken,
    };
    const refused = await runCli(["pool", "add"], env, "123:not-a-token\n");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr + refused.stdout).toContain("not a Telegram bot token");
    const added = await runCli(["pool", "add"], env, `${POOL_TOKEN}\n`);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).not.toContain(POOL_TOKEN);
    expect(JSON.parse(added.stdout).data).toMatchObject({ botUsername: "pool_one_bot", projectId });

    // The blocked deploy goes on by itself: no new request from the person.
    const live = await poolPerson.waitFor((m) => m.text.startsWith("✅ Pool bot is live"));
    expect(live.text).toContain("@pool_one_bot");
    expect((await answersStart(POOL_TOKEN)).text.length).toBeGreaterThan(0);

    // Teardown gives the bot back: webhook removed, bot stopped, free in the pool.
    const down = await chat.tool<Run>("project.teardown", { projectId, data: "delete" });
    for (let i = 0; i < 300; i++) {
      const run = await chat.api<Run>("GET", `/api/runs/${down.id}`);
      if (run.status === "succeeded") break;
      if (run.status === "failed") throw new Error(JSON.stringify(run.error));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const pool = await chat.tool<PoolBot[]>("pool.list", {});
    expect(pool).toEqual([expect.objectContaining({ botUsername: "pool_one_bot", projectId: null })]);
    expect(chat.tg.calls.some((c) => c.method === "deleteWebhook" && c.token === POOL_TOKEN)).toBe(true);
    expect(await chat.tool("secret.list", { projectId })).toEqual([]);
  });
});

describe("US1 and US2 leave no secret behind", () => {
  it("in what the model was sent, the output, the API's answers, the data directory, its repositories or its database", {
    timeout: 120_000,
  }, async () => {
    await assertUpLeaksNothing(chat, scan, { "own bot token": OWN_TOKEN, "pool bot token": POOL_TOKEN });
  });
});
