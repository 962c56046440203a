import { readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package root: the nearest folder above this file holding package.json (works from src/ and dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      readFileSync(join(dir, "package.json"));
      return dir;
    } catch {
      const parent = dirname(dir);
      if (parent === dir) throw new Error(`package.json not found above ${fileURLToPath(import.meta.url)}`);
      dir = parent;
    }
  }
}

/** The orchestrator's version, from package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string })
    .version;
}

/**
 * What every worker sandbox sees read-only: the package (its CLI, MCP server, agent binaries), the
 * real folder of its `node_modules` when that is a link to somewhere else (a shared install), and
 * the Node binary.
 */
export function sandboxReadOnlyPaths(): string[] {
  const root = packageRoot();
  let modules: string | null = null;
  try {
    modules = realpathSync(join(root, "node_modules"));
  } catch {
    // no node_modules folder (a bundled install)
  }
  const isOutside = modules !== null && !modules.startsWith(`${realpathSync(root)}/`);
  return [root, ...(isOutside && modules ? [modules] : []), process.execPath];
}
