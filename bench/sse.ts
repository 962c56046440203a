// Latency of a run event from the journal's write (store append, then bus publish) to an SSE
// client of `/api/runs/:id/events/stream` receiving it, against the floor of a bare bus publish ->
// tail receive, measured in the same rounds. API on PGlite and the in-process bus, client over HTTP.

import { RunJournal } from "../src/events/index.js";
import { createLogger } from "../src/observability/index.js";
import { startApiHarness } from "../test/support/api-harness.js";
import { openEventStream } from "../test/support/sse-client.js";
import { percentile, printTable, versusRow } from "./stats.js";
import { recordSummary, versusSummary } from "./summary.js";

/** The SSE latency should stay under this at the 95th percentile. */
const TARGET_P95_MS = 100;
const WAIT_MS = 5_000;

function eventsFromArgs(argv: string[]): number {
  let value = "200";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--events") value = argv[++i] ?? "";
    else if (arg.startsWith("--events=")) value = arg.slice("--events=".length);
    else throw new Error(`unknown argument ${arg}; usage: tsx bench/sse.ts [--events N]`);
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--events must be a positive integer, not ${value}`);
  return n;
}

/** Resolves the waiter registered for a key when that key arrives; rejects after WAIT_MS. */
function arrivals() {
  const waiters = new Map<string, () => void>();
  return {
    wait(key: string): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`bench/sse: ${key} did not arrive`)), WAIT_MS);
        waiters.set(key, () => {
          clearTimeout(timer);
          waiters.delete(key);
          resolve();
        });
      });
    },
    arrived(key: string): void {
      waiters.get(key)?.();
    },
  };
}

async function main(): Promise<void> {
  const events = eventsFromArgs(process.argv.slice(2));
  const h = await startApiHarness({ listen: true });
  const journal = new RunJournal({
    store: h.store,
    bus: h.bus,
    logger: createLogger({ level: "silent", redactor: h.redactor }),
  });
  const project = await h.store.projects.create({ name: "bench sse" });
  const run = await h.store.runs.create({ projectId: project.id, kind: "engineering" });

  const sse = arrivals();
  const client = openEventStream(
    `${h.url}/api/runs/${run.id}/events/stream`,
    { authorization: `Bearer ${h.adminToken}` },
    (event) => {
      const message = (JSON.parse(event.data ?? "{}") as { data?: { message?: string } }).data?.message;
      if (message) sse.arrived(message);
    },
  );
  client.done.catch(() => {});
  const floor = arrivals();
  const floorStream = `bench.sse.${process.pid}`;
  const tail = h.bus.tail(floorStream, (envelope) => floor.arrived(String(envelope.payload)));
  await tail.ready;
  try {
    // The stream is live once an event written after the connect arrives.
    const warm = sse.wait("warm-up");
    await journal.log(run.id, "warm-up");
    await warm;

    const rounds: { sse: number; write: number; floor: number }[] = [];
    for (let i = 0; i < events; i++) {
      const key = `event ${i}`;
      const floorArrived = floor.wait(key);
      const floorStart = performance.now();
      await h.bus.publish(floorStream, { type: "bench.ping", payload: key });
      await floorArrived;
      const floorMs = performance.now() - floorStart;

      const sseArrived = sse.wait(key);
      const sseStart = performance.now();
      await journal.log(run.id, key);
      const writeMs = performance.now() - sseStart;
      await sseArrived;
      rounds.push({ sse: performance.now() - sseStart, write: writeMs, floor: floorMs });
    }

    const row = (label: string, values: number[]) => [
      label,
      percentile(values, 50),
      percentile(values, 95),
      percentile(values, 100),
    ];
    const sseMs = rounds.map((r) => r.sse);
    console.log(
      `\nrun event latency over ${events} events (one at a time), ms; ` +
        `journal write (PGlite append + bus publish) -> SSE client over HTTP, ` +
        `against bus publish -> tail receive (in-process bus)\n`,
    );
    printTable(
      ["measure", "p50", "p95", "max"],
      [
        row("journal write -> SSE client", sseMs),
        row(
          "  of which the write (append + publish)",
          rounds.map((r) => r.write),
        ),
        row(
          "bus publish -> tail (floor)",
          rounds.map((r) => r.floor),
        ),
      ],
    );
    console.log("");
    printTable(
      ["measure", "median", "floor median", "median ratio"],
      [versusRow("journal write -> SSE client", rounds, (r) => r.sse)],
    );
    await recordSummary([
      versusSummary(
        {
          bench: "sse",
          measure: "run event: journal write -> SSE client",
          unit: "ms",
          baselineLabel: "in-process bus publish -> tail",
        },
        rounds,
        (r) => r.sse,
      ),
    ]);
    const p95 = percentile(sseMs, 95);
    const met = p95 < TARGET_P95_MS;
    console.log(`\ntarget: p95 under ${TARGET_P95_MS} ms: ${met ? "met" : "MISSED"} (${p95.toFixed(2)} ms)`);
    if (!met) process.exitCode = 1;
  } finally {
    client.close();
    await tail.stop();
    await h.close();
  }
}

await main();
