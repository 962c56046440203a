import type { ServerResponse } from "node:http";
import Fastify from "fastify";
import type { ElementHandle, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { registerWebApp } from "../../src/api/index.js";
import type { ChatMessage, Conversation, ConversationState, MessageRole } from "../../web/src/contract.js";
import { type BrowserPage, openBrowserPage } from "../support/browser.js";
import { until } from "../support/until.js";
import { builtWebApp } from "../support/web-app.js";

/*
 * The web chat in a real browser against a stub of the web chat API contract (`/api/chat/*`), for
 * what the real journey (chat-web.test.ts) cannot make happen on cue: markup and unsafe links in a
 * reply, a dropped stream, two conversations. The page itself is served by the API's own route.
 */

const TOKEN = "orc_web-chat-test-token";

function message(id: string, seq: number, role: MessageRole, text: string, extra: Partial<ChatMessage> = {}) {
  const createdAt = new Date(Date.UTC(2025, 0, 1, 12, 0, seq)).toISOString();
  const base: ChatMessage = {
    id,
    seq,
    role,
    kind: "text",
    text,
    runId: null,
    links: [],
    createdAt,
    editedAt: null,
  };
  return { ...base, ...extra };
}

/** The web chat API as the app is promised it, in memory, with hooks for the test to push events. */
async function startChatStub(webRoot: string) {
  const conversations: Conversation[] = [
    { id: "c-old", title: "Older chat", state: "idle", language: "en", updatedAt: "2025-01-01T09:00:00Z" },
    { id: "c-new", title: "Weather bot", state: "idle", language: "en", updatedAt: "2025-01-02T09:00:00Z" },
  ];
  const messages = new Map<string, ChatMessage[]>([
    [
      "c-new",
      [
        message("m1", 1, "person", "I want a weather bot"),
        message("m2", 2, "po", "It is live at https://weather.example.test/app. <b>not bold</b>", {
          links: [
            { url: "https://weather.example.test/app", label: "Open the app" },
            { url: "javascript:alert(1)", label: "never a link" },
          ],
        }),
      ],
    ],
  ]);
  const streams = new Map<string, Set<ServerResponse>>();
  const posted: string[] = [];
  const secretsFilled: { key: string; value: string }[] = [];
  const streamAfters: number[] = [];
  const app = Fastify();
  await registerWebApp(app, { root: webRoot });
  // Signing in as the API does it: the token is exchanged for an HttpOnly session cookie, and a
  // write made with the cookie must echo the session's CSRF value.
  const liveSessions = new Set<string>();
  const sessionOf = (cookie: string | undefined) => /(?:^|;\s*)orch_session=([^;]+)/.exec(cookie ?? "")?.[1];
  const csrfRefusals: string[] = [];
  app.addHook("onRequest", async (req, reply) => {
    if (!req.url.startsWith("/api/") || (req.method === "POST" && req.url === "/api/session")) return;
    const session = sessionOf(req.headers.cookie);
    if (!session || !liveSessions.has(session)) {
      const error = { code: "unauthorized", message: "the session has ended: sign in again", details: [] };
      return reply.code(401).send({ error });
    }
    if (req.method !== "GET" && req.headers["x-csrf-token"] !== `csrf-${session}`) {
      csrfRefusals.push(`${req.method} ${req.url}`);
      return reply.code(403).send({ error: { code: "csrf_failed", message: "no CSRF value", details: [] } });
    }
  });
  const sessionInfo = (session: string) => ({
    kind: "user",
    user: { id: "u1", name: "Alice", role: "user" },
    expiresAt: "2099-01-01T00:00:00.000Z",
    csrfToken: `csrf-${session}`,
  });
  app.post<{ Body: { token: string } }>("/api/session", async (req, reply) => {
    if (req.body?.token !== TOKEN) {
      const error = { code: "unauthorized", message: "the token is unknown or revoked", details: [] };
      return reply.code(401).send({ error });
    }
    const session = `s${liveSessions.size + 1}`;
    liveSessions.add(session);
    reply.header("set-cookie", `orch_session=${session}; Path=/; HttpOnly; SameSite=Strict`);
    return reply.code(201).send(sessionInfo(session));
  });
  app.get("/api/session", async (req) => sessionInfo(sessionOf(req.headers.cookie) as string));
  app.delete("/api/session", async (req, reply) => {
    liveSessions.delete(sessionOf(req.headers.cookie) as string);
    reply.header("set-cookie", "orch_session=; Path=/; Max-Age=0");
    return reply.code(204).send();
  });
  const find = (id: string) => {
    const found = conversations.find((c) => c.id === id);
    if (!found) throw Object.assign(new Error(`no conversation ${id}`), { statusCode: 404 });
    return found;
  };
  const write = (id: string, event: string, data: unknown) => {
    for (const res of streams.get(id) ?? []) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const push = (id: string, item: ChatMessage) => {
    const list = messages.get(id) ?? [];
    messages.set(id, [...list.filter((m) => m.id !== item.id), item]);
    write(id, "message", item);
  };
  app.get("/api/chat/me", async () => ({
    user: { id: "u1", name: "Alice" },
    language: "en",
    model: { provider: "scripted", scripted: true },
    demo: true,
  }));
  app.get("/api/chat/conversations", async () => ({ items: conversations }));
  app.get("/api/chat/projects", async () => ({
    items: [
      {
        id: "p1",
        slug: "weather",
        name: "Weather bot",
        status: "live",
        url: "https://weather.example.test/app",
        botUsername: null,
      },
      { id: "p2", slug: "todo", name: "Todo list", status: "building", url: null, botUsername: null },
    ],
  }));
  app.patch<{ Params: { id: string }; Body: { language: "en" | "ru" } }>(
    "/api/chat/conversations/:id",
    async (req) => Object.assign(find(req.params.id), { language: req.body.language }),
  );
  app.get<{ Params: { id: string }; Querystring: { after?: string } }>(
    "/api/chat/conversations/:id/messages",
    async (req) => ({
      items: (messages.get(find(req.params.id).id) ?? []).filter((m) => m.seq > Number(req.query.after ?? 0)),
    }),
  );
  app.post<{ Params: { id: string }; Body: { text: string } }>(
    "/api/chat/conversations/:id/messages",
    async (req, reply) => {
      const { id } = find(req.params.id);
      posted.push(req.body.text);
      const item = message(`p${posted.length}`, lastSeq(id) + 1, "person", req.body.text);
      push(id, item);
      return reply.code(202).send({ message: item });
    },
  );
  app.post<{ Params: { id: string }; Body: { key: string; value: string } }>(
    "/api/chat/conversations/:id/secret",
    async (req) => {
      find(req.params.id);
      secretsFilled.push(req.body);
      return { notices: [`${req.body.key} is stored`] };
    },
  );
  app.get<{ Params: { id: string }; Querystring: { after?: string } }>(
    "/api/chat/conversations/:id/stream",
    (req, reply) => {
      const { id } = find(req.params.id);
      const after = Number(req.query.after ?? 0);
      streamAfters.push(after);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
      res.write(": ping\n\n");
      for (const m of messages.get(id) ?? []) if (m.seq > after) write(id, "message", m);
      const open = streams.get(id) ?? new Set();
      streams.set(id, open.add(res));
      res.on("close", () => open.delete(res));
    },
  );
  const lastSeq = (id: string) => Math.max(0, ...(messages.get(id) ?? []).map((m) => m.seq));
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    url,
    posted,
    csrfRefusals,
    liveSessions,
    secretsFilled,
    streamAfters,
    lastSeq,
    push,
    state: (id: string, state: ConversationState) => {
      find(id).state = state;
      write(id, "state", { state });
    },
    /** The PO waits for these secrets (none: the field goes away). */
    awaitSecrets: (id: string, keys: string[]) => write(id, "secrets", { keys }),
    openStreams: (id: string) => streams.get(id)?.size ?? 0,
    /** Ends every open stream, as a restarting server or a dropped connection would. */
    hangUp: () => {
      for (const open of streams.values()) for (const res of open) res.end();
    },
    close: async () => {
      for (const open of streams.values()) for (const res of open) res.destroy();
      await app.close();
    },
  };
}

let stub: Awaited<ReturnType<typeof startChatStub>>;
let browser: BrowserPage;
let page: Page;

beforeAll(async () => {
  stub = await startChatStub(await builtWebApp());
  browser = await openBrowserPage();
  page = browser.page;
  page.setDefaultTimeout(10_000);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stub?.close();
});
afterEach((context) => {
  if (context.task.result?.state === "fail")
    console.log(`browser console:\n${browser.consoleLines.join("\n")}`);
});

const messageItems = () => page.getByTestId("message");
const texts = async (testId: string) =>
  (await page.getByTestId(testId).allTextContents()).map((text) => text.trim());
const streamOpen = () =>
  until("the conversation's stream", 10_000, async () => (stub.openStreams("c-new") > 0 ? true : null));

describe("web chat", () => {
  it("refuses a wrong token, then signs in with the right one and keeps the session", async () => {
    await page.goto(stub.url);
    await page.getByTestId("token-input").fill("orc_wrong");
    await page.getByTestId("sign-in-button").click();
    await page.getByRole("alert").filter({ hasText: "refused" }).waitFor();
    await page.getByTestId("token-input").fill(TOKEN);
    await page.getByTestId("sign-in-button").click();
    await page.getByTestId("demo-banner").waitFor();
    // The browser keeps a session cookie the page cannot read, and no token.
    expect(await page.evaluate<string[]>("Object.values(localStorage)")).not.toContain(TOKEN);
    expect(await page.evaluate<string>("document.cookie")).toBe("");
    expect(stub.liveSessions.size).toBe(1);
    // A reload resumes the session without asking for the token again.
    await page.reload();
    await page.getByTestId("demo-banner").waitFor();
  });

  it("shows the scripted banner, the projects and the conversations newest first", async () => {
    expect(await texts("demo-banner")).toEqual(["Demo: the Product Owner is scripted, no model is called"]);
    await page.getByTestId("conversation-item").nth(1).waitFor();
    const conversations = await texts("conversation-item");
    expect(conversations[0]).toContain("Weather bot");
    expect(conversations[1]).toContain("Older chat");
    const projects = page.getByTestId("project-item");
    await projects.nth(1).waitFor();
    expect(await projects.nth(0).getByRole("link").getAttribute("href")).toBe(
      "https://weather.example.test/app",
    );
    expect(await projects.nth(1).getByRole("link").count()).toBe(0);
  });

  it("opens the newest conversation with its text as text and its links safe", async () => {
    await messageItems().nth(1).waitFor();
    expect(
      await messageItems().evaluateAll((items) => items.map((i) => i.getAttribute("data-role"))),
    ).toEqual(["person", "po"]);
    const reply = messageItems().nth(1);
    expect(await reply.textContent()).toContain("<b>not bold</b>");
    expect(await reply.locator("b").count()).toBe(0);
    const links = reply.getByRole("link");
    expect(
      await links.evaluateAll((as) => as.map((a) => [a.getAttribute("href"), a.getAttribute("rel")])),
    ).toEqual([
      ["https://weather.example.test/app", "noopener noreferrer"],
      ["https://weather.example.test/app", "noopener noreferrer"],
    ]);
    expect(await reply.textContent()).not.toContain("never a link");
  });

  it("sends with Enter (Shift+Enter is a new line), then shows the Product Owner's reply and the working state from the stream", async () => {
    await streamOpen();
    const input = page.getByTestId("message-input");
    expect(await page.getByTestId("send-button").isDisabled()).toBe(true);
    await input.fill("Add a forecast");
    await input.press("Shift+Enter");
    await input.pressSequentially("for tomorrow");
    expect(await page.getByTestId("send-button").isDisabled()).toBe(false);
    await input.press("Enter");
    await messageItems().filter({ hasText: "Add a forecast" }).waitFor();
    expect(stub.posted).toEqual(["Add a forecast\nfor tomorrow"]);
    expect(await input.inputValue()).toBe("");
    expect(await messageItems().filter({ hasText: "Add a forecast" }).count()).toBe(1);

    stub.state("c-new", "processing");
    await page.getByTestId("working-indicator").waitFor();
    stub.push("c-new", message("r1", stub.lastSeq("c-new") + 1, "po", "Sure, adding a forecast."));
    await page.locator('[data-testid="message"][data-role="po"]', { hasText: "adding a forecast" }).waitFor();
    stub.state("c-new", "idle");
    await page.getByTestId("working-indicator").waitFor({ state: "detached" });
  });

  it("offers a masked field for a secret the PO asked for, whose value never enters the transcript", async () => {
    await streamOpen();
    const value = "owm_5f3c9a1e7b2d4c6e8a0b1c2d3e4f5a6b";
    stub.awaitSecrets("c-new", ["WEATHER_API_KEY"]);
    const field = page.getByTestId("secret-field");
    await field.waitFor();
    expect(await field.textContent()).toContain("WEATHER_API_KEY");
    const input = field.locator("input");
    expect(await input.getAttribute("type")).toBe("password");
    await input.fill(value);
    await field.getByRole("button").click();
    await until("the secret to reach its route", 10_000, async () =>
      stub.secretsFilled.length > 0 ? true : null,
    );
    expect(stub.secretsFilled).toEqual([{ key: "WEATHER_API_KEY", value }]);
    // The field is cleared once the route has answered, a moment after the stub saw the request.
    await until("the field to be cleared", 10_000, async () =>
      (await input.inputValue()) === "" ? true : null,
    );
    // Never a message: not posted, not shown, not in the page.
    expect(stub.posted.join("\n")).not.toContain(value);
    expect(await page.content()).not.toContain(value);
    stub.awaitSecrets("c-new", []);
    await field.waitFor({ state: "detached" });
  });

  it("updates a progress message in place when the same message comes again", async () => {
    const seq = stub.lastSeq("c-new") + 1;
    stub.push("c-new", message("g1", seq, "system", "Step 1 of 3: writing tests", { kind: "progress" }));
    const progress = page.locator('[data-testid="message"][data-kind="progress"]');
    await progress.filter({ hasText: "Step 1 of 3" }).waitFor();
    const element = (await progress.elementHandle()) as ElementHandle;
    stub.push(
      "c-new",
      message("g1", seq, "system", "Step 2 of 3: writing code", {
        kind: "progress",
        editedAt: new Date().toISOString(),
      }),
    );
    await page.waitForFunction((el) => el?.textContent?.includes("Step 2 of 3"), element);
    expect(await element.evaluate((el) => (el as { isConnected: boolean }).isConnected)).toBe(true);
    expect(await progress.count()).toBe(1);
  });

  it("reopens a lost stream and resumes after the last message it saw", async () => {
    const seen = stub.lastSeq("c-new");
    const opened = stub.streamAfters.length;
    stub.hangUp();
    await until("the stream reopened", 15_000, async () => (stub.streamAfters.length > opened ? true : null));
    expect(stub.streamAfters.at(-1)).toBe(seen);
    await streamOpen();
    stub.push("c-new", message("r2", seen + 1, "po", "Back after the reconnect."));
    await messageItems().filter({ hasText: "Back after the reconnect." }).waitFor();
  });

  it("switches the conversation to Русский and the interface with it", async () => {
    await page.getByTestId("language-select").selectOption("ru");
    await page.getByTestId("send-button").filter({ hasText: "Отправить" }).waitFor();
    expect(await texts("new-conversation")).toEqual(["Новый разговор"]);
    expect(await texts("demo-banner")).toEqual([
      "Демо: Product Owner работает по сценарию, модель не вызывается",
    ]);
    expect(await page.evaluate<string>("document.documentElement.lang")).toBe("ru");
  });

  it("signs out, and signs in again from a #token= link that leaves the address bar", async () => {
    await page.getByRole("button", { name: "Выйти" }).click();
    await page.getByTestId("token-input").waitFor();
    // The server forgot the session: a reload finds the sign-in form again.
    await until("the session to end", 10_000, async () => (stub.liveSessions.size === 0 ? true : null));
    await page.reload();
    await page.getByTestId("token-input").waitFor();
    await page.goto(`${stub.url}/#token=${TOKEN}`);
    await page.getByTestId("demo-banner").waitFor();
    expect(new URL(page.url()).hash).toBe("");
    // Every write the app made carried the session's CSRF value.
    expect(stub.csrfRefusals).toEqual([]);
    const broken = browser.consoleLines.filter((line) => /pageerror|Content Security Policy/.test(line));
    expect(broken).toEqual([]);
  });
});
