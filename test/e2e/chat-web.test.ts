import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type BrowserPage, openBrowserPage } from "../support/browser.js";
import { START_DEADLINE_MS } from "../support/cli.js";
import { isAnnouncedAdminToken, leakScan } from "../support/leak-scan.js";
import { lightPlaybook } from "../support/light-project.js";
import { until } from "../support/until.js";
import { builtWebApp } from "../support/web-app.js";
import {
  type DemoOrchestrator,
  recordPage,
  type ShownMessage,
  shownMessages,
  startDemoOrchestrator,
} from "../support/web-chat.js";

/*
 * The web chat of `orchestrator up --demo` as a newcomer meets it, in a real browser: the brief
 * becomes a live link through the real pipeline (scripted PO and agents, real git, tests and local
 * deploy), a change and a status question follow in the same conversation, the system switches to
 * Russian with the conversation, and a reload shows everything again from the store. The scripted
 * agent writes the light time service (plain JavaScript, no dependencies) rather than the demo's
 * Fastify one, so the Tester and the deploy cost no npm or tsc; the demo's own playbook goes live
 * through `up --demo` in the tracing, restart and ssh-compose suites.
 */

const BRIEF = "a web service that tells the time";
/** How long one build with its deploy may take on a busy 2-core machine. */
const BUILD_DEADLINE_MS = 240_000;
/** A change the scripted architect cannot make: its script writes the build's acceptance test again. */
const CHANGE_DEADLINE_MS = 120_000;
const RUN_ID = /engineering run ([0-9a-f-]{36})\./;

interface Run {
  id: string;
  projectId: string;
  kind: string;
  status: string;
  input: { mode?: string; text?: string };
  error: { message: string } | null;
}

let demo: DemoOrchestrator;
let browser: BrowserPage;
let page: Page;
/** What the first build made: its project's name, its run and the link it went live at. */
const built = { project: "", runId: "", url: "" };
/** Every answer the page and this file get from the orchestrator is recorded for the leak scan. */
const scan = leakScan();
/** The demo's data directory, as its output names it. */
let dataDir = "";

beforeAll(async () => {
  await builtWebApp();
  demo = await startDemoOrchestrator({ playbook: lightPlaybook() });
  scan.recordResponses((url) => url.startsWith(`${demo.baseUrl}/`));
  dataDir = /Also saved to (\S+)\/admin\.token /.exec(demo.proc.output())?.[1] ?? "";
  if (!dataDir) throw new Error(`no data directory in the output:\n${demo.proc.output()}`);
  // Sandboxes and the Tester's checkouts go when a run ends: watched.
  scan.watchFolder("workers", join(dataDir, "workers")).watchFolder("engine", join(dataDir, "engine"));
  browser = await openBrowserPage();
  page = browser.page;
  scan.recordPage(page, `${demo.baseUrl}/`);
  page.setDefaultTimeout(15_000);
}, START_DEADLINE_MS + 150_000);
afterAll(async () => {
  await browser?.close();
  await demo?.close();
});
afterEach((context) => {
  if (context.task.result?.state !== "fail") return;
  console.log(`browser console:\n${browser?.consoleLines.join("\n")}`);
  console.log(`orchestrator output (tail):\n${demo?.proc.output().slice(-6_000)}`);
});

const messages = (role: ShownMessage["role"], kind: ShownMessage["kind"]) =>
  page.locator(`[data-testid="message"][data-role="${role}"][data-kind="${kind}"]`);
const textOf = async (item: Locator) => (await item.locator(".message__text").textContent()) ?? "";

/** Types a message as a person does (Enter sends) and waits for it to show as theirs. */
async function say(text: string): Promise<void> {
  const input = page.getByTestId("message-input");
  await input.fill(text);
  await input.press("Enter");
  await messages("person", "text").filter({ hasText: text }).last().waitFor();
  expect(await input.inputValue()).toBe("");
}

/** The nth reply of the scripted PO (from 0), once shown, and the run it says it started. */
async function poReply(n: number): Promise<{ text: string; runId: string | null }> {
  const item = messages("po", "text").nth(n);
  await item.waitFor();
  const text = await textOf(item);
  return { text, runId: RUN_ID.exec(text)?.[1] ?? null };
}

/** What the deployed service at `url` answers on `/api/time`: the time, as its JSON says it. */
async function timeAt(url: string): Promise<number> {
  const res = await fetch(`${url}/api/time`, { signal: AbortSignal.timeout(10_000) });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { now?: unknown };
  expect(typeof body.now).toBe("string");
  return Date.parse(String(body.now));
}

