/**
 * The operations pages in a real browser against the orchestrator as `up --demo` builds it (in this
 * process: embedded database, the worker manager on the process runtime with the scripted agent,
 * the bot pool checking tokens with the fake Bot API): a worker paused and resumed from its page,
 * its output and usage shown; a user approved and made admin; a pool token added and shown masked
 * (neither the page nor any API answer holds it whole); a server's register form keeping the key
 * masked and naming the field at fault. Every page: its title, labelled fields, keyboard reach and a
 * screenshot in `ADMIN_SCREENSHOTS_DIR` (default: a folder under the system's temporary directory).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Orchestrator, ROLES, startOrchestrator } from "../../src/app/index.js";
import { loadConfig } from "../../src/config/index.js";
import type { User, Worker } from "../../src/contracts/index.js";
import { type FakeTelegram, startFakeTelegram } from "../fakes/telegram/index.js";
import {
  openAdminBrowser,
  printConsoleIfFailed,
  ADMIN_SCREENSHOTS as SCREENSHOTS,
} from "../support/admin-browser.js";
import { apiCaller } from "../support/api-call.js";
import type { BrowserPage } from "../support/browser.js";
import { freePort, workerPortRange } from "../support/ports.js";

/** A bot token of @BotFather's shape: the bot's id, a colon, 35 URL-safe characters. */
const botToken = (id: number) => `${id}:${randomBytes(27).toString("base64url").slice(0, 35)}`;
/** The bot the pool is given in this file; only the fake Bot API and the vault may know its token. */
const POOL_TOKEN = botToken(7_310_042);

let dir = "";
let orchestrator: Orchestrator | null = null;
let tg: FakeTelegram;
let url = "";
let adminToken = "";
let browser: BrowserPage;
let page: Page;
/** Every answer the API gave the page, as text, to look for what must never be in one. */
const answers: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "admin-operations-"));
  tg = await startFakeTelegram({ token: botToken(7_310_001), username: "unused_bot" });
  tg.addBot({ token: POOL_TOKEN, username: "pooled_weather_bot" });
  const [low, high] = workerPortRange(37_000);
  const config = loadConfig(
    {
      ORCHESTRATOR_DATA_DIR: join(dir, "data"),
      ORCHESTRATOR_PORT: String(await freePort()),
      LOG_LEVEL: "warn",
      DEPLOY_PORT_RANGE: `${low}-${high}`,
      TELEGRAM_API_ROOT: tg.url,
    },
    "embedded",
  );
  const announced: string[] = [];
  orchestrator = await startOrchestrator(config, {
    roles: ROLES,
    demo: true,
    announce: (line) => announced.push(line),
  });
  url = orchestrator.url ?? "";
  adminToken = /orc_[A-Za-z0-9_-]{43}/.exec(announced.join("\n"))?.[0] ?? "";
  if (!url || !adminToken) throw new Error(`no API or admin token: ${announced.join("\n")}`);

  browser = await openAdminBrowser(20_000);
  page = browser.page;
  page.on("dialog", (dialog) => void dialog.accept());
  page.on("response", (response) => {
    if (!response.url().startsWith(`${url}/api/`)) return;
    response.text().then(
      (text) => answers.push(text),
      () => undefined,
    );
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await orchestrator?.stop();
  await tg?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

afterEach((context) => {
  printConsoleIfFailed(context, browser);
});

/** The API as the admin's bearer token (what an operator's script would do). */
function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  return apiCaller(url, adminToken).ok<T>(method, path, body);
}

/** Presses Tab until the focused element's accessible text is `name` (at most `limit` times). */
async function tabTo(name: string, limit = 40): Promise<void> {
  await page.locator("body").focus();
  const seen: string[] = [];
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate<string>(
      '(document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.textContent ?? "").trim()',
    );
    seen.push(focused);
    if (focused === name) return;
  }
  throw new Error(`Tab never reached "${name}"; it reached: ${seen.join(" | ")}`);
}

