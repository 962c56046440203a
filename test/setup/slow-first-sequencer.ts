import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Seconds each of the slowest files took in a whole run on 2 cores (CI's machine). On a clean clone
 * vitest knows no durations and starts files by size, so a five-minute suite could start last and
 * keep the run going long after the other workers are done: the longest start first instead. A
 * rough order is all that matters; refresh it when a suite's place in the run changes a lot.
 */
const SLOW_FILES: Record<string, number> = {
  "test/e2e/engineering.test.ts": 362,
  "test/e2e/deploy-ssh-compose.test.ts": 329,
  "test/reliability/kills.test.ts": 295,
  "test/e2e/server-mode.int.test.ts": 199,
  "test/e2e/engineering-acceptance.test.ts": 154,
  "test/e2e/engineering-claude.test.ts": 145,
  "test/e2e/embedded.test.ts": 130,
  "src/deploy/drivers/ssh-compose/ssh-compose.int.test.ts": 118,
  "src/deploy/drivers/local/local-driver.int.test.ts": 108,
  "test/e2e/docker-workers.int.test.ts": 106,
  "test/e2e/workers-node-loss.test.ts": 102,
  "test/reliability/fuzz.test.ts": 101,
  "test/e2e/web-app-kept.test.ts": 101,
  "test/e2e/engineering-claude-cheats.test.ts": 88,
  "test/reliability/restarts.test.ts": 82,
  "test/e2e/chat-telegram.test.ts": 82,
  "test/e2e/deploy-telegram.test.ts": 80,
  "test/e2e/deploy-two-engines.test.ts": 79,
  "src/templates/telegram-bot.int.test.ts": 78,
  "src/store/store.pglite.test.ts": 67,
  "test/e2e/chat-web.test.ts": 62,
  "test/e2e/chat-bot-stories.test.ts": 60,
  "test/e2e/monitor.test.ts": 58,
  "test/e2e/chat-telegram-blocked.test.ts": 57,
  "test/e2e/engineering-restart.test.ts": 55,
  "src/workers/lifecycle.test.ts": 53,
  "src/templates/web-service.int.test.ts": 50,
  "test/e2e/vault-key.test.ts": 46,
  "test/e2e/roles-replicas.test.ts": 46,
  "test/e2e/engineering-answer.test.ts": 46,
  "test/e2e/ops-topology.test.ts": 43,
  "test/e2e/admin-projects.test.ts": 43,
  "src/git/github/github-forge.test.ts": 43,
  "src/workers/runtimes/process-runtime.test.ts": 42,
  "src/workers/manager.test.ts": 41,
  "test/e2e/tracing.test.ts": 40,
  "test/e2e/secret-scan.test.ts": 40,
  "test/e2e/forge-github.test.ts": 40,
  "test/e2e/chat-faults.test.ts": 40,
};

/**
 * Files not in the list: the end-to-end suites and the integration suites (real services, npm
 * installs, Docker) are slow as a rule, so they go before the unit tests, which fill in the end.
 */
function weight(file: string): number {
  const known = SLOW_FILES[file];
  if (known !== undefined) return known;
  if (file.startsWith("test/e2e/")) return 60;
  if (file.endsWith(".int.test.ts")) return 40;
  return 0;
}

/** Longest first, by the list above; within a weight, vitest's own order (cached durations, size). */
export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const rank = new Map(sorted.map((spec, i) => [spec, i]));
    const weightOf = (spec: TestSpecification) => weight(relative(root, spec.moduleId).replaceAll("\\", "/"));
    return sorted.sort((a, b) => weightOf(b) - weightOf(a) || (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
  }
}
