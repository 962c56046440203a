import { describe, expect, it } from "vitest";
import type { AgentRole } from "../../contracts/index.js";
import { AGENT_CONFIG_DEFAULTS } from "../agent-config-defaults.js";
import { expectAppError, type GetStore, ISO } from "./helpers.js";

/** Agent configs' saved versions (who, when, restore) and the run-time settings. */
export function agentConfigVersionCases(get: GetStore): void {
  describe("agent config versions", () => {
    it("keep version 1 as the shipped default of every node", async () => {
      for (const node of ["po", "architect", "tester"] as const) {
        const first = await get().agentConfigs.getVersion(node, 1);
        expect(first).toMatchObject({
          ...AGENT_CONFIG_DEFAULTS[node],
          version: 1,
          createdBy: "shipped default",
        });
        expect(first.createdAt).toMatch(ISO);
      }
    });

    it("save every update as the next version, with who saved it and when, newest first", async () => {
      const before = await get().agentConfigs.get("devops");
      const saved = await get().agentConfigs.update("devops", { prompt: "Be careful." }, "admin:ops");
      expect(saved.version).toBe(before.version + 1);
      expect(saved.prompt).toBe("Be careful.");
      const again = await get().agentConfigs.update("devops", { maxTurns: 7 }, "user:pat");
      expect(again).toMatchObject({ version: before.version + 2, prompt: "Be careful.", maxTurns: 7 });
      expect(await get().agentConfigs.get("devops")).toEqual(again);

      const versions = await get().agentConfigs.listVersions("devops");
      expect(versions.slice(0, 3).map((v) => [v.version, v.createdBy, v.maxTurns])).toEqual([
        [before.version + 2, "user:pat", 7],
        [before.version + 1, "admin:ops", before.maxTurns],
        [before.version, expect.any(String), before.maxTurns],
      ]);
      expect(versions[0]).not.toHaveProperty("prompt");
      expect(versions[0]?.createdAt).toBe(again.updatedAt);
      const full = await get().agentConfigs.getVersion("devops", before.version + 1);
      expect(full).toMatchObject({ node: "devops", prompt: "Be careful.", createdBy: "admin:ops" });
      // A rejected patch saves no version.
      await expectAppError(get().agentConfigs.update("devops", { budgetUsd: -1 }, "admin:ops"), "invalid");
      expect((await get().agentConfigs.get("devops")).version).toBe(again.version);
    });

    it("restore an old version as a new one, leaving the history as it was", async () => {
      const base = await get().agentConfigs.get("tester");
      await get().agentConfigs.update("tester", { prompt: "changed", model: "m-2" }, "admin:a");
      const restored = await get().agentConfigs.restore("tester", base.version, "admin:b");
      expect(restored).toMatchObject({
        version: base.version + 2,
        prompt: base.prompt,
        model: base.model,
      });
      const versions = await get().agentConfigs.listVersions("tester");
      expect(versions.slice(0, 3).map((v) => [v.version, v.createdBy, v.model])).toEqual([
        [base.version + 2, "admin:b", base.model],
        [base.version + 1, "admin:a", "m-2"],
        [base.version, expect.any(String), base.model],
      ]);
      expect((await get().agentConfigs.getVersion("tester", base.version + 1)).prompt).toBe("changed");
    });

    it("refuse an unknown node, a version the node does not have and an empty author", async () => {
      const current = await get().agentConfigs.get("architect");
      const missing = await expectAppError(
        get().agentConfigs.getVersion("architect", current.version + 50),
        "not_found",
      );
      expect(missing.details).toEqual([expect.objectContaining({ path: "version" })]);
      await expectAppError(
        get().agentConfigs.restore("architect", current.version + 50, "admin:x"),
        "not_found",
      );
      await expectAppError(get().agentConfigs.getVersion("architect", 0), "invalid");
      await expectAppError(get().agentConfigs.listVersions("janitor" as AgentRole), "invalid");
      await expectAppError(get().agentConfigs.update("architect", { maxTurns: 3 }, ""), "invalid");
      expect((await get().agentConfigs.get("architect")).version).toBe(current.version);
    });

    it("give two saves at once two versions", async () => {
      const before = await get().agentConfigs.get("po");
      const [a, b] = await Promise.all([
        get().agentConfigs.update("po", { maxTurns: 11 }, "admin:a"),
        get().agentConfigs.update("po", { maxTurns: 12 }, "admin:b"),
      ]);
      expect([a.version, b.version].sort()).toEqual([before.version + 1, before.version + 2]);
      await get().agentConfigs.update("po", { maxTurns: before.maxTurns }, "admin:a");
    });
  });

  describe("run-time settings", () => {
    it("store values with who and when, and return a key to its default with null", async () => {
      await get().settings.update({ webSessionTtlMs: null, workerHardTtlMs: null }, "admin:reset");
      expect(await get().settings.get("webSessionTtlMs")).toBeNull();
      const stored = await get().settings.update({ webSessionTtlMs: 3_600_000 }, "admin:ops");
      expect(stored).toContainEqual({
        key: "webSessionTtlMs",
        value: 3_600_000,
        updatedBy: "admin:ops",
        updatedAt: expect.stringMatching(ISO),
      });
      expect(await get().settings.get("webSessionTtlMs")).toBe(3_600_000);
      await get().settings.update({ webSessionTtlMs: 7_200_000, workerHardTtlMs: 600_000 }, "admin:two");
      const list = await get().settings.list();
      expect(list.find((s) => s.key === "webSessionTtlMs")).toMatchObject({
        value: 7_200_000,
        updatedBy: "admin:two",
      });
      expect(await get().settings.get("workerHardTtlMs")).toBe(600_000);
      await get().settings.update({ webSessionTtlMs: null, workerHardTtlMs: null }, "admin:reset");
      expect(await get().settings.get("webSessionTtlMs")).toBeNull();
      expect((await get().settings.list()).map((s) => s.key)).not.toContain("webSessionTtlMs");
    });

    it("refuse a value out of bounds or an unknown key, and change nothing then", async () => {
      await expectAppError(get().settings.update({ webSessionTtlMs: 5 }, "admin:x"), "invalid");
      await expectAppError(
        get().settings.update({ webSessionTtlMs: 3_600_000, nope: 1 } as never, "admin:x"),
        "invalid",
      );
      expect(await get().settings.get("webSessionTtlMs")).toBeNull();
    });
  });
}
