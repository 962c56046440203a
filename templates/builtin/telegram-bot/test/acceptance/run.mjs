// Runs the acceptance tests alone, as the orchestrator's Tester does: compiles this folder (and the
// code it imports) into dist/acceptance with its own tsconfig, then runs every *.test.js with
// node's test runner. It reads nothing from package.json, so a changed npm script cannot skip them.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const here = "test/acceptance";
const out = join("dist", "acceptance", here);
const run = (args) => spawnSync(process.execPath, args, { stdio: "inherit" }).status ?? 1;

const compiled = run(["node_modules/typescript/bin/tsc", "-p", join(here, "tsconfig.json")]);
if (compiled !== 0) process.exit(compiled);
const files = existsSync(out)
  ? readdirSync(out, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".test.js"))
      .sort()
      .map((f) => join(out, f))
  : [];
if (files.length === 0) {
  console.error(`no acceptance tests (*.test.ts) in ${here}`);
  process.exit(1);
}
process.exit(run(["--test", "--test-reporter=spec", "--test-timeout=20000", ...files]));
