/**
 * Deploy servers: registration with the SSH key sealed in the vault (with the pinned host key),
 * the provisioning check over SSH, removal, periodic health checks, and the connector the
 * `ssh-compose` driver uses to reach a registered server.
 */
export {
  openCredentials,
  ServerConnector,
  SshCredentials,
  sealCredentials,
} from "./credentials.js";
export {
  capacityOf,
  detectCompose,
  type ProbeOptions,
  type ProbeRequirements,
  parseDf,
  parseMeminfo,
  parseNproc,
  parseOsRelease,
  probeServer,
} from "./probe.js";
export {
  MIN_AVAILABLE_MEMORY_MB,
  MIN_FREE_DISK_MB,
  ServerService,
  type ServerServiceOptions,
} from "./server-service.js";
