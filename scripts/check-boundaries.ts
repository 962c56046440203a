/**
 * Module boundaries: a folder under `src/` is a module and its `index.ts` is its face. This check
 * fails when a file imports another module's internal file (anything but `src/<module>/index.ts`),
 * from `src/`, `test/` or `bench/`. A module's conformance suites (`*.conformance.ts`) are public too:
 * they are the test kit every implementation, wherever it lives, is run through. Run by `npm run
 * lint` and the test command's lint step. Our own because Biome's import rules judge by folder, not
 * by our module (a top folder of `src/`), and cannot name the face.
 *
 * Usage: tsx scripts/check-boundaries.ts [root]   (exit 1 and one line per violation when broken)
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

/** One import that reaches into another module. */
export interface Violation {
  file: string;
  line: number;
  specifier: string;
  /** The module whose internal file is imported. */
  module: string;
}

const SCANNED = ["src", "test", "bench"];

function sourceFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const name of entries) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith(".d.ts")) files.push(path);
  }
  return files;
}

/** `src/<module>/...` -> `<module>`; null for files outside `src/` or directly in it. */
function moduleOf(root: string, file: string): string | null {
  const parts = relative(root, file).split(sep);
  return parts[0] === "src" && parts.length > 2 ? (parts[1] ?? null) : null;
}

/** The file a relative specifier names: `.js` written for `.ts` sources, a folder for its index. */
function targetOf(from: string, specifier: string): string {
  const path = resolve(dirname(from), specifier);
  return path.replace(/\.(js|mjs)$/, ".ts");
}

/** Every import, export-from and dynamic import of `root`'s sources that crosses into a module's internals. */
export function findViolations(root: string): Violation[] {
  const violations: Violation[] = [];
  for (const top of SCANNED) {
    for (const file of sourceFiles(join(root, top))) {
      const text = readFileSync(file, "utf8");
      const { importedFiles } = ts.preProcessFile(text, true, true);
      const own = moduleOf(root, file);
      for (const imported of importedFiles) {
        const specifier = imported.fileName;
        if (!specifier.startsWith(".")) continue;
        const target = targetOf(file, specifier);
        const module = moduleOf(root, target);
        if (module === null || module === own) continue;
        const face = join(root, "src", module, "index.ts");
        if (target === face || target === dirname(face) || target.endsWith(".conformance.ts")) continue;
        const line = text.slice(0, imported.pos).split("\n").length;
        violations.push({ file: relative(root, file), line, specifier, module });
      }
    }
  }
  return violations;
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename);
if (isMain) {
  const root = resolve(process.argv[2] ?? ".");
  const violations = findViolations(root);
  for (const v of violations) {
    process.stderr.write(
      `${v.file}:${v.line}: imports ${v.specifier}, an internal file of module "${v.module}": import it from src/${v.module}/index.ts\n`,
    );
  }
  if (violations.length > 0) {
    process.stderr.write(`module boundaries: ${violations.length} import(s) reach into another module\n`);
    process.exit(1);
  }
  process.stdout.write("module boundaries: every import between modules goes through a face\n");
}
