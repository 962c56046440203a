/**
 * The one behavioural suite every `Store` driver must pass. Driver test files call
 * `runStoreConformance` with a way to open their store with the given options (a redactor that
 * knows the suite's secrets); the cases never assume an empty database, so a driver may share one
 * database across the whole suite.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretRedactor } from "../observability/index.js";
import { accessCases } from "./conformance/access.js";
import { agentConfigVersionCases } from "./conformance/agent-config-versions.js";
import { botPoolCases } from "./conformance/bot-pool.js";
import { catalogCases } from "./conformance/catalog.js";
import { conversationCases } from "./conformance/conversations.js";
import { eventLogCases } from "./conformance/event-log.js";
import { instanceCases } from "./conformance/instances.js";
import { jobLeaseCases } from "./conformance/job-leases.js";
import { monitorCases } from "./conformance/monitor.js";
import { pipelineCases } from "./conformance/pipeline.js";
import { KNOWN_SECRET, KNOWN_TRICKY_SECRET, redactionCases } from "./conformance/redaction.js";
import { releaseOwnerCases } from "./conformance/release-owners.js";
import { spendCases } from "./conformance/spend.js";
import { vaultCases } from "./conformance/vault.js";
import type { Store, StoreOptions } from "./store.js";

export function runStoreConformance(name: string, open: (options: StoreOptions) => Promise<Store>): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store | undefined;
    const get = (): Store => {
      if (!store) throw new Error("store not open");
      return store;
    };

    beforeAll(async () => {
      const redactor = new SecretRedactor();
      redactor.addAll([KNOWN_SECRET, KNOWN_TRICKY_SECRET]);
      store = await open({ redactor });
    });
    afterAll(async () => {
      await store?.close();
    });

    it("answers ping", async () => {
      await get().ping();
      expect(get().driver).toMatch(/^(pglite|postgres)$/);
    });

    catalogCases(get);
    pipelineCases(get);
    eventLogCases(get);
    accessCases(get);
    agentConfigVersionCases(get);
    redactionCases(get);
    instanceCases(get);
    releaseOwnerCases(get);
    jobLeaseCases(get);
    conversationCases(get);
    vaultCases(get);
    botPoolCases(get);
    spendCases(get);
    monitorCases(get);
  });
}
