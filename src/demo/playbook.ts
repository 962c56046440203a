import { readFile } from "node:fs/promises";
import { z } from "zod";
import { AppError, detailsFromZod, parsePromptHeader } from "../contracts/index.js";
import { AgentScript, type TurnRequest } from "../workers/index.js";

/**
 * What the `scripted` backend does in an engineering run: one script for the Architect and one per
 * Developer attempt (the last one repeats); optionally, per acceptance revision (the last one
 * repeats), the Architect's answer and the Developer's turn after it (without one, the Developer
 * plays its attempt's script again). The stage, attempt and revision are read from the header of
 * the engine's own prompts. No model is involved: demos and pipeline tests get a known outcome
 * while the sandbox, git, report tool and Tester run for real.
 */
export const ScriptedPlaybook = z.object({
  architect: AgentScript,
  developer: z.array(AgentScript).min(1),
  revisions: z
    .array(z.object({ architect: AgentScript, developer: AgentScript.optional() }))
    .min(1)
    .optional(),
});
export type ScriptedPlaybook = z.infer<typeof ScriptedPlaybook>;

const nth = <T>(list: T[], n: number): T | undefined => list[Math.min(n, list.length) - 1];

/** The `scriptFor` of a `ScriptedBackend` following a playbook; other prompts pass through as they are. */
export function playbookScriptFor(playbook: ScriptedPlaybook): (turn: TurnRequest) => string {
  return (turn) => {
    const header = parsePromptHeader(turn.prompt);
    if (!header) return turn.prompt;
    const revision = header.revision === null ? undefined : nth(playbook.revisions ?? [], header.revision);
    if (header.stage === "architect") {
      if (header.revision === null) return JSON.stringify(playbook.architect);
      if (!revision) throw new Error(`the playbook has no script for acceptance revision ${header.revision}`);
      return JSON.stringify(revision.architect);
    }
    return JSON.stringify(revision?.developer ?? nth(playbook.developer, header.attempt));
  };
}

/** Reads and validates a playbook file (`SCRIPTED_PLAYBOOK`). */
export async function loadPlaybook(path: string): Promise<ScriptedPlaybook> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    throw new AppError("invalid", "bad_playbook", `cannot read the scripted playbook ${path}`, { cause });
  }
  const parsed = ScriptedPlaybook.safeParse(json);
  if (!parsed.success) {
    throw new AppError("invalid", "bad_playbook", `the scripted playbook ${path} does not match the schema`, {
      details: detailsFromZod(parsed.error),
    });
  }
  return parsed.data;
}

/**
 * An Architect script that writes SPEC.md choosing `template` and the acceptance tests (files by
 * repository path, e.g. `timeAcceptanceFiles()`), then reports complete.
 */
export function architectScript(
  template: string,
  features: string[],
  acceptance: Record<string, string>,
): ScriptedPlaybook["architect"] {
  const spec = [
    "# Specification",
    "",
    "Written by the scripted demo agent (no model).",
    "",
    `Template: ${template}`,
    "",
    "## Features",
    ...features.map((f) => `- ${f}`),
    "",
    "## Acceptance criteria",
    ...features.map((f) => `- A test shows: ${f}`),
    "",
  ].join("\n");
  return {
    steps: [
      { write: { path: "SPEC.md", content: spec } },
      ...Object.entries(acceptance).map(([path, content]) => ({ write: { path, content } })),
      {
        report: { status: "complete", summary: `SPEC.md and acceptance tests written; template ${template}` },
      },
    ],
  };
}

/** A Developer script that writes files, commits, pushes and reports the pushed commit. */
export function developerScript(
  files: Record<string, string>,
  message: string,
): ScriptedPlaybook["architect"] {
  return {
    steps: [
      ...Object.entries(files).map(([path, content]) => ({ write: { path, content } })),
      { commit: { message } },
      { report: { status: "complete" as const, summary: message, commit: "HEAD" } },
    ],
  };
}

