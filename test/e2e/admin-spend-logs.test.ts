/**
 * The Spend and Logs admin pages in a real browser against the real API (in-memory store, the
 * in-process bus carrying the log feed): recorded usage in the charts' tables with estimates
 * marked, a period in the address, and a log line logged after the page opened arriving live,
 * narrowed by the filters, held while the tail is paused. Labels and keyboard reach are checked.
 * Screenshots go to `ADMIN_SCREENSHOTS_DIR` (default: a folder under the system's temporary directory).
 */
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { addUtcDays } from "../../src/contracts/index.js";
import {
  openAdminBrowser,
  printConsoleIfFailed,
  ADMIN_SCREENSHOTS as SCREENSHOTS,
  tableRows,
} from "../support/admin-browser.js";
import { type ApiHarness, startApiHarness } from "../support/api-harness.js";
import type { BrowserPage } from "../support/browser.js";

let h: ApiHarness & { url: string | null };
let url = "";
let browser: BrowserPage;
let page: Page;

beforeAll(async () => {
  h = await startApiHarness({ listen: true });
  url = h.url ?? "";
  browser = await openAdminBrowser();
  page = browser.page;
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
});
afterEach((context) => printConsoleIfFailed(context, browser));

/** The rows of the table with this test id, as cell texts joined by " | ". */
const rowsOf = (testId: string) => tableRows(page, testId);

/** The focused control's name: its label's own text, or its text. */
const focusedText = () =>
  page.evaluate<string>(
    '(() => { const e = document.activeElement; const label = e?.labels?.[0]?.childNodes?.[0]?.textContent; return (label ?? e?.textContent ?? "").trim(); })()',
  );

/** Presses Tab until the focus leaves the current control (a date field has a stop per part). */
async function tabOut(): Promise<string> {
  const from = await page.evaluate<string>("String(document.activeElement?.outerHTML)");
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press("Tab");
    if ((await page.evaluate<string>("String(document.activeElement?.outerHTML)")) !== from) break;
  }
  return focusedText();
}

