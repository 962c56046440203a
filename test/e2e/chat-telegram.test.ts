import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Project, ProjectStatusList, Run } from "../../src/contracts/index.js";
import type { MessagesBody } from "../fakes/anthropic/index.js";
import type { FakeSentMessage } from "../fakes/telegram/index.js";
import {
  afterToolResult,
  assertUpLeaksNothing,
  BOT_TOKEN,
  BUILD_DEADLINE_MS,
  linkIn,
  MODEL_KEY,
  newestProjectId,
  offeredTools,
  respond,
  startScannedTelegramChat,
  type TelegramChat,
  TelegramPerson,
  toolCall,
} from "../support/chat.js";
import { lightChangeAwarePlaybook } from "../support/chat-playbook.js";
import { leakScan } from "../support/leak-scan.js";
import { until } from "../support/until.js";

const ADMIN_ID = 1001;
const RU_ADMIN_ID = 1003;
const BRIEF = "make me a web service that tells the time";
const STARTED = "On it: I created Time service and the team is building it now.";
const CHANGE = "add /api/date";
const CHANGE_STARTED = "Got it: the team is adding /api/date to Time service.";

/** A bot token a person pastes into the chat: theirs, a secret from then on. */
const PASTED_TOKEN = "7012345678:AAHk3f9Qx_2LmN8pRtVw-4YzBc6DeFgHiJk";

let chat: TelegramChat;
let admin: TelegramPerson;
/** Every API answer of this file is recorded for the leak scan at its end. */
const scan = leakScan();

beforeAll(async () => {
  // The agents write the light time service (plain JavaScript, no dependencies): this file is about
  // the chat, and a Tester round of it costs a second of CPU instead of npm, tsc and Fastify's twenty.
  chat = await startScannedTelegramChat(scan, {
    admins: [ADMIN_ID, RU_ADMIN_ID],
    playbook: lightChangeAwarePlaybook(),
  });
  admin = new TelegramPerson(chat.tg, ADMIN_ID, { firstName: "Ada", languageCode: "en" });
}, 120_000);
afterAll(async () => {
  await chat?.close();
});

const isProgress = (m: FakeSentMessage) => m.text.startsWith("🛠");
const isLive = (m: FakeSentMessage) => m.text.startsWith("✅");

/** The conversation a Messages request carried, as one text. */
const messagesOf = (body: unknown) => JSON.stringify((body as MessagesBody | undefined)?.messages ?? []);

/** Every message body the PO sent the model, as one text. */
const modelBodies = () => JSON.stringify(chat.model.requests.map((r) => r.body));

/** The link of a live message answers with the current time. */
async function expectTimeService(url: string): Promise<void> {
  const health = await fetch(`${url}/health`);
  expect(health.status).toBe(200);
  const time = await fetch(`${url}/api/time`);
  expect(time.status).toBe(200);
  const now = ((await time.json()) as { now: string }).now;
  expect(Math.abs(Date.parse(now) - Date.now())).toBeLessThan(60_000);
}