/**
 * `GET /api/time` for the web-service template (a Fastify plugin registered with the others), and
 * its test through `inject`; `expectedKey` lets the test be made red.
 */
export function timeRouteFiles(expectedKey = "now"): Record<string, string> {
  return {
    "src/routes/time.ts": [
      'import type { FastifyPluginAsync } from "fastify";',
      "",
      "/** GET /api/time: the server's current time (ISO 8601). */",
      "export const timeRoutes: FastifyPluginAsync = async (app) => {",
      '  app.get("/api/time", async () => ({ now: new Date().toISOString() }));',
      "};",
      "",
    ].join("\n"),
    "src/routes/index.ts": [
      'import type { FastifyInstance } from "fastify";',
      'import type { Config } from "../config.js";',
      'import type { Note } from "../notes.js";',
      'import type { JsonStore } from "../store.js";',
      'import { apiRoutes } from "./api.js";',
      'import { healthRoutes } from "./health.js";',
      'import { pageRoutes } from "./pages.js";',
      'import { timeRoutes } from "./time.js";',
      "",
      "/** What routes may use, built once by `buildApp`. Add shared clients and stores here. */",
      "export interface RouteDeps {",
      "  notes: JsonStore<Note>;",
      "}",
      "",
      "/** The one place every route plugin is registered: add a new file of `src/routes/` here. */",
      "export function registerRoutes(app: FastifyInstance, config: Config, deps: RouteDeps): void {",
      "  app.register(healthRoutes, { appEnv: config.appEnv });",
      '  app.register(apiRoutes, { prefix: "/api", notes: deps.notes });',
      "  app.register(pageRoutes, { notes: deps.notes });",
      "  app.register(timeRoutes);",
      "}",
      "",
    ].join("\n"),
    "test/time.test.ts": [
      'import assert from "node:assert/strict";',
      'import { test } from "node:test";',
      'import { testApp } from "./helpers.js";',
      "",
      'test("GET /api/time answers the current time", async () => {',
      "  const t = await testApp();",
      "  try {",
      '    const res = await t.app.inject({ method: "GET", url: "/api/time" });',
      "    assert.equal(res.statusCode, 200);",
      `    assert.equal(typeof (res.json() as Record<string, unknown>)[${JSON.stringify(expectedKey)}], "string");`,
      "  } finally {",
      "    await t.close();",
      "  }",
      "});",
      "",
    ].join("\n"),
  };
}

/**
 * The web-service acceptance test for `GET /api/time`, through the template's harness: it answers
 * 200 with the current time as an ISO string under `key` (a test can make it ask for a wrong key).
 */
export function timeAcceptanceFiles(key = "now"): Record<string, string> {
  return {
    "test/acceptance/time.test.ts": [
      'import assert from "node:assert/strict";',
      'import { after, before, test } from "node:test";',
      'import { type Service, startService } from "./harness.js";',
      "",
      "let service: Service;",
      "before(async () => {",
      "  service = await startService();",
      "});",
      "after(() => service.stop());",
      "",
      'test("GET /api/time answers the current time", async () => {',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: this is TypeScript source the architect writes
      "  const res = await fetch(`${service.url}/api/time`);",
      "  assert.equal(res.status, 200);",
      `  const value = ((await res.json()) as Record<string, unknown>)[${JSON.stringify(key)}];`,
      '  assert.equal(typeof value, "string");',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: this is TypeScript source the architect writes
      "  assert.ok(Math.abs(Date.parse(String(value)) - Date.now()) < 60_000, `${value} is not now`);",
      "});",
      "",
    ].join("\n"),
  };
}

/** What `up --demo` plays: a web service that gains a `/api/time` route, green on the first attempt. */
export function demoPlaybook(): ScriptedPlaybook {
  return {
    architect: architectScript(
      "web-service",
      ["GET /health answers ok", "GET /api/time answers the current time"],
      timeAcceptanceFiles(),
    ),
    developer: [developerScript(timeRouteFiles(), "Add GET /api/time with its test")],
  };
}
