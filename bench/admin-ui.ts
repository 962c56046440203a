// The admin UI's weight and speed: the production build's files (raw and gzip), and the time from
// opening `/admin` in headless Chromium to the dashboard showing its figures, with 1,000 projects and
// 10,000 runs in the store, against the same page on an empty store measured in the same rounds (the
// floor: loading the app, signing in by cookie, one summary read). Each round is a fresh browser
// context (no cache), so every round downloads the app as a first visit does.

import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser } from "playwright-core";
import { chromium } from "playwright-core";
import { startApiHarness } from "../test/support/api-harness.js";
import { chromiumPath } from "../test/support/browser.js";
import { builtWebApp } from "../test/support/web-app.js";
import { percentile, printTable, versusRow } from "./stats.js";
import { recordSummary, versusSummary } from "./summary.js";

const PROJECTS = 1_000;
const RUNS = 10_000;
/** Targets: what a first visit downloads (gzip), and the dashboard's first render with the big store. */
const TARGET_GZIP_KB = 150;
const TARGET_RENDER_P50_MS = 1_500;

function roundsFromArgs(argv: string[]): number {
  let value = "10";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--rounds") value = argv[++i] ?? "";
    else if (arg.startsWith("--rounds=")) value = arg.slice("--rounds=".length);
    else throw new Error(`unknown argument ${arg}; usage: tsx bench/admin-ui.ts [--rounds N]`);
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--rounds must be a positive integer, not ${value}`);
  return n;
}

/** Every file of the build with its size and gzip size (default level, as a server compresses). */
async function buildSizes(dist: string) {
  const files: { file: string; raw: number; gzip: number }[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else {
        const bytes = await readFile(path);
        files.push({
          file: path.slice(dist.length + 1),
          raw: (await stat(path)).size,
          gzip: gzipSync(bytes).length,
        });
      }
    }
  };
  await walk(dist);
  return files.sort((a, b) => a.file.localeCompare(b.file));
}

/** Fills a store through its repositories: projects, then runs spread over them and over statuses. */
async function seed(store: Awaited<ReturnType<typeof startApiHarness>>["store"]): Promise<void> {
  const projects: string[] = [];
  for (let i = 0; i < PROJECTS; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, PROJECTS - i) }, (_, j) =>
        store.projects.create({ name: `bench project ${i + j}` }),
      ),
    );
    projects.push(...batch.map((p) => p.id));
  }
  const kinds = ["engineering", "deploy"] as const;
  for (let i = 0; i < RUNS; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, RUNS - i) }, async (_, j) => {
        const n = i + j;
        const run = await store.runs.create({
          projectId: projects[n % projects.length] as string,
          kind: kinds[n % 2] as (typeof kinds)[number],
        });
        if (n % 3 === 0) await store.runs.transition(run.id, "running");
      }),
    );
  }
}

type Harness = Awaited<ReturnType<typeof startApiHarness>> & { url: string | null };

/**
 * Opens `/admin` in a fresh context signed in by cookie; ms until the projects table shows `total`.
 * `requested` receives the path of every request the page made.
 */
async function firstRender(
  browser: Browser,
  h: Harness,
  total: number,
  requested?: Set<string>,
): Promise<number> {
  const signIn = await fetch(`${h.url}/api/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: h.adminToken }),
  });
  if (signIn.status !== 201) throw new Error(`bench/admin-ui: sign-in answered ${signIn.status}`);
  const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const [name, value] = [cookie.slice(0, cookie.indexOf("=")), cookie.slice(cookie.indexOf("=") + 1)];
  const context = await browser.newContext();
  try {
    await context.addCookies([{ name, value, url: h.url ?? "" }]);
    const page = await context.newPage();
    page.on("request", (request) => requested?.add(new URL(request.url()).pathname));
    const started = performance.now();
    await page.goto(`${h.url}/admin`, { waitUntil: "commit" });
    await page
      .getByTestId("projects-by-status")
      .locator("tfoot td")
      .filter({ hasText: new RegExp(`^${total}$`) })
      .waitFor({ timeout: 30_000 });
    return performance.now() - started;
  } finally {
    await context.close();
  }
}