describe("Telegram: a brief becomes a live link", () => {
  it("the PO creates the project and starts the run; one progress message, edited in place; one live link that answers", {
    timeout: BUILD_DEADLINE_MS + 30_000,
  }, async () => {
    const asked = chat.model.conversation().length;
    let projectId = "";
    chat.model.enqueue(
      // A model that takes a moment: long enough for the "typing" sign.
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        return toolCall("project_create", { name: "Time service", description: BRIEF });
      },
      afterToolResult((project) => {
        projectId = String(project.id);
        return toolCall("engineering_start", { projectId, brief: BRIEF });
      }),
      respond(STARTED),
    );
    admin.write(BRIEF);
    const reply = await admin.waitFor((m) => m.text === STARTED, 60_000);

    // The PO's three model calls: each offered the registry's tools by provider-safe names.
    const requests = chat.model.conversation().slice(asked);
    expect(requests).toHaveLength(3);
    for (const request of requests) {
      expect(offeredTools(request.body)).toEqual(
        expect.arrayContaining(["project_create", "engineering_start", "project_status", "respond"]),
      );
    }
    expect(messagesOf(requests[0]?.body)).toContain(BRIEF);
    // The tool results it read back were the real ones: the project, then the queued run.
    expect(messagesOf(requests[1]?.body)).toContain(projectId);
    const project = await chat.api<Project>("GET", `/api/projects/${projectId}`);
    expect(project.name).toBe("Time service");

    // Telegram showed "typing" while the PO worked, before its reply.
    const typing = chat.tg.calls.findIndex(
      (c) => c.method === "sendChatAction" && String(c.params.chat_id) === String(ADMIN_ID),
    );
    const replied = chat.tg.calls.findIndex(
      (c) => c.method === "sendMessage" && String(c.params.text) === STARTED,
    );
    expect(typing).toBeGreaterThanOrEqual(0);
    expect(typing).toBeLessThan(replied);
    expect(chat.tg.chatActions(ADMIN_ID).map((a) => a.action)).toContain("typing");
    expect(reply.replyMarkup).toBeUndefined();

    const live = await admin.waitFor(isLive);
    const url = linkIn(live.text);
    expect(live.text).toBe(`✅ Time service is live: ${url}`);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    await expectTimeService(url);
    // The brief asked for the time only: no date yet.
    expect((await fetch(`${url}/api/date`)).status).toBe(404);

    // One progress message for the journey, edited in place as the stages moved.
    const progress = admin.messages().filter(isProgress);
    expect(progress).toHaveLength(1);
    const [journey] = progress as [FakeSentMessage];
    expect(chat.tg.editedMessages(ADMIN_ID).map((m) => m.messageId)).toEqual([journey.messageId]);
    expect(journey.messageId).toBeLessThan(live.messageId);
    // Each version says at least as much as the one before: stages are added, none dropped.
    const versions = [String(journey.params.text), ...journey.edits].map((text) => text.split("\n"));
    for (const [i, lines] of versions.entries()) {
      if (i > 0) expect(lines.length).toBeGreaterThanOrEqual(versions[i - 1]?.length ?? 0);
    }
    const final = journey.text.split("\n");
    expect(final[0]).toBe("🛠 Time service: building");
    expect(final.slice(1)).toEqual([
      "✓ Architect",
      "✓ Preparing the repository",
      "✓ Developer, round 1",
      expect.stringMatching(/^✓ Tester: [1-9]\d* passed, 0 failed$/),
      "✓ Deploy",
      "✓ Health gate",
    ]);
    // The first version it was sent as held less than the last: the stages came in as edits.
    expect(String(journey.params.text).split("\n").length).toBeLessThan(final.length);
    expect(admin.messages().filter(isLive)).toHaveLength(1);

    // The model key went where it belongs, in the header; what the model was sent never held a
    // secret: not the bot token, the model key or the admin token.
    expect(requests.map((r) => r.headers["x-api-key"] ?? r.headers.authorization)).toEqual(
      Array(3).fill(expect.stringMatching(new RegExp(`^(Bearer )?${MODEL_KEY}$`))),
    );
    const bodies = modelBodies();
    expect(bodies).not.toContain(BOT_TOKEN);
    expect(bodies).not.toContain(MODEL_KEY);
    expect(bodies).not.toContain(chat.adminToken);
  });
});

