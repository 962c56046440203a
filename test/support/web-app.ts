import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Where `npm run build` puts the web app (the API serves it from there). */
export const WEB_DIST = fileURLToPath(new URL("../../web/dist", import.meta.url));

/**
 * The built web app's folder, building it first when missing: the test command builds it before
 * the suites, this covers running one file alone. The build goes to a folder of its own and is
 * moved in whole, so two test files building at once cannot leave a half-written app.
 */
export async function builtWebApp(): Promise<string> {
  if (existsSync(`${WEB_DIST}/index.html`)) return WEB_DIST;
  // Beside the dependencies: ignored by git and the linter if a killed run leaves it behind.
  const scratch = `${ROOT}node_modules/.cache/web-dist-${process.pid}`;
  try {
    await promisify(execFile)(
      `${ROOT}node_modules/.bin/vite`,
      ["build", "web", "--outDir", scratch, "--emptyOutDir", "--logLevel", "warn"],
      { cwd: ROOT, timeout: 120_000 },
    );
    await rename(scratch, WEB_DIST).catch(async (error: NodeJS.ErrnoException) => {
      // Another file's build got there first; a leftover without index.html is replaced.
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
      if (existsSync(`${WEB_DIST}/index.html`)) return;
      await rm(WEB_DIST, { recursive: true, force: true });
      await rename(scratch, WEB_DIST);
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return WEB_DIST;
}
