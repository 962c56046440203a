/**
 * The Settings page in a real browser against the real API (in-memory store): the node list, the
 * developer node's prompt changed on its page (version 2 by the signed-in admin, with the diff),
 * version 1 restored (version 3 appears), an invalid field refused beside the field, the worker and
 * session lifetimes changed, and keyboard reach. Screenshots go to `ADMIN_SCREENSHOTS_DIR`.
 */
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  openAdminBrowser,
  printConsoleIfFailed,
  ADMIN_SCREENSHOTS as SCREENSHOTS,
  tableRows,
} from "../support/admin-browser.js";
import { type ApiHarness, startApiHarness } from "../support/api-harness.js";
import type { BrowserPage } from "../support/browser.js";

const NEW_PROMPT_LINE = "Always write a test before the code it checks.";

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

describe("admin settings page", () => {
  it("lists every node at a shared address after signing in", async () => {
    await page.goto(`${url}/admin/settings`);
    await page.getByLabel("Access token").fill(h.adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Settings", exact: true }).waitFor();
    expect(await page.title()).toBe("Settings · Orchestrator admin");
    const nodes = (await rowsOf("agent-nodes")).map((r) => r.split(" | ").slice(0, 4).join(" | "));
    expect(nodes).toEqual([
      "po | api | claude-sonnet-4-5 | v1",
      "architect | claude-code | claude-sonnet-4-5 | v1",
      "developer | claude-code | claude-sonnet-4-5 | v1",
      "tester | claude-code | claude-sonnet-4-5 | v1",
      "devops | claude-code | claude-sonnet-4-5 | v1",
    ]);
    await page.screenshot({ path: join(SCREENSHOTS, "settings.png"), fullPage: true });
  });

  it("saves the developer's changed prompt as version 2 by the admin, with the diff", async () => {
    await page.getByRole("link", { name: "developer" }).click();
    await page.getByRole("heading", { name: "Settings: developer" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/admin/settings/developer");
    expect(await page.title()).toBe("Settings: developer · Orchestrator admin");
    // Every field is labelled.
    for (const label of ["Backend", "Model", "Prompt", "Max turns", "Budget (USD)", "Timeout (ms)"])
      await expect.poll(() => page.getByLabel(label, { exact: true }).count()).toBe(1);
    const prompt = page.getByLabel("Prompt", { exact: true });
    const original = await prompt.inputValue();
    await prompt.fill(`${original}\n${NEW_PROMPT_LINE}`);
    await page.getByRole("button", { name: "Save as a new version" }).click();

    await expect.poll(() => rowsOf("versions")).toHaveLength(2);
    const [newest, first] = await rowsOf("versions");
    expect(newest).toMatch(/^v2 \| admin:test-admin \| .+ \| claude-code · claude-sonnet-4-5 \| current$/);
    expect(first).toMatch(/^v1 \| shipped default \| /);
    expect(new URL(page.url()).search).toBe("?from=1&to=2");
    await page.getByTestId("prompt-diff").waitFor();
    const added = await page.locator(".diff-line--added").allTextContents();
    expect(added.map((t) => t.trim())).toEqual([`+ ${NEW_PROMPT_LINE}`]);
    expect(await page.locator(".diff-line--removed").count()).toBe(0);
    expect(await rowsOf("diff-fields")).toContain("Saved by | shipped default | admin:test-admin");
    // What the page saved is what the run's worker will be given.
    const stored = await h.store.agentConfigs.get("developer");
    expect(stored).toMatchObject({ version: 2, prompt: `${original}\n${NEW_PROMPT_LINE}` });
    await page.screenshot({ path: join(SCREENSHOTS, "settings-developer-diff.png"), fullPage: true });
  });

  it("restores version 1 as version 3, keeping version 2 in the history", async () => {
    await page.getByRole("button", { name: "Restore v1" }).click();
    await expect.poll(() => rowsOf("versions")).toHaveLength(3);
    const rows = await rowsOf("versions");
    expect(rows[0]).toMatch(/^v3 \| admin:test-admin \| .+ \| current$/);
    expect(rows[1]).toMatch(/^v2 \| admin:test-admin \| /);
    await expect.poll(() => new URL(page.url()).search).toBe("?from=2&to=3");
    await page.getByTestId("prompt-diff").waitFor();
    expect((await page.locator(".diff-line--removed").allTextContents()).map((t) => t.trim())).toEqual([
      `- ${NEW_PROMPT_LINE}`,
    ]);
    const stored = await h.store.agentConfigs.get("developer");
    expect(stored.version).toBe(3);
    expect(stored.prompt).toBe((await h.store.agentConfigs.getVersion("developer", 1)).prompt);
    expect(await page.getByLabel("Prompt", { exact: true }).inputValue()).toBe(stored.prompt);

    // A diff between any two versions has an address of its own.
    await page.goto(`${url}/admin/settings/developer?from=1&to=2`);
    await page.getByTestId("prompt-diff").waitFor();
    expect(await page.getByRole("heading", { name: "Changes from v1 to v2" }).count()).toBe(1);
    await page.getByLabel("From version").selectOption("2");
    await expect.poll(() => new URL(page.url()).search).toBe("?from=2&to=2");
    await page.getByText("The prompt is the same.").waitFor();
  });

  it("shows the API's refusal beside the field it names, and saves nothing", async () => {
    await page.getByLabel("Max turns", { exact: true }).fill("0");
    await page.getByRole("button", { name: "Save as a new version" }).click();
    const error = page.locator("#config-maxTurns-error");
    await error.waitFor();
    expect(await error.textContent()).toMatch(/500|1|>=|greater|small/i);
    expect(await page.getByLabel("Max turns", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect((await h.store.agentConfigs.get("developer")).version).toBe(3);
  });

  it("changes the worker and session lifetimes, read by the next sign-in", async () => {
    await page.goto(`${url}/admin/settings`);
    const field = page.getByLabel("Web sign-in length (minutes)");
    await expect.poll(() => field.inputValue()).toBe("720");
    await field.fill("90");
    await page.getByLabel("Paused worker lifetime (minutes)").fill("0.5");
    await page.getByRole("button", { name: "Save lifetimes" }).click();
    // Half a minute is below the bound: refused beside its field, nothing saved.
    await page.locator("#setting-workerPausedTtlMs-error").waitFor();
    expect(await h.store.settings.get("webSessionTtlMs")).toBeNull();

    await page.getByLabel("Paused worker lifetime (minutes)").fill("45");
    await page.getByRole("button", { name: "Save lifetimes" }).click();
    await page.getByText("Set by admin:test-admin").first().waitFor();
    expect(await h.store.settings.get("webSessionTtlMs")).toBe(90 * 60_000);
    expect(await h.store.settings.get("workerPausedTtlMs")).toBe(45 * 60_000);
    const signIn = await fetch(`${url}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: h.adminToken }),
    });
    expect(signIn.headers.get("set-cookie")).toContain(`Max-Age=${90 * 60}`);
    await page.screenshot({ path: join(SCREENSHOTS, "settings-lifetimes.png"), fullPage: true });

    await page.getByRole("button", { name: "Use the default for web sign-in length" }).click();
    await expect.poll(() => h.store.settings.get("webSessionTtlMs")).toBeNull();
    await expect.poll(() => field.inputValue()).toBe("720");
  });

  it("reaches the node links, the form and the restore buttons with the keyboard", async () => {
    await page.goto(`${url}/admin/settings`);
    await page.getByRole("link", { name: "developer" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Settings: developer" }).waitFor();
    await page.getByLabel("Backend", { exact: true }).focus();
    const reached: string[] = [];
    for (let i = 0; i < 7; i++) {
      await page.keyboard.press("Tab");
      reached.push(
        await page.evaluate<string>(
          '(document.activeElement?.id || document.activeElement?.textContent || "").trim()',
        ),
      );
    }
    expect(reached).toEqual([
      "config-model",
      "config-prompt",
      "config-maxTurns",
      "config-budgetUsd",
      "config-timeoutMs",
      "Save as a new version",
      "Restore v2",
    ]);
    // Enter on a focused Restore button restores.
    await page.keyboard.press("Enter");
    await expect.poll(async () => (await h.store.agentConfigs.get("developer")).version).toBe(4);
  });
});
