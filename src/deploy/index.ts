/**
 * Deploys: the `DeployDriver` interface and its drivers (`local`: supervised processes here;
 * `ssh-compose`: Docker Compose on registered servers over SSH), resource allocation, environment
 * resolution, health gates and the servers service. Other modules enter deploy through this face.
 */

export { allocatePorts, isLocalPortFree, pickServer, releasePorts } from "./allocation/index.js";
export { createDeployDriver, type DeployDriverSettings } from "./create-driver.js";
export {
  type BuildSpec,
  type DeployDriver,
  type DeployDriverKind,
  type DeployTarget,
  RELEASES_KEPT,
  type RecoveryContext,
  type RecoveryReport,
  type Release,
  type RunSpec,
  type TeardownOptions,
} from "./driver.js";
export {
  type AdoptCandidate,
  buildEnv,
  DEFAULT_RESTART_POLICY,
  hostPath,
  LocalDriver,
  type LocalDriverOptions,
  type LocalRunning,
  type RecordedRun,
  ReleaseOwnership,
  type RestartPolicy,
} from "./drivers/local/index.js";
export {
  type CommandExecutor,
  DEFAULT_BASE_IMAGE,
  DEFAULT_REMOTE_ROOT,
  type DeployConnector,
  DOCKERIGNORE,
  dockerfileText,
  PROJECT_LABEL,
  RecordingExecutor,
  type RemoteCommand,
  SshComposeDriver,
  type SshComposeDriverOptions,
  sshDeployConnector,
} from "./drivers/ssh-compose/index.js";
export { describeEnvironment, type EnvResolution, resolveEnvironment } from "./env/index.js";
export {
  HEALTH_DEADLINE_MS,
  type HealthGateResult,
  httpHealthGate,
  telegramHealthGate,
} from "./health/index.js";
export {
  ServerConnector,
  ServerService,
  type ServerServiceOptions,
} from "./servers/index.js";
