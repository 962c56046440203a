/**
 * The `ssh-compose` deploy driver: releases built and run with Docker Compose on registered
 * servers over SSH, each in its own folder and image, the last few kept for rollback.
 */
export { COMMIT_LABEL, PROJECT_LABEL, RELEASE_LABEL } from "./remote-files.js";
export { ReleaseId, ReleaseRecord } from "./remote-layout.js";
export { composeProjectName } from "./remote-project.js";
export {
  DEFAULT_BASE_IMAGE,
  DEFAULT_REMOTE_ROOT,
  SshComposeDriver,
  type SshComposeDriverOptions,
} from "./ssh-compose-driver.js";
