/**
 * The light project the scale bench, the reliability suites and the scripted-agent e2e files have the
 * scripted agent write on top of the web-service template: acceptance tests in plain JavaScript under
 * node's test runner (no TypeScript to load), a package without dependencies whose own tests run under
 * node's test runner, and a tiny HTTP service (GET /health, GET /api/time) built by copying files to
 * where the template's start command (`node dist/src/main.js`) looks. The Tester still installs, tests
 * and runs the acceptance tests in a fresh sandbox, and a deploy still builds and starts it, in about
 * a second of CPU instead of npm, tsc and Fastify's twenty.
 */
import { architectScript, developerScript, type ScriptedPlaybook } from "../../src/demo/index.js";

/** Runs every `*.test.mjs` of `test/acceptance` with node's test runner. */
export const ACCEPTANCE_RUNNER = [
  "// Runs every *.test.mjs of this folder with node's test runner.",
  'import { spawnSync } from "node:child_process";',
  'import { readdirSync } from "node:fs";',
  'const here = "test/acceptance";',
  'const files = readdirSync(here).filter((f) => f.endsWith(".test.mjs")).map((f) => here + "/" + f);',
  'const run = spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit" });',
  "process.exit(run.status ?? 1);",
  "",
].join("\n");

/** The light project's acceptance test, by repository path. */
export const LIGHT_ACCEPTANCE_TEST = "test/acceptance/time.test.mjs";
/** The name of its one acceptance test. */
export const LIGHT_ACCEPTANCE_NAME = "the service tells the current time";

/**
 * The light acceptance test: the time the service tells is now, read under `key` (a test can make it
 * ask for a wrong key).
 */
export function lightAcceptanceTest(key = "now"): string {
  return [
    'import assert from "node:assert/strict";',
    'import { test } from "node:test";',
    'import { currentTime } from "../../src/time.mjs";',
    "",
    `test(${JSON.stringify(LIGHT_ACCEPTANCE_NAME)}, () => {`,
    `  const value = currentTime()[${JSON.stringify(key)}];`,
    '  assert.equal(typeof value, "string");',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: this is JavaScript source the architect writes
    "  assert.ok(Math.abs(Date.parse(value) - Date.now()) < 60_000, `${value} is not now`);",
    "});",
    "",
  ].join("\n");
}

/** What the light Architect writes: the runner and the acceptance test. */
export function lightAcceptanceFiles(key = "now"): Record<string, string> {
  return { "test/acceptance/run.mjs": ACCEPTANCE_RUNNER, [LIGHT_ACCEPTANCE_TEST]: lightAcceptanceTest(key) };
}

/** The light Architect of most scenarios: SPEC.md on the web-service template, and the time test. */
export const lightArchitect = architectScript(
  "web-service",
  ["GET /api/time answers the current time"],
  lightAcceptanceFiles(),
);

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

const PACKAGE_JSON = json({
  name: "light-service",
  version: "0.1.0",
  private: true,
  type: "module",
  scripts: {
    test: "node --test test/time.test.mjs",
    build: "mkdir -p dist/src && cp src/*.mjs dist/src/ && mv dist/src/main.mjs dist/src/main.js",
    start: "node dist/src/main.js",
  },
});

const PACKAGE_LOCK = json({
  name: "light-service",
  version: "0.1.0",
  lockfileVersion: 3,
  requires: true,
  packages: { "": { name: "light-service", version: "0.1.0" } },
});

/**
 * The service the template's start command runs: /health, /api/time and the template's greeting
 * (`/api/hello`), which a deploy test edits to tell two releases apart.
 */
export const LIGHT_MAIN = [
  'import { createServer } from "node:http";',
  'import { currentTime } from "./time.mjs";',
  "const answers = {",
  '  "/api/time": () => currentTime(),',
  '  "/api/hello": () => ({ message: "Hello, world!" }),',
  "};",
  "const server = createServer((req, res) => {",
  '  const body = (answers[req.url] ?? (() => ({ status: "ok" })))();',
  '  res.writeHead(200, { "content-type": "application/json" });',
  "  res.end(JSON.stringify(body));",
  "});",
  // Where the template listens too: every IPv4 address, unless HOST says otherwise.
  'server.listen(Number(process.env.PORT ?? 3000), process.env.HOST || "0.0.0.0");',
  'process.on("SIGTERM", () => server.close(() => process.exit(0)));',
  "",
].join("\n");

/**
 * What the light Developer writes: the package, `src/time.mjs`, the service and its own test, which
 * reads the time under `expectedKey` (`"missing"` makes the developer's own test red).
 */
