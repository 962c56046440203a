import { cliEnvPrefix } from "../config/index.js";
import { requestEngineering } from "../engine/index.js";
import { RunJournal } from "../events/index.js";
import type { Orchestrator } from "./orchestrator.js";

/** The brief the demo builds; the scripted agent's canned code answers it. */
export const DEMO_BRIEF =
  "A small web service with a health check and an endpoint that tells the current time.";

/**
 * `up --demo`: creates a fresh demo project and starts its engineering run, so a newcomer without
 * model keys watches a brief become a repository with passing tests. Returns what to tell them.
 */
export async function startDemo(orchestrator: Orchestrator): Promise<string[]> {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:T.Z]/g, "")
    .slice(0, 14);
  const project = await orchestrator.store.projects.create({
    name: `Demo web service ${stamp}`,
    slug: `demo-${stamp}`,
    description: DEMO_BRIEF,
  });
  const { store, bus, logger } = orchestrator;
  const run = await requestEngineering(
    { store, bus, journal: new RunJournal({ store, bus, logger }) },
    {
      projectId: project.id,
      brief: DEMO_BRIEF,
    },
  );
  // The commands carry this instance's URL and data directory when they are not the CLI's
  // defaults, so pasted into another shell they reach this orchestrator and no other.
  const cli = `${cliEnvPrefix(orchestrator.healthUrl, orchestrator.config.dataDir)}npx orchestrator`;
  return [
    `Demo project ${project.slug} (${project.id}): engineering run ${run.id} started with a scripted agent.`,
    `Follow it:   ${cli} engineering status --run-id ${run.id}`,
    orchestrator.config.deploy.driver === "local"
      ? `When its tests pass it is deployed on this machine: ${cli} deploy status --project-id ${project.id} (the URL is in the result)`
      : `When its tests pass it is deployed to a registered server (${cli} server list): ${cli} deploy status --project-id ${project.id} (the URL is in the result)`,
    `Clone it: git clone ${orchestrator.url ?? "<api url>"}/git/${project.slug}.git (user x-access-token, password: the admin token)`,
  ];
}
