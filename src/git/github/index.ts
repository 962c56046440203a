export { type CiSecretsOutcome, ciSecretNames, writeCiSecrets } from "./ci-secrets.js";
export { githubError, statusOf } from "./errors.js";
export {
  ActionsSecretName,
  GithubForge,
  type GithubForgeOptions,
  GithubOwner,
} from "./github-forge.js";
export { sealForGithub } from "./sealed-box.js";
