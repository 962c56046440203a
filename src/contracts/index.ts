export * from "./agent.js";
export * from "./bus.js";
export * from "./entities.js";
export * from "./errors.js";
export * from "./ids.js";
export * from "./principal.js";
export * from "./status.js";
export * from "./template.js";
