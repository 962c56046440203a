import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

/** A headless Chromium page for a UI test; `close` ends the browser. */
export interface BrowserPage {
  page: Page;
  context: BrowserContext;
  browser: Browser;
  /** Messages the page logged to its console and errors it threw, to show when a test fails. */
  consoleLines: string[];
  close(): Promise<void>;
}

/** Debian's `chromium` package (the test command installs it), unless `CHROMIUM_PATH` names another. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH?.trim() || "/usr/bin/chromium";
  if (!existsSync(path)) {
    throw new Error(`no Chromium at ${path}: install Debian's chromium package or set CHROMIUM_PATH`);
  }
  return path;
}

/**
 * Launches headless Chromium through playwright-core and opens one page. The flags suit a root user
 * in a container: no setuid sandbox to drop into, and a /dev/shm that may be tiny.
 */
export async function openBrowserPage(options: { locale?: string } = {}): Promise<BrowserPage> {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
  try {
    const context = await browser.newContext({ locale: options.locale ?? "en-US" });
    const page = await context.newPage();
    const consoleLines: string[] = [];
    page.on("console", (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => consoleLines.push(`pageerror: ${error.message}`));
    return { page, context, browser, consoleLines, close: () => browser.close() };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
