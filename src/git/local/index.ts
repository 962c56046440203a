export { type CgiHead, parseCgiHeaders, readCgiHead } from "./cgi.js";
export { GIT_TIMEOUT_MS, type GitResult, gitEnv, runGit, runGitOk } from "./git-command.js";
export { LOCAL_DEFAULT_BRANCH, LocalForge, type LocalForgeOptions } from "./local-forge.js";
