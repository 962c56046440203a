import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { migrationsFolder } from "../migrations-folder.js";

/*
 * A new embedded database starts from a copy of one made when the orchestrator was built
 * (initialized, migrated, seeded) instead of running initdb in WebAssembly, which costs several
 * seconds of CPU on every first start. The copy only saves time: migrations run on top of it as on
 * any database, and without a copy (running from sources, or made by another PGlite) initdb runs.
 */

/** Beside the compiled driver: `dist/store/drivers/pglite-initial.tgz`. */
const DATA_FILE = fileURLToPath(new URL("./pglite-initial.tgz", import.meta.url));
const META_FILE = `${DATA_FILE}.json`;

const InitialMeta = z.object({ pglite: z.string(), migrations: z.string() });
type InitialMeta = z.infer<typeof InitialMeta>;

/** The installed PGlite's version: a copy made by another one is not used. */
function installedPglite(): string {
  const wasm = createRequire(import.meta.url).resolve("@electric-sql/pglite/pglite.wasm");
  const pkg = JSON.parse(readFileSync(join(dirname(wasm), "..", "package.json"), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** The PGlite and migrations the copy must be made by and of (the build's question, not a start's). */
function currentMeta(): InitialMeta {
  const journal = readFileSync(join(migrationsFolder(), "meta", "_journal.json"));
  return { pglite: installedPglite(), migrations: createHash("sha256").update(journal).digest("hex") };
}

function storedMeta(): InitialMeta | null {
  if (!existsSync(META_FILE) || !existsSync(DATA_FILE)) return null;
  const parsed = InitialMeta.safeParse(JSON.parse(readFileSync(META_FILE, "utf8")));
  return parsed.success ? parsed.data : null;
}

/** The build's copy, when there is one made by this PGlite; otherwise the database runs initdb. */
export async function initialData(): Promise<Blob | undefined> {
  const stored = storedMeta();
  if (stored === null || stored.pglite !== installedPglite()) return undefined;
  return new Blob([await readFile(DATA_FILE)]);
}

/**
 * Writes the copy a new database starts from (`make` dumps a freshly migrated and seeded one, as
 * gzip), unless the one there was made by this PGlite of these migrations.
 */
export async function writeInitialData(make: () => Promise<Blob>): Promise<void> {
  const meta = currentMeta();
  const stored = storedMeta();
  if (stored?.pglite === meta.pglite && stored.migrations === meta.migrations) return;
  const data = Buffer.from(await (await make()).arrayBuffer());
  // The old copy's description goes first, the new copy is written beside and renamed: a build
  // stopped half-way leaves no copy in use that its description does not describe.
  await rm(META_FILE, { force: true });
  await writeFile(`${DATA_FILE}.tmp`, data);
  await rename(`${DATA_FILE}.tmp`, DATA_FILE);
  await writeFile(META_FILE, `${JSON.stringify(meta)}\n`);
}