async function signIn(): Promise<void> {
  await page.goto(`${url}/admin`);
  await page.getByLabel("Access token").fill(adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
}

describe("the operations pages", () => {
  let worker: Worker;

  it("lists workers with the filters in the address, and pauses and resumes one from its page", async () => {
    await signIn();
    const project = await call<{ id: string; slug: string }>("POST", "/api/projects", {
      name: "Weather bot",
    });
    worker = await call<Worker>("POST", "/api/workers", {
      role: "developer",
      projectId: project.id,
      backend: "scripted",
    });
    // One real turn of the scripted agent: output to show; the worker is paused after it.
    const steps = [
      { run: { argv: ["echo", "hello from the sandbox"] } },
      { report: { status: "complete", summary: "said hello" } },
    ];
    const turn = await call<{ ok: boolean; error: unknown }>("POST", `/api/workers/${worker.id}/messages`, {
      message: JSON.stringify({ steps }),
      options: { timeoutMs: 60_000 },
    });
    expect(turn.ok, JSON.stringify(turn.error)).toBe(true);
    const paused = await call<Worker>("GET", `/api/workers/${worker.id}`);
    expect(paused.state).toBe("paused");

    // A shared address with a filter nothing matches shows none, the filter set in its field.
    await page.goto(`${url}/admin/workers?state=failed`);
    await page.getByText("No workers match these filters.").waitFor();
    expect(await page.getByLabel("State").inputValue()).toBe("failed");

    // The list, reached from the navigation; its filters go to the address.
    await page.getByRole("link", { name: "Workers" }).click();
    await page.getByRole("heading", { name: "Workers" }).waitFor();
    expect(await page.title()).toBe("Workers · Orchestrator admin");
    await page.getByLabel("State").selectOption("paused");
    await page.getByLabel("Role").selectOption("developer");
    await expect.poll(() => new URL(page.url()).search).toBe("?state=paused&role=developer");
    const row = page.getByTestId("workers").locator("tbody tr").first();
    await expect.poll(() => row.textContent()).toContain(project.slug);
    expect(await row.textContent()).toContain("scripted");
    await page.screenshot({ path: join(SCREENSHOTS, "workers.png"), fullPage: true });

    // The worker's page, opened from its row with the keyboard.
    await tabTo(worker.id.slice(0, 8));
    await page.keyboard.press("Enter");
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/admin/workers/${worker.id}`);
    // Its facts, output and usage; Resume and Pause reached with the keyboard.
    await page.getByRole("heading", { name: `Worker ${worker.id.slice(0, 8)}` }).waitFor();
    expect(await page.title()).toBe(`Worker ${worker.id.slice(0, 8)} · Orchestrator admin`);
    const state = page.getByTestId("worker-state");
    await expect.poll(() => state.textContent()).toContain("paused");
    // The project is named by its slug once the page has read it.
    await expect.poll(() => page.getByTestId("worker-facts").textContent()).toContain(project.slug);
    const facts = await page.getByTestId("worker-facts").textContent();
    expect(facts).toContain("developer");
    expect(facts).toContain("scripted on process");
    expect(facts).toContain("complete: said hello");
    await expect
      .poll(() => page.getByRole("log", { name: "Live output" }).textContent())
      .toContain("hello from the sandbox");
    // The scripted agent's turn is one usage row of this worker: no tokens, no cost.
    const usage = await page.getByTestId("worker-usage").textContent();
    expect(usage).toContain("0 tokens in, 0 out");
    expect(usage).toContain("1 call: $0.00");
    expect(usage).toContain("scripted · scripted");

    await tabTo("Resume");
    await page.keyboard.press("Enter");
    await expect.poll(() => state.textContent()).toContain("running");
    expect((await call<Worker>("GET", `/api/workers/${worker.id}`)).state).toBe("running");
    await page.screenshot({ path: join(SCREENSHOTS, "worker.png"), fullPage: true });

    await tabTo("Pause");
    await page.keyboard.press("Enter");
    await expect.poll(() => state.textContent()).toContain("paused");
    expect((await call<Worker>("GET", `/api/workers/${worker.id}`)).state).toBe("paused");

    // Resumed elsewhere (the API): the open page follows the change stream, with no reload.
    await call("POST", `/api/workers/${worker.id}/resume`);
    await expect.poll(() => state.textContent(), { timeout: 15_000 }).toContain("running");
  });

  it("terminates a worker from its page once the admin confirms", async () => {
    await page.getByRole("button", { name: "Terminate" }).click();
    await expect.poll(() => page.getByTestId("worker-state").textContent()).toContain("stopped");
    expect((await call<Worker>("GET", `/api/workers/${worker.id}`)).state).toBe("stopped");
    expect(await page.getByRole("button", { name: "Resume" }).isDisabled()).toBe(true);
  });

  it("approves a person and makes them an admin", async () => {
    const pat = await call<User>("POST", "/api/users", {
      name: "Pat Doe",
      webLogin: "pat",
      isAllowed: false,
    });
    await page.getByRole("link", { name: "Users" }).click();
    await page.getByRole("heading", { name: "Users" }).waitFor();
    expect(await page.title()).toBe("Users · Orchestrator admin");
    const row = page.getByTestId(`user-${pat.id}`);
    expect(await row.getByTestId("user-status").textContent()).toBe("not allowed");

    await tabTo("Approve Pat Doe");
    await page.keyboard.press("Enter");
    await expect.poll(() => row.getByTestId("user-status").textContent()).toBe("allowed");
    await row.getByRole("button", { name: "Make Pat Doe an admin" }).click();
    await expect.poll(() => row.getByTestId("user-role").textContent()).toBe("admin");
    expect(await call<User>("GET", `/api/users/${pat.id}`)).toMatchObject({ isAllowed: true, role: "admin" });
    await page.screenshot({ path: join(SCREENSHOTS, "users.png"), fullPage: true });

    // Blocking asks first (accepted here), then the person is barred.
    await row.getByRole("button", { name: "Block Pat Doe" }).click();
    await expect.poll(() => row.getByTestId("user-status").textContent()).toBe("not allowed");
    await row.getByRole("button", { name: "Remove admin from Pat Doe" }).click();
    await expect.poll(() => row.getByTestId("user-role").textContent()).toBe("user");
  });

  it("adds a pool bot with its token masked on the page and in every answer", async () => {
    await page.getByRole("link", { name: "Bot pool" }).click();
    await page.getByRole("heading", { name: "Bot pool" }).waitFor();
    expect(await page.title()).toBe("Bot pool · Orchestrator admin");
    const field = page.getByLabel("Bot token");
    expect(await field.getAttribute("type")).toBe("password");

    // A token Telegram does not know is refused, and said so beside the field.
    await field.fill(botToken(7_310_099));
    await page.getByRole("button", { name: "Add" }).click();
    await page.locator(".field__error").waitFor();
    expect(await field.inputValue()).toBe("");

    await field.fill(POOL_TOKEN);
    await tabTo("Add");
    await page.keyboard.press("Enter");
    const row = page.getByTestId("pool-bot-pooled_weather_bot");
    await row.waitFor();
    expect(await field.inputValue()).toBe("");
    const shown = await row.textContent();
    expect(shown).toContain("7310042:");
    expect(shown).toContain("free");
    expect(await page.getByRole("status").or(page.locator("output")).first().textContent()).toContain(
      "Added @pooled_weather_bot",
    );
    await page.screenshot({ path: join(SCREENSHOTS, "pool.png"), fullPage: true });

    const secretPart = POOL_TOKEN.split(":")[1] ?? "";
    expect(await page.content()).not.toContain(secretPart);
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.filter((text) => text.includes(secretPart))).toEqual([]);
    // The bot is free: Remove takes it out (after a confirmation).
    await row.getByRole("button", { name: "Remove @pooled_weather_bot" }).click();
    await row.waitFor({ state: "detached" });
  });

  it("shows a server's status, capacity and ports in use, and checks it on demand", async () => {
    const store = orchestrator?.store;
    if (!store) throw new Error("no orchestrator");
    // A server as a past check left it, with no key: "Check now" cannot reach it over SSH.
    const server = await store.servers.create({
      handle: "edge-0",
      host: "127.0.0.1",
      sshPort: await freePort(),
      sshUser: "deploy",
      capacity: { cpuCores: 4, memoryMb: 8192, diskMb: 40_960 },
    });
    const project = await call<{ id: string; slug: string }>("POST", "/api/projects", {
      name: "Port holder",
    });
    await call("POST", "/api/ports", {
      serverId: server.id,
      port: 41_234,
      projectId: project.id,
      service: "web",
    });

    await page.getByRole("link", { name: "Servers" }).click();
    await page.getByRole("heading", { name: "Servers" }).waitFor();
    expect(await page.title()).toBe("Servers · Orchestrator admin");
    const card = page.getByTestId("server-edge-0");
    await expect.poll(() => card.textContent()).toContain("pending");
    const text = await card.textContent();
    expect(text).toContain("deploy@127.0.0.1:");
    expect(text).toContain("4 CPU cores, 8,192 MB memory, 40 GB disk");
    await expect
      .poll(() => card.getByRole("table", { name: "Ports in use" }).textContent())
      .toContain("41234");
    expect(await card.getByRole("table", { name: "Ports in use" }).textContent()).toContain(project.slug);

    await tabTo("Check edge-0 now");
    await page.keyboard.press("Enter");
    await expect.poll(() => card.locator("h3").textContent()).toContain("error");
    expect(await card.textContent()).toContain("Last error");
    expect((await store.servers.get(server.id)).status).toBe("error");
  });

  it("registers a server only with valid input, the key masked and cleared, errors beside their fields", async () => {
    const key = page.getByLabel("Private key");
    const junkKey = `not a key ${randomBytes(12).toString("hex")}`;

    await page.getByLabel("Name").fill("Bad Name!");
    await page.getByLabel("Host").fill("deploy.example.test");
    await page.getByLabel("SSH port").fill("2222");
    await page.getByLabel("SSH user").fill("deploy");
    await key.fill(junkKey);
    const keyId = JSON.stringify(await key.getAttribute("id"));
    const masking = `getComputedStyle(document.getElementById(${keyId})).getPropertyValue("-webkit-text-security")`;
    expect(await page.evaluate<string>(masking)).toBe("disc");
    await page.getByRole("button", { name: "Register" }).click();
    // The API's own validation, shown under the field it names; the key field is empty again.
    const nameError = page.getByLabel("Name").locator("xpath=following-sibling::*[1]");
    await expect.poll(() => nameError.textContent()).toContain("lower-case letters");
    expect(await page.getByLabel("Name").getAttribute("aria-invalid")).toBe("true");
    expect(await key.inputValue()).toBe("");

    await page.getByLabel("Name").fill("edge-1");
    await key.fill(junkKey);
    await tabTo("Register");
    await page.keyboard.press("Enter");
    const keyError = key.locator("xpath=following-sibling::*[1]");
    await expect.poll(() => keyError.textContent()).toContain("private key");
    expect(await key.inputValue()).toBe("");
    expect(await page.content()).not.toContain(junkKey);
    const servers = await call<{ items: { handle: string }[] }>("GET", "/api/servers");
    expect(servers.items.map((s) => s.handle)).toEqual(["edge-0"]);
    await page.screenshot({ path: join(SCREENSHOTS, "servers.png"), fullPage: true });
  });
});
