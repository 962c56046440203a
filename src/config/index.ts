export { ChatSettings } from "./chat.js";
export { cliApiUrl, cliDataDir } from "./cli.js";
export { ConfigError, type ConfigProblem } from "./errors.js";
export { ForgeSettings } from "./forge.js";
export { AGENT_CREDENTIAL_VARS } from "./llm.js";
export { loadConfig } from "./load.js";
export { Config, ENV_VARS, type Mode } from "./schema.js";
export { Duration } from "./values.js";
export { packageRoot, packageVersion } from "./version.js";
