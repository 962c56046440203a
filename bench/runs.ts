import type { Run, RunEvent } from "../src/contracts/index.js";
import type { Store } from "../src/store/index.js";

/** `--runs N` (default 3) from the command line; anything else is a usage error naming `script`. */
export function runsFromArgs(argv: string[], script: string): number {
  let value = "3";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--runs") value = argv[++i] ?? "";
    else if (arg.startsWith("--runs=")) value = arg.slice("--runs=".length);
    else throw new Error(`unknown argument ${arg}; usage: tsx ${script} [--runs N]`);
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--runs must be a positive integer, not ${value}`);
  return n;
}

const ms = (iso: string) => Date.parse(iso);

/**
 * Stage durations of a run from consecutive `run.stage_changed` events (the last stage ends with
 * the run), summed per stage; `queued` is creation -> first stage. The events come back too.
 */
export async function stageTimings(
  store: Store,
  run: Run,
): Promise<{ stages: Map<string, number>; queued: number; events: RunEvent[] }> {
  const events = await store.runEvents.list(run.id, { limit: 5000 });
  const changes = events.filter((e) => e.type === "run.stage_changed");
  const finished = run.finishedAt ? ms(run.finishedAt) : Number.NaN;
  const stages = new Map<string, number>();
  changes.forEach((e, i) => {
    const next = changes[i + 1];
    const end = next ? ms(next.at) : finished;
    const stage = String(e.data.stage);
    stages.set(stage, (stages.get(stage) ?? 0) + end - ms(e.at));
  });
  const first = changes[0];
  return { stages, queued: first ? ms(first.at) - ms(run.createdAt) : Number.NaN, events };
}
