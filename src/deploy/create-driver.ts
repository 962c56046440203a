import type { Logger } from "../observability/index.js";
import type { OwnerRef, Store } from "../store/index.js";
import type { DeployDriver, DeployDriverKind } from "./driver.js";
import { LocalDriver, ReleaseOwnership } from "./drivers/local/index.js";
import { type DeployConnector, SshComposeDriver } from "./drivers/ssh-compose/index.js";

/** What the composition root knows when it picks the configured deploy driver. */
export interface DeployDriverSettings {
  kind: DeployDriverKind;
  logger: Logger;
  /** `local`: where releases live (`<data>/deploy`) and who owns them in the store (engines may share it). */
  local: { root: string; store: Store; self: OwnerRef; leaseTtlMs: number };
  /** `ssh-compose`: how servers are reached and how releases are built there. */
  sshCompose: {
    connector: DeployConnector;
    baseImage?: string;
    remoteRoot?: string;
    buildNetwork?: string | null;
  };
}

/** The configured driver: supervised processes here, owned per engine instance, or Compose over SSH. */
export function createDeployDriver(settings: DeployDriverSettings): DeployDriver {
  const { logger } = settings;
  if (settings.kind === "local") {
    const { root, store, self, leaseTtlMs } = settings.local;
    const ownership = new ReleaseOwnership({ store, self, leaseTtlMs, logger });
    return new LocalDriver({ root, logger, ownership });
  }
  return new SshComposeDriver({ logger, ...settings.sshCompose });
}
