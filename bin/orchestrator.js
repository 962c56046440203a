#!/usr/bin/env node
// The `orchestrator` binary: runs the compiled CLI. `npm install` builds dist/ (the `prepare`
// script); after changing the sources, `npm run build` (or `npm run dev` to build and start).
import { existsSync } from "node:fs";

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("dist/ is missing: run `npm install` (or `npm run build`) first\n");
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv);