export function lightServiceFiles(expectedKey = "now"): Record<string, string> {
  return {
    "package.json": PACKAGE_JSON,
    "package-lock.json": PACKAGE_LOCK,
    "src/time.mjs": [
      "/** The current time (ISO 8601), as GET /api/time answers it. */",
      "export const currentTime = () => ({ now: new Date().toISOString() });",
      "",
    ].join("\n"),
    "src/main.mjs": LIGHT_MAIN,
    "test/time.test.mjs": [
      'import assert from "node:assert/strict";',
      'import { test } from "node:test";',
      'import { currentTime } from "../src/time.mjs";',
      "",
      'test("the time is a string", () => {',
      `  assert.equal(typeof currentTime()[${JSON.stringify(expectedKey)}], "string");`,
      "});",
      "",
    ].join("\n"),
  };
}

/** A Developer whose attempt is green: acceptance and its own test pass. */
export const lightGreenDeveloper = developerScript(lightServiceFiles(), "Add the time service with its test");
/** A Developer whose own test is red (it expects a wrong key); the acceptance test passes. */
export const lightRedDeveloper = developerScript(
  lightServiceFiles("missing"),
  "Add the time service (its test expects a wrong key)",
);

/** The light counterpart of the demo's playbook: green on the first attempt, deployable. */
export function lightPlaybook(): ScriptedPlaybook {
  return { architect: lightArchitect, developer: [lightGreenDeveloper] };
}

/**
 * The light service for deploy suites that check what a release keeps and prints: the light
 * service's routes, plus /health naming APP_ENV, notes kept in DATA_DIR/notes.json as the
 * web-service template keeps them (records by id; POST /api/notes, GET /api/notes[/:id]), so a
 * light release reads what a template release stored, and a line naming its port once it listens.
 */
export const LIGHT_NOTES_MAIN = [
  'import { randomUUID } from "node:crypto";',
  'import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";',
  'import { createServer } from "node:http";',
  'import { join } from "node:path";',
  'import { currentTime } from "./time.mjs";',
  'const dataDir = process.env.DATA_DIR || "./data";',
  'const file = join(dataDir, "notes.json");',
  'const temp = join(dataDir, "notes.json.tmp");',
  "const read = () => {",
  "  try {",
  '    return JSON.parse(readFileSync(file, "utf8"));',
  "  } catch (err) {",
  '    if (err.code === "ENOENT") return {};',
  "    throw err;",
  "  }",
  "};",
  "const write = (notes) => {",
  "  mkdirSync(dataDir, { recursive: true });",
  "  writeFileSync(temp, JSON.stringify(notes, null, 2));",
  "  renameSync(temp, file);",
  "};",
  "const send = (res, status, body) => {",
  '  res.writeHead(status, { "content-type": "application/json" });',
  "  res.end(JSON.stringify(body));",
  "};",
  "const server = createServer((req, res) => {",
  '  if (req.method === "POST" && req.url === "/api/notes") {',
  '    let body = "";',
  '    req.on("data", (chunk) => { body += chunk; });',
  '    req.on("end", () => {',
  "      const note = { id: randomUUID(), text: JSON.parse(body).text, createdAt: new Date().toISOString() };",
  "      write({ ...read(), [note.id]: note });",
  "      send(res, 201, note);",
  "    });",
  "    return;",
  "  }",
  '  if (req.url === "/api/notes") return send(res, 200, { notes: Object.values(read()) });',
  "  const one = /^\\/api\\/notes\\/([^/]+)$/.exec(req.url);",
  "  if (one) {",
  "    const note = read()[one[1]];",
  '    return note ? send(res, 200, note) : send(res, 404, { error: "note not found" });',
  "  }",
  '  if (req.url === "/api/time") return send(res, 200, currentTime());',
  '  if (req.url === "/api/hello") return send(res, 200, { message: "Hello, world!" });',
  '  send(res, 200, { status: "ok", env: process.env.APP_ENV });',
  "});",
  "const port = Number(process.env.PORT ?? 3000);",
  'const listening = () => console.log("light-service listening on port " + port);',
  'server.listen(port, process.env.HOST || "0.0.0.0", listening);',
  'process.on("SIGTERM", () => server.close(() => process.exit(0)));',
  "",
].join("\n");

/**
 * The light package with `LIGHT_NOTES_MAIN` as its service, whose build also copies its tests to
 * `dist/test` as tsc compiles the template's there: what a release's `exclude` must leave out.
 */
export function lightNotesServiceFiles(): Record<string, string> {
  const pkg = JSON.parse(PACKAGE_JSON) as { scripts: Record<string, string> };
  pkg.scripts.build = [
    "mkdir -p dist/src dist/test",
    "cp src/*.mjs dist/src/",
    "cp test/*.mjs dist/test/",
    "mv dist/src/main.mjs dist/src/main.js",
  ].join(" && ");
  return { ...lightServiceFiles(), "package.json": json(pkg), "src/main.mjs": LIGHT_NOTES_MAIN };
}
