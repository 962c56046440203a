/**
 * The web-app template from a brief to live with the scripted agent and the local driver: the
 * developer's first commit breaks `orchestrator.json` and the Tester says so (red, each wrong field
 * named) before anything is installed; the second restores it and goes green and live; a contact
 * form submission is stored in DATA_DIR and still listed after the service's process is killed and
 * restarted by the supervisor.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Run } from "../../src/contracts/index.js";
import { architectScript } from "../../src/demo/index.js";
import type { LocalDriver } from "../../src/deploy/index.js";
import { type EngineHarness, startEngineHarness } from "../support/engine-harness.js";
import { until } from "../support/until.js";

let h: EngineHarness;

beforeAll(async () => {
  h = await startEngineHarness({ deployOnGreen: true });
});
afterAll(async () => {
  await h?.close();
});

const CONTACT_ACCEPTANCE = [
  'import assert from "node:assert/strict";',
  'import { after, before, test } from "node:test";',
  'import { type Site, startApp, submitForm } from "./harness.js";',
  "",
  "let site: Site;",
  "before(async () => {",
  "  site = await startApp();",
  "});",
  "after(() => site.stop());",
  "",
  'test("a contact form submission is listed on /messages", async () => {',
  '  const res = await submitForm(`${site.url}/contact`, { name: "Ada", email: "ada@example.com", message: "Hello" });',
  "  assert.equal(res.status, 303);",
  "  assert.match(await (await fetch(`${site.url}/messages`)).text(), /Ada/);",
  "});",
  "",
].join("\n");

const ABOUT = '{ "site": "Contact site" }\n';

describe("a web-app with a contact form, built, tested and deployed", () => {
  it("is red on a broken manifest, green once restored, and keeps a submission across a restart", {
    timeout: 600_000,
  }, async () => {
    h.setPlaybook({
      architect: architectScript("web-app", ["a contact form whose messages are kept"], {
        "test/acceptance/contact.test.ts": CONTACT_ACCEPTANCE,
      }),
      developer: [
        {
          steps: [
            { write: { path: "public/about.json", content: ABOUT } },
            // A careless edit: the deploy could not read this manifest.
            { write: { path: "orchestrator.json", content: '{ "name": "web-app", "commands": {} }\n' } },
            { commit: { message: "Add about.json (and trim the manifest)" } },
            { report: { status: "complete", summary: "about.json added", commit: "HEAD" } },
          ],
        },
        {
          steps: [
            { run: { argv: ["git", "checkout", "HEAD~1", "--", "orchestrator.json"] } },
            { commit: { message: "Restore orchestrator.json" } },
            { report: { status: "complete", summary: "manifest restored", commit: "HEAD" } },
          ],
        },
      ],
    });
    const project = await h.store.projects.create({ name: "Contact site", slug: "contact-e2e" });
    const eng = await h.waitForEnd((await h.start({ projectId: project.id, brief: "a contact form" })).id);
    expect(eng.status, JSON.stringify(eng.error)).toBe("succeeded");

    const verdicts = (await h.store.runEvents.list(eng.id, { limit: 5000 }))
      .filter((e) => e.type === "engineering.tested")
      .map((e) => e.data as { passed: boolean; reason: string | null; outputTail: string; ran: boolean });
    expect(verdicts.map((v) => [v.passed, v.reason])).toEqual([
      [false, "manifest_invalid"],
      [true, null],
    ]);
    const [broken] = verdicts;
    expect(broken?.ran).toBe(false);
    expect(broken?.outputTail).toContain("invalid template manifest orchestrator.json at");
    for (const field of ["commands.install", "healthCheck", "resources", "env"]) {
      expect(broken?.outputTail).toContain(`- ${field}:`);
    }

    const deploy = await until(
      "the deploy of the green commit",
      60_000,
      async () =>
        (await h.store.runs.list({ projectId: project.id, kind: "deploy", limit: 1, offset: 0 })).items[0] ??
        null,
    );
    const live: Run = await h.waitForEnd(deploy.id);
    expect(live.status, JSON.stringify(live.error)).toBe("succeeded");
    const url = (live.result as { url: string }).url;
    expect(await (await fetch(`${url}/about.json`)).text()).toBe(ABOUT);

    const form = new URLSearchParams({ name: "Grace", email: "grace@example.com", message: "Call me" });
    const sent = await fetch(`${url}/contact`, { method: "POST", body: form, redirect: "manual" });
    expect(sent.status).toBe(303);

    // The release's process dies; the supervisor starts it again on the same DATA_DIR.
    const driver = h.driver as LocalDriver;
    const before = driver.running().find((r) => r.projectId === project.id);
    if (!before?.pid) throw new Error("the release is not running under the local driver");
    process.kill(before.pid, "SIGKILL");
    await until("the restarted release", 60_000, async () => {
      const now = driver.running().find((r) => r.projectId === project.id);
      if (!now?.pid || now.pid === before.pid) return null;
      return (await fetch(`${url}/health`).catch(() => null))?.ok ? now : null;
    });
    const listed = await (await fetch(`${url}/messages`)).text();
    expect(listed).toContain("Grace");
    expect(listed).toContain("Call me");
  });
});
