/**
 * Telegram in webhook mode, through real HTTP: `orchestrator up` with `TELEGRAM_WEBHOOK_URL` set
 * registers its route with the Bot API fake, which then POSTs every update to it with the secret.
 * Commands and the PO answer as with polling; an update POSTed twice is answered once; a POST
 * without the secret is refused; a message in a group is not answered.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { respond, TelegramPerson } from "../support/chat.js";
import { type ChatOrchestrator, startChatOrchestrator } from "../support/chat-orchestrator.js";

const ADMIN_ID = 4101;
const SECRET = "webhook-secret-4101-abcdefghijklmnopqrstuv";
const HELP =
  "Write what you want built or changed, in your own words.\n\n/projects: your projects and their links\n/status: how your projects are doing\n/new: start a fresh conversation\n/cancel: stop what I am doing and drop your waiting messages\n/help: this help";

let o: ChatOrchestrator;
let admin: TelegramPerson;

beforeAll(async () => {
  o = await startChatOrchestrator({ admins: [ADMIN_ID], webhookSecret: SECRET });
  await o.start();
  admin = new TelegramPerson(o.tg, ADMIN_ID, { firstName: "Wes", languageCode: "en" });
}, 120_000);
afterAll(async () => {
  await o?.close();
});

/** POSTs an update to the webhook route as Telegram would, with `secret` in its header. */
function post(update: unknown, secret: string | null): Promise<Response> {
  return fetch(`${o.url}/telegram/webhook`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(secret === null ? {} : { "x-telegram-bot-api-secret-token": secret }),
    },
    body: JSON.stringify(update),
  });
}

function helpUpdate(updateId: number) {
  return {
    update_id: updateId,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: ADMIN_ID, type: "private", first_name: "Wes" },
      from: { id: ADMIN_ID, is_bot: false, first_name: "Wes", language_code: "en" },
      text: "/help",
      entities: [{ type: "bot_command", offset: 0, length: 5 }],
    },
  };
}

describe("Telegram by webhook", () => {
  it("registers the API's route with its secret and never polls", () => {
    const [set] = o.tg.callsOf("setWebhook");
    expect(set?.params).toMatchObject({ url: `${o.url}/telegram/webhook`, secret_token: SECRET });
    expect(o.tg.callsOf("getUpdates")).toEqual([]);
  });

  it("answers commands and the PO through updates Telegram POSTs", { timeout: 60_000 }, async () => {
    const [help] = await admin.say("/help");
    expect(help?.text).toBe(HELP);
    o.model.enqueue(respond("A weather bot it is. Which city?"));
    const [reply] = await admin.say("a bot that tells the weather", 1, 45_000);
    expect(reply?.text).toBe("A weather bot it is. Which city?");
  });

  it("answers an update POSTed twice once, and refuses one without the secret", {
    timeout: 60_000,
  }, async () => {
    const before = admin.messages().length;
    for (const secret of [null, "not-the-secret"]) {
      const refused = await post(helpUpdate(900_001), secret);
      expect(refused.status).toBe(401);
    }
    for (let i = 0; i < 2; i++) expect((await post(helpUpdate(900_002), SECRET)).status).toBe(200);
    // A later message is answered after both: the repeated update was handled (once) before it.
    const [next] = await admin.say("/help");
    expect(next?.text).toBe(HELP);
    expect(
      admin
        .messages()
        .slice(before)
        .map((m) => m.text),
    ).toEqual([HELP, HELP]);
  });

  it("does not answer a message in a group", { timeout: 60_000 }, async () => {
    const group = -1_004_101;
    const requests = o.model.requests.length;
    o.tg.pushGroupMessage(group, ADMIN_ID, "/start");
    o.tg.pushGroupMessage(group, ADMIN_ID, "build me a bot for this group");
    // Updates reach the webhook one at a time, in order: this answer comes after both were seen.
    const [help] = await admin.say("/help");
    expect(help?.text).toBe(HELP);
    expect(o.tg.sentMessages(group)).toEqual([]);
    expect(o.model.requests.length).toBe(requests);
  });
});
