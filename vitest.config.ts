import { defineConfig } from "vitest/config";
import SlowFirstSequencer from "./test/setup/slow-first-sequencer.js";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "web/src/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    globalSetup: ["test/setup/pglite-snapshot.ts"],
    // The slowest files first (a clean clone has no durations cached): see the sequencer.
    sequence: { sequencer: SlowFirstSequencer },
    // Vitest's default is one worker per CPU minus one: a single worker on a 2-core machine. Most
    // suites wait on real services (npm installs, Docker builds, sshd, a browser), so three share
    // 2 cores well and keep the whole run within its time.
    maxWorkers: 3,
  },
});