describe("the web chat of `up --demo`", () => {
  it("prints the web chat's sign-in link and serves the app at /", async () => {
    expect(demo.proc.output()).toContain(`Open the web chat: ${demo.baseUrl}/#token=${demo.adminToken}`);
    const res = await fetch(`${demo.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain('<div id="root">');
  });

  it("takes a newcomer from the brief to a live link that tells the time", {
    timeout: BUILD_DEADLINE_MS + 30_000,
  }, async () => {
    await page.goto(`${demo.baseUrl}/#token=${demo.adminToken}`);
    await page.getByTestId("demo-banner").waitFor();
    expect(await page.getByTestId("demo-banner").textContent()).toBe(
      "Demo: the Product Owner is scripted, no model is called",
    );
    expect(new URL(page.url()).hash).toBe("");
    // The token was exchanged for a session cookie the page cannot read; the browser keeps no token.
    expect(await page.evaluate<string>("JSON.stringify({ ...window.localStorage })")).not.toContain(
      demo.adminToken,
    );
    expect(await page.evaluate<string>("document.cookie")).not.toContain("orch_session");
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: "orch_session", httpOnly: true, sameSite: "Strict" });
    // A newcomer has no conversation yet: they write at once, and that starts one.
    expect(await page.getByTestId("conversation-item").count()).toBe(0);
    let journal = await recordPage(page);
    await say(BRIEF);

    const reply = await poReply(0);
    expect(reply.text).toMatch(/^\[scripted PO\] Started: engineering run [0-9a-f-]{36}\. /);
    const run = await demo.get<Run>(`/api/runs/${reply.runId}`);
    expect(run).toMatchObject({ kind: "engineering", input: { mode: "build", text: BRIEF } });
    built.runId = run.id;
    built.project = (await demo.get<{ name: string }>(`/api/projects/${run.projectId}`)).name;
    await page.getByTestId("conversation-item").filter({ hasText: BRIEF }).waitFor();

    // One progress message, moving in place as the stages go by ...
    const early = await until("the progress message to move", BUILD_DEADLINE_MS, async () => {
      const seen = await journal();
      return seen.progress.length >= 2 ? seen : null;
    });
    expect(await messages("system", "progress").count()).toBe(1);
    // The page said it was working from the moment the brief was sent until the answer came.
    expect(early.working).toBeGreaterThanOrEqual(1);
    // ... and still moving for a person who reloads the page in the middle of the build.
    await page.reload();
    await messages("system", "progress").waitFor();
    journal = await recordPage(page);

    const live = messages("system", "live");
    await live.waitFor({ timeout: BUILD_DEADLINE_MS });
    const [{ items: projects }, late] = await Promise.all([
      demo.get<{ items: { id: string; url: string | null }[] }>("/api/chat/projects"),
      journal(),
    ]);
    built.url = projects.find((p) => p.id === run.projectId)?.url ?? "";
    expect(built.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await textOf(live)).toBe(`✅ ${built.project} is live: ${built.url}`);
    expect((await shownMessages(page)).find((m) => m.kind === "live")?.hrefs).toContain(`${built.url}/`);
    // The link answers, and what it answers is the time.
    expect(Math.abs((await timeAt(built.url)) - Date.now())).toBeLessThan(60_000);

    expect(await messages("system", "progress").count()).toBe(1);
    for (const seen of [early, late]) {
      expect(new Set(seen.progress.map((p) => `${p.id}/${p.node}`)).size).toBe(1);
    }
    expect(late.progress.length).toBeGreaterThanOrEqual(2);
    const texts = [...early.progress, ...late.progress].map((p) => p.text);
    expect(texts[0]).toContain("⏳");
    const last = (texts.at(-1) ?? "").split("\n");
    expect(last).toEqual([
      `🛠 ${built.project}: building`,
      "✓ Architect",
      "✓ Preparing the repository",
      "✓ Developer, round 1",
      expect.stringMatching(/^✓ Tester: [1-9]\d* passed, 0 failed$/),
      "✓ Deploy",
      "✓ Health gate",
    ]);
    // Stages only went forward: every text keeps the final one's lines above its newest line.
    for (const [i, text] of texts.entries()) {
      const lines = text.split("\n");
      expect(lines.slice(0, -1)).toEqual(last.slice(0, lines.length - 1));
      expect(lines.length).toBeGreaterThanOrEqual(texts[i - 1]?.split("\n").length ?? 0);
    }
    expect(await page.getByTestId("working-indicator").count()).toBe(0);
    // The project list beside the chat shows it live with its link, without a reload.
    const project = page.getByTestId("project-item").filter({ hasText: built.project });
    await project.getByRole("link", { name: built.url }).waitFor();
    expect(await project.getByTestId("project-status").textContent()).toBe("live");
  });

  it("starts a change for 'add /api/date' and says truthfully how it ended; the live service stays", {
    timeout: CHANGE_DEADLINE_MS + 30_000,
  }, async () => {
    const journal = await recordPage(page);
    await say("add /api/date");
    const reply = await poReply(1);
    expect(reply.text).toMatch(/^\[scripted PO\] Started: engineering run [0-9a-f-]{36}\. /);
    // The PO was seen working on it, and is done.
    expect((await journal()).working).toBeGreaterThanOrEqual(1);
    await page.getByTestId("working-indicator").waitFor({ state: "detached" });
    expect(reply.runId).not.toBe(built.runId);
    const failed = messages("system", "failed");
    await failed.waitFor({ timeout: CHANGE_DEADLINE_MS });
    const run = await demo.get<Run>(`/api/runs/${reply.runId}`);
    expect(run).toMatchObject({ kind: "engineering", status: "failed", input: { mode: "change" } });
    expect(run.input.text).toBe("add /api/date");
    // The scripted architect plays the build's script again: no new acceptance test.
    expect(run.error?.message).toContain("wrote no acceptance tests");
    expect(await textOf(failed)).toBe(`❌ ${built.project}: the build failed: ${run.error?.message}`);
    const progress = messages("system", "progress");
    expect(await progress.count()).toBe(2);
    expect(await textOf(progress.nth(1))).toBe(`🛠 ${built.project}: changing\n✗ Architect`);
    expect(await textOf(progress.nth(0))).toContain("✓ Health gate");
    // The failed change touched nothing that runs.
    expect(Math.abs((await timeAt(built.url)) - Date.now())).toBeLessThan(60_000);

    // US4: health, uptime over 24 h, last deploy and open incidents, per project.
    await say("how are my projects?");
    expect((await poReply(2)).text).toMatch(
      new RegExp(
        `^\\[scripted PO\\] • ${built.project}: live; health live; uptime 24h (\\d+\\.\\d%|not measured yet); ` +
          "last deploy succeeded \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d; open incidents: none$",
      ),
    );
  });

  it("speaks Russian in its own messages once the conversation is set to Русский", {
    timeout: CHANGE_DEADLINE_MS + 30_000,
  }, async () => {
    await page.getByTestId("language-select").selectOption("ru");
    await page.getByTestId("send-button").filter({ hasText: "Отправить" }).waitFor();
    await page.getByTestId("project-status").filter({ hasText: "работает" }).waitFor();

    await say("/projects");
    const answer = messages("system", "notice").last();
    await answer.waitFor();
    expect(await textOf(answer)).toBe(`Ваши проекты:\n• ${built.project}: работает · ${built.url}`);

    await say("добавь /api/date");
    const reply = await poReply(3);
    expect(reply.text).toMatch(/^\[PO по сценарию\] /);
    const failed = messages("system", "failed").nth(1);
    await failed.waitFor({ timeout: CHANGE_DEADLINE_MS });
    const run = await demo.get<Run>(`/api/runs/${reply.runId}`);
    expect(run).toMatchObject({ status: "failed", input: { mode: "change", text: "добавь /api/date" } });
    expect(await textOf(failed)).toBe(`❌ ${built.project}: сборка не удалась: ${run.error?.message}`);
    expect(await textOf(messages("system", "progress").nth(2))).toBe(
      `🛠 ${built.project}: изменение\n✗ Архитектор`,
    );
  });

  it("shows the conversation and the project with its link again after a reload", async () => {
    const before = await shownMessages(page);
    const count = (role: string, kind: string) =>
      before.filter((m) => m.role === role && m.kind === kind).length;
    expect([count("person", "text"), count("po", "text")]).toEqual([5, 4]);
    expect(["progress", "live", "failed", "notice"].map((kind) => count("system", kind))).toEqual([
      3, 1, 2, 1,
    ]);
    await page.reload();
    await page.getByTestId("demo-banner").waitFor();
    await page
      .getByTestId("message")
      .nth(before.length - 1)
      .waitFor();
    expect(await shownMessages(page)).toEqual(before);
    expect(await page.getByTestId("conversation-item").allTextContents()).toEqual([
      expect.stringContaining(BRIEF),
    ]);
    const project = page.getByTestId("project-item").filter({ hasText: built.project });
    expect(await project.getByRole("link").getAttribute("href")).toBe(`${built.url}/`);
    // The conversation kept its language: the interface is still in Russian.
    expect(await page.getByTestId("send-button").textContent()).toBe("Отправить");
    expect(await page.evaluate<string>("document.documentElement.lang")).toBe("ru");
    const broken = browser.consoleLines.filter((line) => /pageerror|Content Security Policy/.test(line));
    expect(broken).toEqual([]);

    // Signing out ends the session on the server too: a reload finds the sign-in form.
    await page.getByRole("button", { name: "Выйти" }).click();
    await page.getByTestId("token-input").waitFor();
    await page.reload();
    await page.getByTestId("token-input").waitFor();
    expect(await page.getByTestId("conversation-item").count()).toBe(0);
  });

  it("leaks neither the admin token nor the vault key: answers to the page and the API, output, data directory, repositories, database", {
    timeout: 120_000,
  }, async () => {
    // Stopped first: the database is read from its files, and the output is whole.
    await demo.proc.stop("SIGTERM");
    const output = demo.proc.output();
    scan
      .secret("admin token", demo.adminToken)
      .secret("vault key", (await readFile(join(dataDir, "secret.key"), "utf8")).trim())
      .allow("`up` hands its admin token to its operator", isAnnouncedAdminToken)
      .allow("the files that hold the admin token and the vault key (mode 0600)", (hit) =>
        ["data: admin.token", "data: secret.key"].includes(hit.where),
      )
      .logs("orchestrator output", output);
    await scan.pgliteDir("database", join(dataDir, "db"));
    await scan.folder("data", dataDir);
    await scan.assertClean();
  });
});