describe("Spend page", () => {
  it("shows recorded usage per day, project, user and model, estimates marked, for the period in the address", async () => {
    const owner = await h.store.users.create({ webLogin: "ada", name: "Ada Lovelace" });
    const weather = await h.store.projects.create({ name: "Weather bot", ownerId: owner.id });
    const shop = await h.store.projects.create({ name: "Shop" });
    const record = (
      projectId: string,
      backend: "claude-code" | "codex",
      model: string,
      costUsd: number,
      costSource: "provider" | "estimated",
    ) =>
      h.store.tokenUsage.record({
        workerId: null,
        projectId,
        runId: null,
        backend,
        model,
        inputTokens: 12_000,
        outputTokens: 3_000,
        cacheReadTokens: 500,
        cacheWriteTokens: 0,
        costUsd,
        costSource,
      });
    await record(weather.id, "claude-code", "claude-sonnet-4-5", 1.2, "provider");
    await record(weather.id, "codex", "gpt-5", 0.3, "estimated");
    await record(shop.id, "codex", "gpt-5", 0.25, "estimated");
    const today = new Date().toISOString().slice(0, 10);
    const from = addUtcDays(today, -6);

    await page.goto(`${url}/admin/spend?from=${from}&to=${today}`);
    await page.getByLabel("Access token").fill(h.adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Spend" }).waitFor();
    expect(await page.title()).toBe("Spend · Orchestrator admin");
    // The period of the address, in labelled fields.
    expect(await page.getByLabel("From (UTC)").inputValue()).toBe(from);
    expect(await page.getByLabel("To (UTC)").inputValue()).toBe(today);

    const totals = await page.getByTestId("spend-totals").textContent();
    expect(totals).toContain("$1.75 (≈ $0.55 estimated)");
    expect(totals).toContain("36,000 tokens in, 9,000 out");
    expect(await page.getByTestId("estimate-legend").textContent()).toContain("≈ estimated");

    // Every chart is a figure named by its caption, with a table of its figures.
    for (const caption of [
      "Cost per day",
      "Tokens per day (input and output)",
      "Cost per project",
      "Cost per user (the project's owner)",
      "Cost per backend and model",
    ]) {
      await expect
        .poll(() => page.getByRole("figure", { name: caption }).count(), { timeout: 5_000 })
        .toBe(1);
    }
    expect(await rowsOf("chart-per-project")).toEqual([
      `Weather bot (${weather.slug}) | $1.50 (≈ $0.30 estimated) | 24,000 | 6,000 | 1,000 | 2`,
      `Shop (${shop.slug}) | ≈ $0.25 | 12,000 | 3,000 | 500 | 1`,
    ]);
    expect(await rowsOf("chart-per-user")).toEqual([
      "Ada Lovelace | $1.50 (≈ $0.30 estimated) | 24,000 | 6,000 | 1,000 | 2",
      "No owner | ≈ $0.25 | 12,000 | 3,000 | 500 | 1",
    ]);
    expect(await rowsOf("chart-per-model")).toEqual([
      "claude-code · claude-sonnet-4-5 | $1.20 | 12,000 | 3,000 | 500 | 1",
      "codex · gpt-5 | ≈ $0.55 | 24,000 | 6,000 | 1,000 | 2",
    ]);
    // Seven days, today's with the spend (the drawing is hidden; its table is read instead).
    const days = await rowsOf("chart-cost-per-day");
    expect(days).toHaveLength(7);
    expect(days.at(-1)).toBe(`${today} | $1.75 (≈ $0.55 estimated) | 36,000 | 9,000 | 1,500 | 3`);
    expect(days[0]).toBe(`${from} | $0 | 0 | 0 | 0 | 0`);
    // The bars: a solid part and a hatched (estimated) part.
    expect(
      await page.getByTestId("chart-per-model").locator('rect[fill="url(#estimate-hatch)"]').count(),
    ).toBe(2);
    await page.screenshot({ path: join(SCREENSHOTS, "spend.png"), fullPage: true });
  });

  it("changes the period from the keyboard, into the address", async () => {
    const today = new Date().toISOString().slice(0, 10);
    await page.getByLabel("From (UTC)").focus();
    expect(await tabOut()).toBe("To (UTC)");
    expect(await tabOut()).toBe("Show period");
    // A period with no spend: tomorrow only.
    const tomorrow = addUtcDays(today, 1);
    await page.getByLabel("From (UTC)").fill(tomorrow);
    await page.getByLabel("To (UTC)").fill(tomorrow);
    await page.getByRole("button", { name: "Show period" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => new URL(page.url()).search).toBe(`?from=${tomorrow}&to=${tomorrow}`);
    await expect.poll(() => rowsOf("chart-per-project")).toEqual(["Nothing recorded in this period."]);
  });

  it("says plainly what is wrong with a period typed into the address", async () => {
    await page.goto(`${url}/admin/spend?from=2026-03-02&to=2026-03-01`);
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("from is after `to`");
  });
});

describe("Logs page", () => {
  const PROJECT = "0b6f4b36-5f59-4b6a-9d53-0a4c1f1e2a01";

  const lineTexts = async () => page.getByTestId("log-lines").locator("tbody tr").allTextContents();

  it("shows a line logged after the page opened, live, with its level's colour", async () => {
    await page.goto(`${url}/admin/logs`);
    await page.getByRole("heading", { name: "Logs" }).waitFor();
    expect(await page.title()).toBe("Logs · Orchestrator admin");
    for (const label of ["Component", "Level at least", "Project id", "Run id"]) {
      expect(await page.getByLabel(label).count(), label).toBe(1);
    }
    await page.getByText("Following live").waitFor();

    h.api.log
      .child({ component: "engine", projectId: PROJECT })
      .warn("tester red: 2 failing, back to the developer");
    const line = page.getByTestId("log-lines").locator("tr", { hasText: "tester red: 2 failing" });
    await line.waitFor();
    expect(await line.textContent()).toContain("engine");
    expect(await line.locator(".logs__level--warn").textContent()).toBe("warn");
    await page.screenshot({ path: join(SCREENSHOTS, "logs.png"), fullPage: true });
  });

  it("narrows the lines to a component and a minimum level, set from the keyboard, into the address", async () => {
    await page.getByLabel("Component").focus();
    await page.keyboard.type("scheduler");
    await page.keyboard.press("Tab");
    expect(await focusedText()).toBe("Level at least");
    await page.getByLabel("Level at least").selectOption("error");
    await page.getByLabel("Level at least").focus();
    for (const expected of ["Project id", "Run id", "Apply filters"]) {
      await page.keyboard.press("Tab");
      expect(await focusedText()).toBe(expected);
    }
    await page.keyboard.press("Enter");
    await expect.poll(() => new URL(page.url()).search).toBe("?component=scheduler&level=error");
    await page.getByText("Following live").waitFor();
    await expect.poll(lineTexts).toEqual([]);

    h.api.log.child({ component: "engine" }).error("an engine error, filtered out");
    h.api.log.child({ component: "scheduler" }).warn("a scheduler warning, below the level");
    h.api.log.child({ component: "scheduler" }).error("health check of weather-bot failed");
    await page
      .getByTestId("log-lines")
      .locator("tr", { hasText: "health check of weather-bot failed" })
      .waitFor();
    expect((await lineTexts()).join("\n")).not.toMatch(/filtered out|below the level/);
    await page.screenshot({ path: join(SCREENSHOTS, "logs-filtered.png"), fullPage: true });
  });

  it("holds new lines while the tail is paused and shows them on resume", async () => {
    const pause = page.getByRole("button", { name: "Pause tail" });
    await pause.focus();
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: "Resume tail" }).waitFor();
    h.api.log.child({ component: "scheduler" }).error("logged while paused");
    await page.getByText("Tail paused: 1 new line waiting").waitFor();
    expect((await lineTexts()).join("\n")).not.toContain("logged while paused");
    await page.getByRole("button", { name: "Resume tail" }).click();
    await page.getByTestId("log-lines").locator("tr", { hasText: "logged while paused" }).waitFor();
    await page.getByText("Following live").waitFor();
  });
});
