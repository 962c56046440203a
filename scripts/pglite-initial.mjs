// Build step: the database a new embedded store starts from (src/store/drivers/pglite-initial.ts),
// made again only when PGlite or the migrations changed.
import { writeInitialData } from "../dist/store/drivers/pglite-initial.js";
import { pgliteSnapshot } from "../dist/store/index.js";

await writeInitialData(() => pgliteSnapshot("gzip"));
