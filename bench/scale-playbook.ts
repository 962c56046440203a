// The playbook bench/scale gives the scripted agent: a web-service project made as light as the
// Tester allows, so that 200 of them fit in minutes on two cores and the bench measures the
// orchestrator (leases, bus, sandboxes, git, the Tester's checks) rather than npm and tsc. The
// Architect writes acceptance tests in plain JavaScript with a runner of its own (node's test runner,
// no TypeScript to load); the Developer replaces package.json with one without dependencies whose
// tests run under node's test runner. Install, tests and acceptance still run in a fresh sandbox.
import { architectScript, developerScript, type ScriptedPlaybook } from "../src/demo/index.js";
import { ACCEPTANCE_RUNNER } from "../test/support/light-project.js";

const ACCEPTANCE_TEST = [
  'import assert from "node:assert/strict";',
  'import { test } from "node:test";',
  'import { answer } from "../../src/answer.mjs";',
  "",
  'test("ping is answered with pong", () => {',
  '  assert.equal(answer("ping"), "pong");',
  "});",
  "",
].join("\n");

const PACKAGE_JSON = `${JSON.stringify(
  {
    name: "scale-bench-project",
    version: "0.1.0",
    private: true,
    type: "module",
    scripts: { test: "node --test test/answer.test.mjs" },
  },
  null,
  2,
)}\n`;

const PACKAGE_LOCK = `${JSON.stringify(
  {
    name: "scale-bench-project",
    version: "0.1.0",
    lockfileVersion: 3,
    requires: true,
    packages: { "": { name: "scale-bench-project", version: "0.1.0" } },
  },
  null,
  2,
)}\n`;

/** The scripted agent's playbook for bench/scale: green on the first attempt, in about a second of tests. */
export function scalePlaybook(): ScriptedPlaybook {
  return {
    architect: architectScript("web-service", ["ping is answered with pong"], {
      "test/acceptance/run.mjs": ACCEPTANCE_RUNNER,
      "test/acceptance/ping.test.mjs": ACCEPTANCE_TEST,
    }),
    developer: [
      developerScript(
        {
          "package.json": PACKAGE_JSON,
          "package-lock.json": PACKAGE_LOCK,
          "src/answer.mjs": 'export const answer = (q) => (q === "ping" ? "pong" : "?");\n',
          "test/answer.test.mjs": [
            'import assert from "node:assert/strict";',
            'import { test } from "node:test";',
            'import { answer } from "../src/answer.mjs";',
            "",
            'test("anything else is answered with a question mark", () => {',
            '  assert.equal(answer("hello"), "?");',
            "});",
            "",
          ].join("\n"),
        },
        "Answer ping with pong",
      ),
    ],
  };
}
