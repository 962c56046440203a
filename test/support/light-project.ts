/**
 * The acceptance runner of the light projects the scale bench and the reliability suites have the
 * scripted agent write: every `*.test.mjs` of `test/acceptance` under node's test runner, so the
 * Tester's acceptance round loads no TypeScript and installs nothing.
 */
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
