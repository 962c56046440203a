import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { type BrowserPage, openBrowserPage } from "./browser.js";
import { builtWebApp } from "./web-app.js";

/** Where the admin pages' tests write their screenshots (`ADMIN_SCREENSHOTS_DIR`, else a temporary folder). */
export const ADMIN_SCREENSHOTS =
  process.env.ADMIN_SCREENSHOTS_DIR ?? join(tmpdir(), "orchestrator-admin-screenshots");

/** Headless Chromium for the admin pages: the web app built, the screenshot folder made. */
export async function openAdminBrowser(defaultTimeoutMs = 15_000): Promise<BrowserPage> {
  await builtWebApp();
  const browser = await openBrowserPage();
  browser.page.setDefaultTimeout(defaultTimeoutMs);
  await mkdir(ADMIN_SCREENSHOTS, { recursive: true });
  return browser;
}

/** For `afterEach`: prints what the page logged when the test failed. */
export function printConsoleIfFailed(
  context: { task: { result?: { state?: string } } },
  browser: BrowserPage | undefined,
): void {
  if (context.task.result?.state === "fail" && browser)
    console.log(`browser console:\n${browser.consoleLines.join("\n")}`);
}

/** The body rows of the table with this test id, each as its cells' texts joined by `separator`. */
export async function tableRows(page: Page, testId: string, separator = " | "): Promise<string[]> {
  const rows = await page.getByTestId(testId).locator("tbody tr").all();
  return Promise.all(
    rows.map(async (row) =>
      (await row.locator("th, td").allTextContents()).map((t) => t.trim()).join(separator),
    ),
  );
}
