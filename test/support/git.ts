import { basicAuthEnv } from "../../src/git/index.js";

/**
 * The environment of a person's `git` in tests and benches: an author and committer, no prompts,
 * and, given a token, Basic auth for the API's git endpoint (through git's own config variables,
 * never in a URL).
 */
export function gitEnv(token?: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@example.invalid",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@example.invalid",
    ...(token ? basicAuthEnv(token) : {}),
  };
}