async function main(): Promise<void> {
  const rounds = roundsFromArgs(process.argv.slice(2));
  const dist = await builtWebApp();
  const sizes = await buildSizes(dist);
  console.log(`\nthe web app's production build (${dist}), KiB\n`);
  printTable(
    ["file", "raw", "gzip"],
    sizes.map((f) => [f.file, f.raw / 1024, f.gzip / 1024]),
  );

  const empty = await startApiHarness({ listen: true });
  const big = await startApiHarness({ listen: true });
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
  try {
    const seeding = performance.now();
    await seed(big.store);
    console.log(
      `\nseeded ${PROJECTS} projects and ${RUNS} runs in ${((performance.now() - seeding) / 1000).toFixed(1)} s`,
    );
    const summaryMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const started = performance.now();
      const res = await fetch(`${big.url}/api/admin/summary`, {
        headers: { authorization: `Bearer ${big.adminToken}` },
      });
      await res.arrayBuffer();
      summaryMs.push(performance.now() - started);
    }
    // One unmeasured visit each warms the server side (first queries, static file reads); the
    // first also tells which files of the build a visit to the dashboard downloads.
    const requested = new Set<string>();
    await firstRender(browser, empty, 0, requested);
    const loaded = sizes.filter(
      (f) => requested.has(`/${f.file}`) || (f.file === "index.html" && requested.has("/admin")),
    );
    const firstVisitKb = loaded.reduce((sum, f) => sum + f.gzip, 0) / 1024;
    console.log(`a visit to /admin downloads: ${loaded.map((f) => f.file).join(", ")}`);
    await firstRender(browser, big, PROJECTS);
    const measured: { big: number; floor: number }[] = [];
    for (let i = 0; i < rounds; i++) {
      const floor = await firstRender(browser, empty, 0);
      measured.push({ big: await firstRender(browser, big, PROJECTS), floor });
    }

    console.log(`\nfirst render of /admin in a fresh browser context, ${rounds} rounds, ms\n`);
    printTable(
      ["measure", "p50", "p95", "max"],
      [
        [
          "dashboard, 1,000 projects + 10,000 runs",
          ...[50, 95, 100].map((p) =>
            percentile(
              measured.map((r) => r.big),
              p,
            ),
          ),
        ],
        [
          "dashboard, empty store (floor)",
          ...[50, 95, 100].map((p) =>
            percentile(
              measured.map((r) => r.floor),
              p,
            ),
          ),
        ],
        ["  GET /api/admin/summary alone (big store)", ...[50, 95, 100].map((p) => percentile(summaryMs, p))],
      ],
    );
    console.log("");
    printTable(
      ["measure", "median", "floor median", "median ratio"],
      [versusRow("dashboard, big store", measured, (r) => r.big)],
    );

    await recordSummary([
      versusSummary(
        {
          bench: "admin-ui",
          measure: "dashboard first render, 1,000 projects + 10,000 runs",
          unit: "ms",
          baselineLabel: "the same page on an empty store",
        },
        measured,
        (r) => r.big,
      ),
    ]);
    const renderP50 = percentile(
      measured.map((r) => r.big),
      50,
    );
    const sizeMet = firstVisitKb < TARGET_GZIP_KB;
    const renderMet = renderP50 < TARGET_RENDER_P50_MS;
    console.log(
      `\ntarget: a first visit downloads under ${TARGET_GZIP_KB} KiB gzip: ${sizeMet ? "met" : "MISSED"} (${firstVisitKb.toFixed(1)} KiB)`,
    );
    console.log(
      `target: dashboard first render p50 under ${TARGET_RENDER_P50_MS} ms with the big store: ${renderMet ? "met" : "MISSED"} (${renderP50.toFixed(0)} ms)`,
    );
    if (!sizeMet || !renderMet) process.exitCode = 1;
  } finally {
    await browser.close();
    await empty.close();
    await big.close();
  }
}

await main();