describe("Telegram: the same chat later", () => {
  it("a change goes through engineering_start with a changeRequest and ends in a new live message", {
    timeout: BUILD_DEADLINE_MS + 30_000,
  }, async () => {
    const firstLive = (await admin.waitFor(isLive)).messageId;
    let projectId = "";
    chat.model.enqueue((body) => {
      projectId = newestProjectId(body);
      return toolCall("engineering_start", { projectId, changeRequest: "Add GET /api/date" });
    }, respond(CHANGE_STARTED));
    admin.write(CHANGE);
    await admin.waitFor((m) => m.text === CHANGE_STARTED, 60_000);

    const runs = await chat.api<{ items: Run[] }>(
      "GET",
      `/api/runs?projectId=${projectId}&kind=engineering&limit=10`,
    );
    expect(runs.items).toHaveLength(2);
    expect(runs.items[0]?.input).toMatchObject({ mode: "change", text: "Add GET /api/date" });

    const live = await admin.waitFor((m) => isLive(m) && m.messageId > firstLive);
    const url = linkIn(live.text);
    expect(live.text).toBe(`✅ Time service is live: ${url}`);
    await expectTimeService(url);
    const date = await fetch(`${url}/api/date`);
    expect(date.status).toBe(200);
    expect(await date.json()).toEqual({ date: new Date().toISOString().slice(0, 10) });
    const progress = admin.messages().filter(isProgress);
    expect(progress).toHaveLength(2);
    expect(progress[1]?.text.split("\n")[0]).toBe("🛠 Time service: changing");
    expect(progress[1]?.text).toContain("✓ Health gate");
    expect(admin.messages().filter(isLive)).toHaveLength(2);
  });

  it("“how are my projects?” is answered from project_status", async () => {
    let told = "";
    chat.model.enqueue(
      toolCall("project_status", {}),
      afterToolResult((result) => {
        const [item] = (result as unknown as ProjectStatusList).items;
        told = `${item?.name}: ${item?.status}, health ${item?.health.state} at ${item?.health.url}`;
        return respond(told);
      }),
    );
    const [answer] = await admin.say("how are my projects?");
    expect(answer?.text).toBe(told);
    const truth = await chat.tool<ProjectStatusList>("project.status", {});
    const item = truth.items[0];
    expect(told).toBe(`Time service: live, health live at ${item?.health.url}`);
    expect(item?.health.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
  });
});

describe("Telegram: commands answer without a model", () => {
  it("/start, /help, /projects and /status in English, and the bot's menu", async () => {
    const requests = chat.model.requests.length;
    const commands =
      "/projects: your projects and their links\n/status: how your projects are doing\n/new: start a fresh conversation\n/cancel: stop what I am doing and drop your waiting messages\n/help: this help";
    const [start] = await admin.say("/start");
    expect(start?.text).toBe(
      `Hi Ada! Tell me what to build, for example “a Telegram bot that tells the weather”. I ask at most two questions, then the team builds it, tests it, deploys it and I send you the link.\n\n${commands}`,
    );
    const [help] = await admin.say("/help");
    expect(help?.text).toBe(`Write what you want built or changed, in your own words.\n\n${commands}`);
    const url = linkIn(admin.messages().filter(isLive).at(-1)?.text ?? "");
    const [projects] = await admin.say("/projects");
    expect(projects?.text).toBe(`Your projects:\n• Time service: live · ${url}`);
    const [status] = await admin.say("/status");
    expect(status?.text).toMatch(
      new RegExp(
        `^How your projects are doing:\\n• Time service: live, live since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d, (up \\d+\\.\\d% of the last 24 h, )?${url}$`,
      ),
    );
    expect(chat.model.requests.length).toBe(requests);
    expect(chat.tg.commands().map((c) => c.command)).toEqual([
      "start",
      "help",
      "projects",
      "status",
      "new",
      "cancel",
    ]);
    expect(chat.tg.commands()[2]?.description).toBe("Your projects");
  });

  it("a person whose Telegram speaks Russian gets them in Russian", async () => {
    const requests = chat.model.requests.length;
    const ru = new TelegramPerson(chat.tg, RU_ADMIN_ID, { firstName: "Ирина", languageCode: "ru" });
    const commands =
      "/projects: ваши проекты и ссылки на них\n/status: как дела у ваших проектов\n/new: начать разговор заново\n/cancel: остановить мою работу и отбросить ожидающие сообщения\n/help: эта справка";
    const [start] = await ru.say("/start");
    expect(start?.text).toBe(
      `Привет, Ирина! Напишите, что сделать, например «Telegram-бот, который рассказывает погоду». Я задам не больше двух вопросов, команда напишет, протестирует и развернёт проект, а я пришлю ссылку.\n\n${commands}`,
    );
    const [help] = await ru.say("/help");
    expect(help?.text).toBe(`Напишите своими словами, что сделать или изменить.\n\n${commands}`);
    const [projects] = await ru.say("/projects");
    expect(projects?.text).toBe("У вас пока нет проектов. Напишите, что сделать.");
    const [status] = await ru.say("/status");
    expect(status?.text).toBe("У вас пока нет проектов.");
    expect(chat.model.requests.length).toBe(requests);
  });
});

describe("Telegram: access", () => {
  it("a stranger awaits approval; the admins get approve/deny buttons; approve lets them in", async () => {
    const requests = chat.model.requests.length;
    const stranger = new TelegramPerson(chat.tg, 2002, { firstName: "Sam", languageCode: "en" });
    const [pending] = await stranger.say("hello, can you build me a bot?");
    expect(pending?.text).toBe(
      "Hi! You do not have access yet. I have asked an administrator to let you in; I will tell you here.",
    );
    const request = await admin.waitFor((m) => m.text.includes("asks for access"), 30_000);
    expect(request.text).toBe("Sam (tg://user?id=2002, id 2002) asks for access.");
    const buttons = request.replyMarkup?.inline_keyboard.flat() ?? [];
    expect(buttons.map((b) => b.text)).toEqual(["Approve", "Deny"]);
    const approve = buttons[0]?.callback_data ?? "";
    expect(approve).toMatch(/^access:approve:[0-9a-f-]{36}$/);
    // Each admin is asked in their own language.
    const ru = new TelegramPerson(chat.tg, RU_ADMIN_ID);
    const ruRequest = await ru.waitFor((m) => m.text.includes("просит доступ"), 30_000);
    expect(ruRequest.replyMarkup?.inline_keyboard.flat().map((b) => b.text)).toEqual([
      "Впустить",
      "Отказать",
    ]);
    // The stranger's words reached no model.
    expect(chat.model.requests.length).toBe(requests);

    chat.tg.pushCallback(ADMIN_ID, approve, { firstName: "Ada", languageCode: "en" });
    await stranger.waitFor((m) => m.text === "You have access now. Tell me what to build.", 30_000);
    const answered = await until("the press answered", 10_000, async () => {
      const press = chat.tg.callbackQueries(ADMIN_ID).find((q) => q.data === approve);
      return press?.answer ?? null;
    });
    expect(answered.text).toBe("Sam: approved.");
    // The request now shows the decision, without its buttons, for both admins.
    await until("the request edited", 10_000, async () =>
      request.text === "Sam: approved." && ruRequest.text === "Sam: доступ открыт." ? true : null,
    );
    expect(request.replyMarkup).toBeUndefined();
    expect(ruRequest.replyMarkup).toBeUndefined();

    // Now the stranger talks to the PO.
    chat.model.enqueue(respond("Hi Sam! What should the bot do?"));
    const [reply] = await stranger.say("a bot that tells jokes");
    expect(reply?.text).toBe("Hi Sam! What should the bot do?");
    expect(messagesOf(chat.model.conversation().at(-1)?.body)).toContain("a bot that tells jokes");
  });
});

describe("Telegram: the PO as the Claude Code CLI", () => {
  const mcp = (name: string, input: Record<string, unknown>) => toolCall(`mcp__orchestrator__${name}`, input);
  const TURN_SECRET = /po_[A-Za-z0-9_-]{43}/;

  it("runs the real CLI with only the orchestrator's tools over MCP, as the person, and is accounted", {
    timeout: 120_000,
  }, async () => {
    // The PO refuses a backend it cannot run on, naming the field.
    const refused = await fetch(`${chat.baseUrl}/api/tools/agent_config.update`, {
      method: "POST",
      headers: { authorization: `Bearer ${chat.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ node: "po", backend: "codex" }),
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain('"path":"backend"');
    await chat.tool("agent_config.update", {
      node: "po",
      backend: "claude-code",
      model: "claude-sonnet-4-5",
    });

    const before = chat.model.conversation().length;
    chat.model.enqueue(
      mcp("project_create", { name: "Joke bot", description: "A Telegram bot that tells jokes" }),
      mcp("respond", { text: "Created Joke bot; tell me when the team should build it." }),
    );
    const [reply] = await admin.say("a bot that tells jokes, please", 1, 90_000);
    expect(reply?.text).toBe("Created Joke bot; tell me when the team should build it.");

    // The project is the person's, made through the registry as them.
    const projects = await chat.tool<{ items: Project[] }>("project.list", { limit: 50 });
    const joke = projects.items.find((p) => p.name === "Joke bot");
    const time = projects.items.find((p) => p.name === "Time service");
    expect(joke?.ownerId).toBeTruthy();
    expect(joke?.ownerId).toBe(time?.ownerId);

    // The CLI was offered no built-in tool (no shell, no files): only the orchestrator's, by MCP.
    const turn = chat.model.conversation().slice(before);
    expect(turn.length).toBeGreaterThanOrEqual(2);
    const offered = offeredTools(turn[0]?.body);
    expect(offered.filter((name) => !name.startsWith("mcp__orchestrator__"))).toEqual([]);
    for (const name of ["project_create", "engineering_start", "project_status", "ask", "respond"]) {
      expect(offered).toContain(`mcp__orchestrator__${name}`);
    }
    // It knows the person's projects and reads the tools' answers.
    expect(JSON.stringify((turn[0]?.body as MessagesBody | undefined)?.system)).toContain("Time service");
    expect(messagesOf(turn[1]?.body)).toContain("Joke bot");

    // The turn's MCP secret lived only in the turn: not in a model request, a log line, or the API.
    expect(modelBodies()).not.toMatch(TURN_SECRET);
    expect(chat.proc.output()).not.toMatch(TURN_SECRET);
    expect(chat.proc.output()).not.toContain(MODEL_KEY);
    const stranger = await fetch(`${chat.baseUrl}/api/po/mcp`, {
      method: "POST",
      headers: { authorization: "Bearer po_not-a-turn", "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(stranger.status).toBe(401);

    // Its tokens are counted like a worker's, under its backend.
    const metrics = await fetch(`${chat.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${chat.adminToken}` },
    });
    const counted = (await metrics.text())
      .split("\n")
      .filter((line) => line.startsWith("orchestrator_agent_tokens_total{"));
    expect(
      counted.some(
        (line) => /backend="claude-code"/.test(line) && /kind="input"/.test(line) && / [1-9]\d*$/.test(line),
      ),
      counted.join("\n"),
    ).toBe(true);
  });

  it("tells the person the truth when the CLI's model fails", { timeout: 120_000 }, async () => {
    chat.model.setFailure("api_error");
    try {
      const [reply] = await admin.say("are you there?", 1, 90_000);
      expect(reply?.text).toBe(
        "The model is unavailable right now, so I did nothing with your message. Please try again later.",
      );
    } finally {
      chat.model.reset();
      await chat.tool("agent_config.update", { node: "po", backend: "api" });
    }
  });
});

describe("Telegram: the PO on its scripted backend", () => {
  it("answers without the model, labelled so, and the web chat says it is scripted", {
    timeout: 60_000,
  }, async () => {
    const me = async () =>
      (await (
        await fetch(`${chat.baseUrl}/api/chat/me`, {
          headers: { authorization: `Bearer ${chat.adminToken}` },
        })
      ).json()) as { model: { provider: string; scripted: boolean } };
    expect((await me()).model).toEqual({ provider: "anthropic", scripted: false });
    await chat.tool("agent_config.update", { node: "po", backend: "scripted" });
    try {
      expect((await me()).model).toEqual({ provider: "scripted", scripted: true });
      const before = chat.model.conversation().length;
      const [reply] = await admin.say("what can you do?");
      expect(reply?.text.startsWith("[scripted PO] ")).toBe(true);
      expect(chat.model.conversation().length).toBe(before);
    } finally {
      await chat.tool("agent_config.update", { node: "po", backend: "api" });
    }
    expect((await me()).model).toEqual({ provider: "anthropic", scripted: false });
  });
});

describe("Telegram: a pasted secret", () => {
  it("is taken out of the chat and the model's sight, held sealed, and the person is told", {
    timeout: 60_000,
  }, async () => {
    const token = PASTED_TOKEN;
    chat.tg.addBot({ token, username: "pasted_jokes_bot" });
    const said = `here is my bot token ${token} for the joke bot`;
    chat.model.enqueue(respond("Thanks, I have your bot's token."));
    const [notice, verdict, reply] = await admin.say(said, 3);
    expect(notice?.text).toContain("I took TELEGRAM_BOT_TOKEN out of your message");
    expect(notice?.text).toContain("Your message is deleted");
    // Telegram was asked whose token it is before it was kept.
    expect(verdict?.text).toContain("That token belongs to @pasted_jokes_bot");
    expect(reply?.text).toBe("Thanks, I have your bot's token.");
    // Deleted from the chat; the model read only the reference.
    const mine = chat.tg.userMessages(ADMIN_ID).filter((m) => m.text === said);
    expect(mine.map((m) => m.isDeleted)).toEqual([true]);
    expect(messagesOf(chat.model.conversation().at(-1)?.body)).toContain(
      "here is my bot token [secret TELEGRAM_BOT_TOKEN] for the joke bot",
    );
    // Nowhere in what the model was sent, in the logs, or in what the API answers about the chat.
    expect(modelBodies()).not.toContain(token);
    expect(chat.proc.output()).not.toContain(token);
    expect(chat.proc.output()).not.toContain(token.split(":")[1]);

    // When Telegram will not delete it (older than 48 hours, say), the person is asked to.
    chat.tg.failNext("deleteMessage", { status: 400, description: "Bad Request: message can't be deleted" });
    chat.model.enqueue(respond("Noted."));
    const [asked] = await admin.say(`again: ${token}`, 3);
    expect(asked?.text).toContain("I could not delete your message: please delete it yourself.");
    expect(chat.tg.userMessages(ADMIN_ID).filter((m) => m.text === `again: ${token}`)).toEqual([
      expect.objectContaining({ isDeleted: false }),
    ]);
  });
});

describe("Telegram: no secret leaked", () => {
  it("in what the model was sent, the output, the API's and the bot's answers, the data directory, its repositories or its database", {
    timeout: 120_000,
  }, async () => {
    scan.add("Telegram calls", JSON.stringify(chat.tg.calls.map((c) => [c.method, c.params])));
    await assertUpLeaksNothing(chat, scan, { "pasted bot token": PASTED_TOKEN });
  });
});
