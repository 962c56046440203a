import { sql } from "drizzle-orm";
import { SecretRedactor } from "../observability/index.js";
import { createAgentConfigRepository } from "./repositories/agent-configs.js";
import { createApiTokenRepository } from "./repositories/api-tokens.js";
import { createBotPoolRepository } from "./repositories/bot-pool.js";
import { createCheckpointRepository } from "./repositories/checkpoints.js";
import { type Db, guard } from "./repositories/common.js";
import { createConversationRepository } from "./repositories/conversations.js";
import { createDeploymentRepository } from "./repositories/deployments.js";
import { createEventCursorRepository } from "./repositories/event-cursors.js";
import { createInstanceRepository } from "./repositories/instances.js";
import { createJobLeaseRepository } from "./repositories/job-leases.js";
import { createHealthTransitionRepository, createIncidentRepository } from "./repositories/monitor.js";
import { createPortAllocationRepository } from "./repositories/ports.js";
import { createProjectRepository } from "./repositories/projects.js";
import { createReleaseOwnerRepository } from "./repositories/release-owners.js";
import { createRunEventRepository } from "./repositories/run-events.js";
import { createRunRepository } from "./repositories/runs.js";
import { createSecretRepository } from "./repositories/secrets.js";
import { createServerRepository } from "./repositories/servers.js";
import { createSettingsRepository } from "./repositories/settings.js";
import { createStatsRepository } from "./repositories/stats.js";
import { createTokenUsageRepository } from "./repositories/token-usage.js";
import { createUserRepository } from "./repositories/users.js";
import { createVaultRepository } from "./repositories/vault.js";
import { createWebSessionRepository } from "./repositories/web-sessions.js";
import { createWorkerRepository } from "./repositories/workers.js";
import type { Store } from "./store.js";

/**
 * Wires every repository onto one driver-neutral database handle; drivers add only open and close.
 * Repositories that keep free text (run events, runs' input/result/error, worker reports,
 * deployments, checkpoints, project texts, server errors) mask what `redactor` knows before writing.
 */
export function buildStore(
  driver: Store["driver"],
  db: Db,
  close: () => Promise<void>,
  redactor: SecretRedactor = new SecretRedactor(),
): Store {
  let closing: Promise<void> | null = null;
  return {
    driver,
    users: createUserRepository(db),
    projects: createProjectRepository(db, redactor),
    servers: createServerRepository(db, redactor),
    ports: createPortAllocationRepository(db),
    runs: createRunRepository(db, redactor),
    runEvents: createRunEventRepository(db, redactor),
    eventCursors: createEventCursorRepository(db),
    workers: createWorkerRepository(db, redactor),
    deployments: createDeploymentRepository(db, redactor),
    healthTransitions: createHealthTransitionRepository(db, redactor),
    incidents: createIncidentRepository(db, redactor),
    secrets: createSecretRepository(db),
    botPool: createBotPoolRepository(db),
    agentConfigs: createAgentConfigRepository(db),
    settings: createSettingsRepository(db),
    tokenUsage: createTokenUsageRepository(db),
    apiTokens: createApiTokenRepository(db),
    webSessions: createWebSessionRepository(db),
    stats: createStatsRepository(db),
    checkpoints: createCheckpointRepository(db, redactor),
    instances: createInstanceRepository(db),
    releaseOwners: createReleaseOwnerRepository(db),
    jobLeases: createJobLeaseRepository(db),
    conversations: createConversationRepository(db, redactor),
    vault: createVaultRepository(db),
    async ping() {
      await guard(() => db.execute(sql`select 1`));
    },
    close() {
      // Closing twice is harmless: shutdown paths often overlap.
      closing ??= close();
      return closing;
    },
  };
}
