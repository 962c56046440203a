/**
 * The `ssh-compose` deploy driver: releases built and run with Docker Compose on registered
 * servers over SSH, each in its own folder and image, the last few kept for rollback. Remote steps
 * are built as data (`ComposeCommands`) and run by an executor (SSH, or a recording one).
 */
export { ComposeCommands, type RemoteCommand, type RemoteUpload } from "./commands.js";
export {
  type CommandExecutor,
  type CommandReply,
  type DeployConnector,
  RecordingExecutor,
  SshExecutor,
  sshDeployConnector,
} from "./executor.js";
export {
  COMMIT_LABEL,
  composeProjectName,
  DOCKERIGNORE,
  dockerfileText,
  PROJECT_LABEL,
  RELEASE_LABEL,
} from "./remote-files.js";
export { ReleaseId, ReleaseRecord, RemoteLayout } from "./remote-layout.js";
export {
  DEFAULT_BASE_IMAGE,
  DEFAULT_REMOTE_ROOT,
  SshComposeDriver,
  type SshComposeDriverOptions,
} from "./ssh-compose-driver.js";
