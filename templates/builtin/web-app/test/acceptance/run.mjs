// Runs the acceptance tests alone, as the orchestrator's Tester does: translates this folder's
// TypeScript, and the project's own files it imports, into dist/acceptance, then runs every
// *.test.js with node's test runner. It reads neither package.json nor tsconfig.json, so a changed
// npm script or compiler setting cannot skip them. Types are not checked here (`npm test` does
// that): this only strips them, file by file, which is why tsconfig.json sets `isolatedModules`.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

const here = "test/acceptance";
const outRoot = join("dist", "acceptance");
const root = process.cwd();
const options = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ES2022,
  isolatedModules: true,
  sourceMap: false,
};

/** The project file an import names: `./x.js` is `./x.ts` when that is what exists. */
function sourceOf(specifier, from) {
  const target = resolve(dirname(from), specifier);
  if (target.endsWith(".js")) {
    const typescript = `${target.slice(0, -3)}.ts`;
    if (existsSync(typescript)) return typescript;
  }
  return existsSync(target) ? target : null;
}

const queue = readdirSync(here, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
  .map((f) => resolve(here, f));
const seen = new Set();
const failed = [];
while (queue.length > 0) {
  const file = queue.pop();
  if (seen.has(file)) continue;
  seen.add(file);
  const rel = relative(root, file);
  if (rel.startsWith("..") || rel.startsWith("node_modules")) continue;
  const out = join(outRoot, rel.replace(/\.ts$/, ".js"));
  mkdirSync(dirname(out), { recursive: true });
  if (!file.endsWith(".ts")) {
    copyFileSync(file, out);
    continue;
  }
  const source = readFileSync(file, "utf8");
  const result = ts.transpileModule(source, { compilerOptions: options, fileName: file, reportDiagnostics: true });
  for (const d of result.diagnostics ?? []) {
    const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
    const where = at ? `${rel}(${at.line + 1},${at.character + 1})` : rel;
    failed.push(`${where}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
  }
  writeFileSync(out, result.outputText);
  for (const { fileName } of ts.preProcessFile(source, true, true).importedFiles) {
    if (!fileName.startsWith(".")) continue;
    const next = sourceOf(fileName, file);
    if (next) queue.push(next);
  }
}
if (failed.length > 0) {
  console.error(failed.join("\n"));
  process.exit(1);
}
const out = join(outRoot, here);
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
const run = spawnSync(process.execPath, ["--test", "--test-reporter=spec", "--test-timeout=30000", ...files], {
  stdio: "inherit",
});
process.exit(run.status ?? 1);
