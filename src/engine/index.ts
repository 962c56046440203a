/**
 * The engine module's public face: LangGraph.js graphs and what they run on. For now the durable
 * checkpointer that keeps graph state in our `Store`, so a run resumes after a crash or restart.
 */
export { StoreCheckpointSaver } from "./checkpointer.js";
