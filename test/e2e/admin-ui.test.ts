/**
 * The admin pages in a real browser against the real API (in-memory store): signing in with a
 * token, the dashboard reading what the store holds, a shareable address, keyboard reach, and a
 * person who is not an admin kept out of the pages and their API. Screenshots go to
 * `ADMIN_SCREENSHOTS_DIR` (default: a folder under the system's temporary directory).
 */
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { issueToken } from "../../src/auth/index.js";
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
  h = await startApiHarness({ listen: true, adminChangePollMs: 200 });
  url = h.url ?? "";
  browser = await openAdminBrowser();
  page = browser.page;
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
});
afterEach((context) => printConsoleIfFailed(context, browser));

/** The rows of the table with this test id, as cell texts joined by ": ". */
const rowsOf = (testId: string) => tableRows(page, testId, ": ");

describe("admin pages", () => {
  it("asks an admin to sign in at a shared address, then shows the dashboard there", async () => {
    await page.goto(`${url}/admin`);
    // The one field is labelled.
    await page.getByLabel("Access token").fill(h.adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/admin");
    expect(await page.title()).toBe("Dashboard · Orchestrator admin");
    expect(await rowsOf("projects-by-status")).toEqual(["None"]);
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-empty.png"), fullPage: true });
  });

  it("shows what the store holds: projects by status, runs by kind and result, spend with estimates marked", async () => {
    const alpha = await h.store.projects.create({ name: "alpha" });
    const beta = await h.store.projects.create({ name: "beta" });
    await h.store.projects.setStatus(beta.id, "building");
    const run = await h.store.runs.create({
      projectId: alpha.id,
      kind: "engineering",
      input: { brief: "x" },
    });
    await h.store.runs.transition(run.id, "running");
    await h.store.tokenUsage.record({
      workerId: null,
      projectId: alpha.id,
      runId: run.id,
      backend: "api",
      model: "claude-sonnet-4-5",
      inputTokens: 1200,
      outputTokens: 300,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: 0.42,
      costSource: "estimated",
    });
    const failed = await h.store.deployments.create({
      projectId: beta.id,
      commitSha: "abcdef1234",
      release: "r1",
    });
    await h.store.deployments.finish(failed.id, "failed", {});

    // A reload of the shared address reads the store again (the page also refreshes by itself).
    await page.reload();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await expect.poll(() => rowsOf("projects-by-status")).toEqual(["building: 1", "draft: 1"]);
    expect(await rowsOf("runs-today")).toEqual(["engineering · running: 1"]);
    expect(await rowsOf("workers-by-state")).toEqual(["None"]);
    const spend = await page.getByTestId("spend").textContent();
    expect(spend).toContain("$0.42 (of which $0.42 estimated)");
    expect(spend).toContain("1,200 tokens in, 300 out, 1 calls");
    expect(await page.getByTestId("failing-deployments").textContent()).toContain(
      `${beta.slug} at abcdef1234: failed`,
    );
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard.png"), fullPage: true });
  });

  it("follows the store live: a project created elsewhere shows with no reload", async () => {
    const reloads: string[] = [];
    const onRequest = (request: { url(): string }) => {
      if (request.url().endsWith("/admin")) reloads.push(request.url());
    };
    page.on("request", onRequest);
    try {
      await h.store.projects.create({ name: "gamma" });
      // Well within the 30 s re-read: only the change stream can bring it this soon.
      await expect
        .poll(() => rowsOf("projects-by-status"), { timeout: 10_000 })
        .toEqual(["building: 1", "draft: 2"]);
      expect(reloads).toEqual([]);
    } finally {
      page.off("request", onRequest);
    }
  });

  it("reaches every control with the keyboard, in order", async () => {
    // Every section's link, then the chat's, as the navigation lists them.
    const links = await page
      .getByRole("navigation", { name: "Admin sections" })
      .getByRole("link")
      .allTextContents();
    expect(links[0]).toBe("Dashboard");
    expect(links.at(-1)).toBe("Chat");
    await page.locator("body").focus();
    const reached: string[] = [];
    for (let i = 0; i < links.length + 2; i++) {
      await page.keyboard.press("Tab");
      reached.push(await page.evaluate<string>('(document.activeElement?.textContent ?? "").trim()'));
    }
    expect(reached).toEqual([...links.map((l) => l.trim()), "Sign out", expect.any(String)]);
  });

  it("keeps a person who is not an admin out of the pages and their API", async () => {
    const user = await h.store.users.create({ name: "Pat", webLogin: "pat" });
    const { token } = await issueToken(h.store, { name: "pat", kind: "user", userId: user.id });
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Access token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Admins only" }).waitFor();
    // With the session's own cookie, from the page: the API refuses too.
    const status = await page.evaluate<number>('fetch("/api/admin/summary").then((r) => r.status)');
    expect(status).toBe(403);
    await page.screenshot({ path: join(SCREENSHOTS, "admins-only.png") });
  });
});
