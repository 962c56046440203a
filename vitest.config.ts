import { configDefaults, defineConfig } from "vitest/config";
import SlowFirstSequencer from "./test/setup/slow-first-sequencer.js";

/** Suites that start services, processes or a browser: each file in a fresh process of its own. */
const SERVICE_SUITES = ["test/e2e/**/*.test.ts", "test/reliability/**/*.test.ts", "**/*.int.test.ts"];
/** Unit files that count the process's own timers or handles, which another file's leftovers would skew. */
const OWN_PROCESS = ["src/scheduler/scheduler.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    globalSetup: ["test/setup/pglite-snapshot.ts"],
    // The slowest files first (a clean clone has no durations cached): see the sequencer.
    sequence: { sequencer: SlowFirstSequencer },
    // Vitest's default is one worker per CPU minus one: a single worker on a 2-core machine. Most
    // suites wait on real services (npm installs, Docker builds, sshd, a browser), so three share
    // 2 cores well and keep the whole run within its time. Four were tried: no faster on the whole,
    // and a suite's own deadlines were missed under the load.
    maxWorkers: 3,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "test/**/*.test.ts", "web/src/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...SERVICE_SUITES, ...OWN_PROCESS],
          // Unit files share their worker processes: a fresh process per file cost about as much CPU
          // as the tests themselves (starting Node, importing the sources again).
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: "services",
          include: [...SERVICE_SUITES, ...OWN_PROCESS],
          // The CPU each file cost, for the run's closing lines (CPU_TALLY).
          setupFiles: ["test/setup/cpu-per-file.ts"],
        },
      },
    ],
  },
});
