/**
 * The Projects and Runs admin pages in a real browser against the engineering pipeline in one
 * process (the engine harness: the real API on loopback, the local forge, the scripted agent in
 * real sandboxes writing the light project of test/support/light-project.ts, the real Tester): a
 * project made through the API is found by the search and hidden by the status filter; an
 * engineering run started from the project's page shows its stages as they happen, without a reload;
 * a run under way is cancelled from its page and really stops. Screenshots go to
 * `ADMIN_SCREENSHOTS_DIR` (default: a folder under the system's temporary directory).
 */
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Project, Run } from "../../src/contracts/index.js";
import { openAdminBrowser, ADMIN_SCREENSHOTS as SCREENSHOTS } from "../support/admin-browser.js";
import type { BrowserPage } from "../support/browser.js";
import { type EngineHarness, RUN_DEADLINE_MS, startEngineHarness } from "../support/engine-harness.js";
import { lightArchitect, lightPlaybook } from "../support/light-project.js";

const RUN_TEST_TIMEOUT = RUN_DEADLINE_MS + 60_000;

let h: EngineHarness;
let browser: BrowserPage;
let page: Page;

beforeAll(async () => {
  h = await startEngineHarness();
  browser = await openAdminBrowser(20_000);
  page = browser.page;
  // Failed answers are named with their address, to show when a test fails.
  page.on("response", (response) => {
    if (response.status() >= 400) browser.consoleLines.push(`${response.status()} ${response.url()}`);
  });
  // Signed in once, at a shared address of these pages: the session cookie serves every test.
  await page.goto(`${h.url}/admin/projects`);
  await page.getByLabel("Access token").fill(h.adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Projects" }).waitFor();
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
});
afterEach(async (context) => {
  if (context.task.result?.state !== "fail") return;
  console.log(`browser console:\n${browser.consoleLines.join("\n")}`);
  await page.screenshot({ path: join(SCREENSHOTS, "failed.png"), fullPage: true }).catch(() => {});
  for (const run of (await h.store.runs.list({ limit: 5, offset: 0 })).items) {
    const events = await h.store.runEvents.list(run.id, { limit: 500 });
    console.log(
      `run ${run.id} ${run.status} at ${run.stage}: ${JSON.stringify(run.error)} ${events.map((e) => e.type).join(", ")}`,
    );
  }
});

/** Creates a project over REST as an admin would with the API. */
async function createProject(name: string): Promise<Project> {
  const res = await fetch(`${h.url}/api/projects`, {
    method: "POST",
    headers: { authorization: `Bearer ${h.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name, description: "made through the API" }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as Project;
}

/** Marks the document, so a test can tell the page was updated in place rather than reloaded. */
const markDocument = () => page.evaluate("window.__notReloaded = true");
const isSameDocument = () => page.evaluate<boolean>("window.__notReloaded === true");

/** The stage names the timeline shows for a run, in order. */
const stagesShown = (runId: string) =>
  page.getByTestId(`timeline-${runId}`).getByTestId("stage-name").allTextContents();

async function waitForRunOf(projectId: string): Promise<Run> {
  for (let i = 0; i < 100; i++) {
    const [run] = (await h.store.runs.list({ projectId, limit: 1, offset: 0 })).items;
    if (run) return run;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("no run was started");
}

describe("admin projects and runs pages", () => {
  it("finds a project made through the API by its name, hides it by status, and keeps both in the address", async () => {
    const project = await createProject("Weather Forecast Bot");
    await createProject("Time keeper");
    await page.goto(`${h.url}/admin/projects`);
    await page.getByRole("heading", { name: "Projects" }).waitFor();
    expect(await page.title()).toBe("Projects · Orchestrator admin");
    const list = page.getByTestId("project-list");
    await list.getByRole("link", { name: "Weather Forecast Bot" }).waitFor();
    await list.getByRole("link", { name: "Time keeper" }).waitFor();

    // Searched from the keyboard: the field, typed text, Enter.
    await page.getByLabel("Search projects").focus();
    await page.keyboard.type("FORECAST");
    await page.keyboard.press("Enter");
    await expect.poll(() => new URL(page.url()).search).toBe("?q=FORECAST");
    await expect.poll(() => list.getByRole("link").allTextContents()).toEqual(["Weather Forecast Bot"]);
    await page.screenshot({ path: join(SCREENSHOTS, "projects.png"), fullPage: true });

    // The status filter hides it (it is a draft), and the address says so.
    await page.getByLabel("Status").selectOption("live");
    await expect.poll(() => new URL(page.url()).search).toBe("?q=FORECAST&status=live");
    await page.getByTestId("no-projects").waitFor();

    // The shared address shows the same, and the draft filter brings it back.
    await page.goto(`${h.url}/admin/projects?q=forecast&status=draft`);
    await expect
      .poll(() => page.getByTestId("project-list").getByRole("link").allTextContents())
      .toEqual(["Weather Forecast Bot"]);
    expect(await page.getByLabel("Search projects").inputValue()).toBe("forecast");
    expect(await page.getByLabel("Status").inputValue()).toBe("draft");

    // Every control is reached with Tab: the navigation, then the filters, then the project's link.
    await page.getByRole("button", { name: "Sign out" }).focus();
    const reached: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press("Tab");
      reached.push(
        await page.evaluate<string>(
          '(document.activeElement?.getAttribute("aria-label") || document.activeElement?.labels?.[0]?.textContent || document.activeElement?.textContent || "").trim()',
        ),
      );
    }
    expect(reached[0]).toMatch(/^Search projects/);
    expect(reached[1]).toMatch(/^Status/);
    expect(reached[2]).toBe("Search");
    expect(reached[3]).toBe("Weather Forecast Bot");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Project Weather Forecast Bot" }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/admin/projects/${project.id}`);
  });

  it(
    "shows an engineering run started from the project's page stage by stage as it happens, then its tests",
    async () => {
      h.setPlaybook(lightPlaybook());
      const project = await createProject("Clock service");
      await h.secrets.set({
        projectId: project.id,
        key: "API_KEY",
        value: "s3cr3t-value-never-shown",
        kind: "user",
        createdBy: "test",
      });
      await page.goto(`${h.url}/admin/projects/${project.id}`);
      await page.getByRole("heading", { name: "Project Clock service" }).waitFor();
      expect(await page.title()).toBe("Project Clock service · Orchestrator admin");
      // Secrets by name and whether filled; the value never reaches the page.
      await expect.poll(() => page.getByTestId("secrets").textContent()).toContain("API_KEY");
      expect(await page.getByTestId("secrets").textContent()).toContain("yes");
      expect(await page.content()).not.toContain("s3cr3t-value-never-shown");
      await page.getByText("No runs yet.").waitFor();
      await markDocument();

      // Start building from the keyboard: the action, its labelled brief, Confirm.
      await page.getByRole("button", { name: "Start building" }).focus();
      await page.keyboard.press("Enter");
      const brief = page.getByRole("textbox", { name: "Brief" });
      // The panel takes the focus: its one field, the brief.
      await brief.waitFor();
      await expect
        .poll(() => page.evaluate<string>("document.activeElement?.tagName ?? ''"))
        .toBe("TEXTAREA");
      await page.keyboard.type("A web service that tells the time.");
      await page.getByRole("button", { name: "Start the run" }).click();
      await page.getByText(/Engineering: run [0-9a-f]{8} queued\./).waitFor();
      const run = await waitForRunOf(project.id);
      expect(run.kind).toBe("engineering");

      // The stages arrive in the open page, in order, without a reload.
      const timeline = page.getByTestId(`timeline-${run.id}`);
      await timeline.waitFor();
      await expect
        .poll(async () => (await stagesShown(run.id)).map((s) => s.split(" ")[0]), {
          timeout: RUN_DEADLINE_MS,
        })
        .toEqual(["start", "architect", "preparer", "developer", "tester"]);
      await expect
        .poll(() => page.getByTestId("project-facts").textContent(), { timeout: RUN_DEADLINE_MS })
        .toContain("draft");
      expect(await isSameDocument()).toBe(true);
      expect((await h.store.runs.get(run.id)).status).toBe("succeeded");
      // The agents' turns are among the events: the developer's report, its steps.
      expect(await timeline.locator('[data-event-type="worker.report"]').count()).toBeGreaterThan(0);
      expect(await timeline.locator('[data-event-type="engineering.tested"]').textContent()).toMatch(
        /tests green/,
      );
      await page.screenshot({ path: join(SCREENSHOTS, "project.png"), fullPage: true });

      // The run's own page: its status, the Tester's counts and output, its workers, its spend.
      await page.getByRole("link", { name: `engineering run ${run.id.slice(-8)}` }).click();
      await page.getByRole("heading", { name: `Run ${run.id.slice(-8)}` }).waitFor();
      expect(await page.title()).toBe(`Run ${run.id.slice(-8)} · Orchestrator admin`);
      expect(await page.getByTestId("run-facts").textContent()).toContain("succeeded");
      // The config versions its agents ran on, and its trace (none: this system exports no spans).
      await expect
        .poll(() => page.getByTestId("config-versions").textContent())
        .toMatch(/architect v1.*developer v1|developer v1.*architect v1/);
      expect(await page.getByTestId("trace-id").textContent()).toBe("not traced");
      const tests = page.getByTestId("run-tests");
      await expect.poll(() => tests.textContent()).toMatch(/green.*[1-9]\d* passed, 0 failed/);
      await tests.getByText("Show").click();
      expect(await tests.locator("pre").textContent()).not.toBe("");
      await expect.poll(() => page.getByTestId("run-workers").textContent()).toContain("developer");
      // What each agent spent, per role, backend and model (the scripted agent costs nothing).
      const spendRows = await page.getByTestId("run-spend").locator("tbody tr").allTextContents();
      expect(spendRows).toEqual([
        "architectscriptedscripted100$0.0000",
        "developerscriptedscripted100$0.0000",
      ]);
      expect(await page.getByRole("button", { name: "Cancel run" }).count()).toBe(0);
      await page.screenshot({ path: join(SCREENSHOTS, "run.png"), fullPage: true });

      // The runs list finds it by kind, status and project, all in the address.
      await page.goto(`${h.url}/admin/runs?kind=engineering&status=succeeded&projectId=${project.id}`);
      await page.getByRole("heading", { name: "Runs" }).waitFor();
      expect(await page.getByLabel("Kind").inputValue()).toBe("engineering");
      expect(await page.getByLabel("Status").inputValue()).toBe("succeeded");
      expect(await page.getByLabel("Project id").inputValue()).toBe(project.id);
      await expect
        .poll(() => page.getByTestId("run-list").getByRole("link").first().textContent())
        .toBe(run.id.slice(-8));
      await page.screenshot({ path: join(SCREENSHOTS, "runs.png"), fullPage: true });
      await page.getByLabel("Status").selectOption("failed");
      await page.getByTestId("no-runs").waitFor();
      expect(new URL(page.url()).searchParams.get("status")).toBe("failed");
    },
    RUN_TEST_TIMEOUT,
  );

  it(
    "cancels a run under way from its page: it ends cancelled, its worker stops, and it stays cancelled",
    async () => {
      h.setPlaybook({
        architect: lightArchitect,
        developer: [
          {
            steps: [
              { progress: { step: "reading the task", percent: 10 } },
              { sleep: { ms: 5 * 60_000 } },
              { report: { status: "complete", summary: "never reached" } },
            ],
          },
        ],
      });
      const project = await createProject("Slow builder");
      const queued = await h.start({ projectId: project.id, brief: "A web service that tells the time." });
      await page.goto(`${h.url}/admin/runs/${queued.id}`);
      await page.getByRole("heading", { name: `Run ${queued.id.slice(-8)}` }).waitFor();
      await markDocument();

      // The developer's step arrives live while it works.
      const timeline = page.getByTestId(`timeline-${queued.id}`);
      await timeline.getByText("reading the task").waitFor({ timeout: 120_000 });
      expect((await h.store.runs.get(queued.id)).status).toBe("running");
      const [developer] = (
        await h.store.workers.list({ projectId: project.id, limit: 10, offset: 0 })
      ).items.filter((w) => w.runId === queued.id && w.role === "developer");
      expect(developer?.state).toBe("running");

      await page.getByRole("button", { name: "Cancel run" }).click();
      await page.getByLabel("Reason").fill("the brief was wrong");
      await page.getByRole("button", { name: "Cancel the run now" }).click();
      await page.getByText("The run is cancelled.").waitFor();
      await expect.poll(() => page.getByTestId("run-facts").textContent()).toContain("cancelled");
      await timeline
        .locator('[data-event-type="run.status_changed"]', { hasText: "running → cancelled" })
        .waitFor();
      expect(await isSameDocument()).toBe(true);
      await page.screenshot({ path: join(SCREENSHOTS, "run-cancelled.png"), fullPage: true });

      // Truthful: the engine stops executing it and its developer is ended, long before its sleep would.
      await expect.poll(() => h.executor.isActive(queued.id), { timeout: 60_000 }).toBe(false);
      await expect
        .poll(async () => (await h.store.workers.get(developer?.id ?? "")).state, { timeout: 30_000 })
        .toMatch(/^(stopped|gone|failed)$/);
      const ended = await h.store.runs.get(queued.id);
      expect(ended.status).toBe("cancelled");
      expect(ended.result).toMatchObject({ outcome: "cancelled", reason: "the brief was wrong" });
      expect((await h.store.projects.get(project.id)).status).toBe("draft");
      expect(await page.getByRole("button", { name: "Cancel run" }).count()).toBe(0);
    },
    RUN_TEST_TIMEOUT,
  );
});
