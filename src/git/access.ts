import { AppError } from "../contracts/index.js";

/**
 * How a `git` child process reaches a repository: a `url` that carries no credentials (so it may
 * be logged or shown) and an `env` that authenticates git (merged into the child's environment).
 */
export interface GitAccess {
  url: string;
  env: Record<string, string>;
}

/**
 * Environment variables that make git send `Authorization: Basic x-access-token:<token>` on every
 * HTTP request (command-scope config via `GIT_CONFIG_COUNT`), so the token is never in argv, in a
 * URL or in a config file. Works for GitHub and for our own git HTTP endpoint.
 */
export function basicAuthEnv(token: string): Record<string, string> {
  if (!token) throw new AppError("invalid", "invalid_input", "a token is required for git access");
  const basic = Buffer.from(`x-access-token:${token}`, "utf8").toString("base64");
  return {
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "http.extraHeader",
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
  };
}

/**
 * A `credential.helper` for a worker's workspace: on `get` it answers `username=x-access-token` and
 * the token from `$ORCHESTRATOR_GIT_TOKEN`, else `$ORCHESTRATOR_TOKEN` (the worker's API token,
 * present in every sandbox command); it prints nothing when neither is set and for `store`/`erase`.
 * The repository's config then holds no secret, only this snippet.
 */
export const WORKSPACE_CREDENTIAL_HELPER =
  '!f() { cat >/dev/null; test "$1" = get || return 0; ' +
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a JS template
  't="${ORCHESTRATOR_GIT_TOKEN:-$ORCHESTRATOR_TOKEN}"; test -n "$t" || return 0; ' +
  "printf 'username=x-access-token\\npassword=%s\\n' \"$t\"; }; f";
