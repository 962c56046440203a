/**
 * Records the fixtures of `src/workers/backends/claude-code.test.ts` by running the real Claude
 * Code CLI (the installed npm version) against the fake Anthropic API, one scenario each:
 * `<name>.jsonl` is its stdout, `outputs.json` holds exit code, signal and stderr per scenario.
 *
 *     node --import tsx test/fakes/anthropic/record-claude-code-fixtures.ts
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AgentBackend, TurnRequest } from "../../../src/workers/index.js";
import { ClaudeCodeBackend } from "../../../src/workers/index.js";
import { freePort } from "../../support/ports.js";
import { writeReportMcpConfig } from "./mcp-config.js";
import { runBackendTurn, testTurn } from "./run-claude.js";
import { type FakeAnthropic, startFakeAnthropic } from "./server.js";

const OUT_DIR = fileURLToPath(
  new URL("../../../src/workers/backends/fixtures/claude-code/", import.meta.url),
);

interface Scenario {
  name: string;
  /** Scripts the fake and returns the turn and extra environment. */
  setup(
    fake: FakeAnthropic,
    dirs: { ws: string; home: string; tmp: string; scratch: string },
  ): {
    turn?: Partial<TurnRequest>;
    env?: Record<string, string>;
    home?: string;
    baseUrl?: string;
    /** Rewrites the backend's argv (to provoke output the backend must reject). */
    argv?: (argv: string[]) => string[];
  };
}

const bash = (command: string) => ({ toolUse: { name: "Bash", input: { command, description: command } } });

const SCENARIOS: Scenario[] = [
  {
    name: "success-tools",
    setup: (fake, { ws }) => {
      fake.enqueue(
        {
          toolUse: { name: "Write", input: { file_path: join(ws, "hello.txt"), content: "hello\n" } },
          usage: { input: 1200, output: 40, cacheRead: 300, cacheCreation: 500 },
        },
        {
          ...bash("echo ran > ran.txt"),
          usage: { input: 1300, output: 30, cacheRead: 800, cacheCreation: 0 },
        },
        {
          text: "Wrote hello.txt and ran the command.",
          usage: { input: 1400, output: 20, cacheRead: 900, cacheCreation: 10 },
        },
      );
      return {
        turn: { systemPrompt: "You are a developer.", newSessionId: "5b0c6a6e-4a54-4c39-8c55-9f2d2f0f7a11" },
      };
    },
  },
  {
    name: "mcp-report",
    setup: (fake, { scratch }) => {
      fake.enqueue(
        {
          toolUse: { name: "mcp__orchestrator__report", input: { status: "complete", summary: "all done" } },
        },
        "Reported.",
      );
      return { turn: { mcpConfigPath: writeReportMcpConfig(scratch, join(scratch, "reports.jsonl")) } };
    },
  },
  {
    name: "api-error-500",
    setup: (fake) => {
      fake.setFailure("api_error");
      return {};
    },
  },
  {
    name: "auth-401",
    setup: (fake) => {
      fake.setFailure("invalid_key");
      return {};
    },
  },
  {
    name: "overloaded-529",
    setup: (fake) => {
      fake.setFailure("overloaded");
      return {};
    },
  },
  {
    name: "max-turns",
    setup: (fake) => {
      fake.enqueue(bash("echo 1"), bash("echo 2"), bash("echo 3"));
      return { turn: { maxTurns: 2 } };
    },
  },
  {
    name: "budget",
    setup: (fake) => {
      fake.enqueue({ ...bash("echo 1"), usage: { input: 1_000_000, output: 1000 } }, "never reached");
      return { turn: { budgetUsd: 0.5 } };
    },
  },
  {
    name: "home-unwritable",
    setup: (fake, { scratch }) => {
      const home = join(scratch, "home-is-a-file");
      writeFileSync(home, "not a directory\n");
      fake.enqueue(bash("echo ran > ran.txt"), "Done.");
      return { home };
    },
  },
  {
    name: "empty-output",
    setup: (fake, { scratch }) => {
      const tmp = join(scratch, "tmp-is-a-file");
      writeFileSync(tmp, "not a directory\n");
      fake.enqueue("never reached");
      return { env: { TMPDIR: tmp } };
    },
  },
  {
    // Plain text instead of stream-json (a misbuilt command line): output the parser must reject.
    name: "garbage",
    setup: (fake) => {
      fake.enqueue("Hello in plain text, not JSON.");
      return { argv: (argv) => argv.map((arg) => (arg === "stream-json" ? "text" : arg)) };
    },
  },
];

async function main(): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  const backend = new ClaudeCodeBackend({ maxRetries: 1 });
  const outputs: Record<string, unknown> = {};
  const record = async (scenario: Scenario) => {
    const fake = await startFakeAnthropic();
    const scratch = mkdtempSync(join(tmpdir(), "cc-fixture-"));
    const dirs = { ws: join(scratch, "ws"), home: join(scratch, "home"), tmp: join(scratch, "tmp"), scratch };
    mkdirSync(dirs.ws);
    mkdirSync(dirs.home);
    mkdirSync(dirs.tmp);
    try {
      const setup = scenario.setup(fake, dirs);
      const edit = setup.argv;
      const runner: AgentBackend = edit
        ? {
            name: backend.name,
            invocation: (t) => {
              const invocation = backend.invocation(t);
              return { ...invocation, argv: edit(invocation.argv) };
            },
            parse: (o, t) => backend.parse(o, t),
          }
        : backend;
      const output = await runBackendTurn(runner, testTurn(dirs.ws, setup.turn), {
        baseUrl: setup.baseUrl ?? fake.url,
        home: setup.home ?? dirs.home,
        timeoutMs: 90_000,
        env: { TMPDIR: dirs.tmp, ...setup.env },
      });
      writeFileSync(join(OUT_DIR, `${scenario.name}.jsonl`), output.stdout);
      outputs[scenario.name] = {
        exitCode: output.exitCode,
        signal: output.signal,
        timedOut: output.timedOut,
        stderr: output.stderr,
        durationMs: output.durationMs,
      };
      process.stdout.write(`${scenario.name}: exit ${output.exitCode}, ${output.stdout.length} bytes\n`);
    } finally {
      await fake.close();
      rmSync(scratch, { recursive: true, force: true });
    }
  };
  for (const scenario of SCENARIOS) await record(scenario);
  // Unreachable API: a port that was free a moment ago, so nobody listens on it.
  const closedPort = await freePort();
  await record({ name: "unreachable", setup: () => ({ baseUrl: `http://127.0.0.1:${closedPort}` }) });
  writeFileSync(join(OUT_DIR, "outputs.json"), `${JSON.stringify(outputs, null, 2)}\n`);
}

await main();
