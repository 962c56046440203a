import { readFile } from "node:fs/promises";
import { adminTokenFile, type Orchestrator } from "./orchestrator.js";

/** What a newcomer types in the demo's web chat; the scripted agent's canned code answers it. */
export const DEMO_BRIEF = "a web service that tells the time";

/**
 * `up --demo`: says where the web chat is. The Product Owner and the agents are scripted (no model
 * is called; the chat and the logs say so); the pipeline, git, tests and deploy are real.
 */
export async function startDemo(orchestrator: Orchestrator): Promise<string[]> {
  const url = orchestrator.url ?? orchestrator.healthUrl;
  const token = (await readFile(adminTokenFile(orchestrator.config.dataDir), "utf8").catch(() => "")).trim();
  return [
    "Demo: the Product Owner and the agents are scripted (no model is called); the pipeline, git, tests and deploy are real.",
    token
      ? `Open the web chat: ${url}/#token=${token}`
      : `Open the web chat at ${url}/ and sign in with the admin token (${adminTokenFile(orchestrator.config.dataDir)}).`,
    `Then write: ${DEMO_BRIEF}`,
  ];
}
