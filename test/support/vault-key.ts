import { randomBytes } from "node:crypto";

/**
 * A vault key for the processes of one test file (`ORCHESTRATOR_SECRET_KEY`): server mode requires
 * one, and every process of a deployment must share it.
 */
export const TEST_VAULT_KEY = randomBytes(32).toString("base64");
