export { basicAuthEnv, type GitAccess, WORKSPACE_CREDENTIAL_HELPER } from "./access.js";
export {
  BranchName,
  CommitSha,
  CreateRepositoryInput,
  checkRepoPath,
  type Forge,
  ForgeCommit,
  type ForgeCredentials,
  ForgeKind,
  ForgeRepository,
  ListCommitsOptions,
  type RepositoryRef,
  RepositorySlug,
  withTokenInUrl,
} from "./forge.js";
export {
  ActionsSecretName,
  type CiSecretsOutcome,
  ciSecretNames,
  GithubForge,
  type GithubForgeOptions,
  GithubOwner,
  writeCiSecrets,
} from "./github/index.js";
export {
  basicAuthToken,
  GIT_REQUEST_TIMEOUT_MS,
  type GitHttpOptions,
  registerGitHttp,
  type ServedForge,
} from "./http.js";
export { LOCAL_DEFAULT_BRANCH, LocalForge, type LocalForgeOptions, runGit } from "./local/index.js";
