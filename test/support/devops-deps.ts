import { join } from "node:path";
import { InProcessBus } from "../../src/bus/index.js";
import type { DeployDriver } from "../../src/deploy/index.js";
import type { DevopsDeps, DevopsStateValue } from "../../src/engine/index.js";
import { RunJournal } from "../../src/events/index.js";
import { LocalForge } from "../../src/git/index.js";
import { type Logger, SecretRedactor } from "../../src/observability/index.js";
import { SecretsService, type Vault } from "../../src/secrets/index.js";
import type { Store } from "../../src/store/index.js";

/** What devops stages run with in a stage-level test: a local forge under `dir`, fast gate timing. */
export function devopsDeps(opts: {
  store: Store;
  dir: string;
  driver: DeployDriver;
  vault: Vault;
  logger: Logger;
}): DevopsDeps {
  const { store, logger } = opts;
  return {
    store,
    forge: new LocalForge({ dataDir: join(opts.dir, "data"), baseUrl: "http://127.0.0.1:1" }),
    driver: opts.driver,
    secrets: new SecretsService({ store, vault: opts.vault, redactor: new SecretRedactor() }),
    journal: new RunJournal({ store, bus: new InProcessBus(), logger }),
    logger,
    portRange: [30_000, 30_100],
    appEnv: "test",
    telegramApiRoot: null,
    gate: { intervalMs: 100, deadlineMs: 1_000 },
  };
}

/** A devops graph state as a stage sees it on entry: the run and its input, the rest as `over` sets it. */
export function devopsState(
  runId: string,
  input: DevopsStateValue["input"],
  over: Partial<DevopsStateValue> = {},
): DevopsStateValue {
  return {
    runId,
    input,
    commit: null,
    manifest: null,
    serverId: null,
    ports: {},
    deploymentId: null,
    release: null,
    previousDeploymentId: null,
    gate: null,
    failure: null,
    outcome: null,
    ...over,
  };
}
