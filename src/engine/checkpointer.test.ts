import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { openPgliteStore } from "../store/index.js";
import { runCheckpointerSuite } from "./checkpointer.conformance.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "orch-checkpointer-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const onDisk = (key: string) => openPgliteStore(join(dir, key));

runCheckpointerSuite("pglite", () => openTestStore(), { first: onDisk, again: onDisk });
