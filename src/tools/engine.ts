/**
 * The engine's run requests, loaded on first use: the registry is also what the `orchestrator` CLI
 * builds its commands from, and a tool command (run by agents many times a turn) only calls the
 * API; loading the engine's graphs for it would triple its start time.
 */
export const engine = () => import("../engine/index.js");
