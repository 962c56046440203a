// `npm run bench`: every bench, one after the other, each in its own process (as `npm run
// bench:<name>` runs it, with its own tables), then one summary table of their headline figures,
// each beside its baseline measured in the same run and the ratio. The benches append their rows
// to a file named by BENCH_SUMMARY_FILE (bench/summary.ts). A bench that exits non-zero (an error,
// or a missed target) is named at the end and the others still run.
//   npm run bench -- [--only bus,scale] [--skip release-image]
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { printSummary, readSummary, SUMMARY_FILE_ENV } from "./summary.js";

/** Every bench, cheapest and most asked-for first. */
const BENCHES = [
  "bus",
  "chat",
  "sse",
  "scale",
  "workers",
  "engineering",
  "deploy",
  "admin-ui",
  "release-image",
] as const;

function selected(argv: string[]): string[] {
  let names: string[] = [...BENCHES];
  const usage = `usage: tsx bench/all.ts [--only a,b] [--skip a,b]; benches: ${BENCHES.join(", ")}`;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes("=") ? arg.split("=", 2) : [arg, undefined];
    const list = (inline ?? argv[++i] ?? "").split(",").filter(Boolean);
    const unknown = list.filter((n) => !(BENCHES as readonly string[]).includes(n));
    if (unknown.length > 0) throw new Error(`unknown bench ${unknown.join(", ")}; ${usage}`);
    if (flag === "--only") names = names.filter((n) => list.includes(n));
    else if (flag === "--skip") names = names.filter((n) => !list.includes(n));
    else throw new Error(`unknown argument ${arg}; ${usage}`);
  }
  return names;
}

/** Runs one bench to its end with inherited output; resolves with its exit code (or signal). */
function runBench(name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const tsx = join(import.meta.dirname, "..", "node_modules", ".bin", "tsx");
  const child = spawn(tsx, [join(import.meta.dirname, `${name}.ts`)], { env, stdio: "inherit" });
  return new Promise((resolve) => {
    child.on("error", (error) => resolve(`could not start: ${error.message}`));
    child.on("exit", (code, signal) =>
      resolve(code === 0 ? null : signal ? `ended by ${signal}` : `exit code ${code}`),
    );
  });
}

async function main(): Promise<void> {
  const names = selected(process.argv.slice(2));
  const scratch = await mkdtemp(join(tmpdir(), "bench-all-"));
  const file = join(scratch, "summary.jsonl");
  const env = { ...process.env, [SUMMARY_FILE_ENV]: file };
  console.log(`bench: the summary's rows are collected in ${file}`);
  const failed: string[] = [];
  const minutes: string[] = [];
  try {
    for (const name of names) {
      console.log(`\n=== bench/${name} (${new Date().toISOString()}) ===`);
      const started = performance.now();
      const failure = await runBench(name, env);
      minutes.push(`${name} ${((performance.now() - started) / 60_000).toFixed(1)}`);
      if (failure) failed.push(`${name}: ${failure}`);
    }
    console.log(
      `\n=== summary: each figure beside its baseline measured in the same run (ratio = figure / baseline) ===\n`,
    );
    printSummary(await readSummary(file));
    console.log(`\nminutes per bench: ${minutes.join(", ")}`);
    if (failed.length > 0) {
      console.log(
        `\nexited non-zero (an error, or a missed target: see its output above): ${failed.join("; ")}`,
      );
      process.exitCode = 1;
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
