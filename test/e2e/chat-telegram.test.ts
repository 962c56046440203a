/**
 * Telegram end to end, through real HTTP: `orchestrator up` with its bot polling the Bot API fake,
 * the Product Owner on the Anthropic provider against the Anthropic fake (whose replies script the
 * PO's tool calls), the scripted agent building and the local driver deploying on 127.0.0.1. One
 * process serves every case here; they run in order in the admin's chat, as a person would use it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Project, ProjectStatusList, Run } from "../../src/contracts/index.js";
import type { MessagesBody } from "../fakes/anthropic/index.js";
import type { FakeSentMessage } from "../fakes/telegram/index.js";
import {
  afterToolResult,
  BOT_TOKEN,
  BUILD_DEADLINE_MS,
  linkIn,
  MODEL_KEY,
  newestProjectId,
  offeredTools,
  respond,
  startTelegramChat,
  type TelegramChat,
  TelegramPerson,
  toolCall,
} from "../support/chat.js";

const ADMIN_ID = 1001;
const BRIEF = "make me a web service that tells the time";
const STARTED = "On it: I created Time service and the team is building it now.";
const CHANGE = "add /api/date";
const CHANGE_STARTED = "Got it: the team is adding /api/date to Time service.";

let chat: TelegramChat;
let admin: TelegramPerson;

beforeAll(async () => {
  chat = await startTelegramChat({ admins: [ADMIN_ID, 1003] });
  admin = new TelegramPerson(chat.tg, ADMIN_ID, { firstName: "Ada", languageCode: "en" });
}, 120_000);
afterAll(async () => {
  await chat?.close();
});

const isProgress = (m: FakeSentMessage) => m.text.startsWith("🛠");
const isLive = (m: FakeSentMessage) => m.text.startsWith("✅");

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
      toolCall("project_create", { name: "Time service", description: BRIEF }),
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
    expect(JSON.stringify((requests[0]?.body as MessagesBody).messages)).toContain(BRIEF);
    // The tool results it read back were the real ones: the project, then the queued run.
    expect(JSON.stringify((requests[1]?.body as MessagesBody).messages)).toContain(projectId);
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

    // One progress message for the journey, edited in place as the stages moved.
    const progress = admin.messages().filter(isProgress);
    expect(progress).toHaveLength(1);
    const [journey] = progress as [FakeSentMessage];
    expect(journey.edits.length).toBeGreaterThan(0);
    expect(journey.messageId).toBeLessThan(live.messageId);
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

    // What the model was sent never held a secret: not the bot token, the model key or the admin token.
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
