import { describe, expect, it } from "vitest";
import { addUtcDays, type SpendFigures, type TokenUsageCreate } from "../../contracts/index.js";
import type { Store } from "../store.js";
import { type GetStore, makeProject, uniq } from "./helpers.js";

const usage = (over: Partial<TokenUsageCreate> & Pick<TokenUsageCreate, "model">): TokenUsageCreate => ({
  workerId: null,
  projectId: null,
  runId: null,
  backend: "claude-code",
  inputTokens: 100,
  outputTokens: 10,
  cacheReadTokens: 1,
  cacheWriteTokens: 2,
  costUsd: 0.5,
  costSource: "provider",
  ...over,
});

/** What grew between two readings of the same figures. */
function grown(after: SpendFigures | undefined, before: SpendFigures | undefined): Record<string, number> {
  const keys = Object.keys(after ?? {}).filter((k) => k !== "day") as (keyof SpendFigures)[];
  return Object.fromEntries(
    keys.map((k) => [k, Number(((after?.[k] ?? 0) - (before?.[k] ?? 0)).toFixed(6))]),
  );
}

async function report(store: Store, day: string) {
  return store.stats.spend({ from: addUtcDays(day, -2), to: day });
}

/** The spend report: token usage summed by the database per day, project, owner and model. */
export function spendCases(get: GetStore): void {
  describe("spend report", () => {
    it("sums a period's usage per day, project, owner and backend/model, estimates apart", async () => {
      const store = get();
      const owner = await store.users.create({ webLogin: uniq("owner"), name: `Owner ${uniq()}` });
      const project = await store.projects.create({ name: `Spend ${uniq()}`, ownerId: owner.id });
      const orphan = await makeProject(store, "Ownerless");
      const model = uniq("model");
      const probe = await store.tokenUsage.record(usage({ model, projectId: project.id, costUsd: 0 }));
      const today = probe.createdAt.slice(0, 10);
      const before = await report(store, today);

      await store.tokenUsage.record(usage({ model, projectId: project.id, costUsd: 1.25 }));
      await store.tokenUsage.record(
        usage({ model, projectId: project.id, costUsd: 0.5, costSource: "estimated" }),
      );
      await store.tokenUsage.record(
        usage({ model, projectId: orphan.id, costUsd: 0.25, costSource: "metered" }),
      );
      await store.tokenUsage.record(
        usage({ model, backend: "codex", projectId: orphan.id, costUsd: 0, costSource: "unknown" }),
      );
      const after = await report(store, today);

      expect(after.from).toBe(addUtcDays(today, -2));
      expect(after.days.map((d) => d.day)).toEqual([addUtcDays(today, -2), addUtcDays(today, -1), today]);
      const four = {
        calls: 4,
        inputTokens: 400,
        outputTokens: 40,
        cacheReadTokens: 4,
        cacheWriteTokens: 8,
        costUsd: 2,
        estimatedCostUsd: 0.75,
        unpricedCalls: 1,
      };
      expect(grown(after.totals, before.totals)).toEqual(four);
      expect(grown(after.days[2], before.days[2])).toEqual(four);

      const ofProject = after.projects.find((p) => p.projectId === project.id);
      expect(ofProject).toMatchObject({ slug: project.slug, name: project.name, calls: 3, costUsd: 1.75 });
      expect(ofProject?.estimatedCostUsd).toBeCloseTo(0.5);
      expect(after.projects.find((p) => p.projectId === orphan.id)).toMatchObject({
        slug: orphan.slug,
        calls: 2,
        costUsd: 0.25,
        estimatedCostUsd: 0.25,
        unpricedCalls: 1,
      });

      expect(after.users.find((u) => u.userId === owner.id)).toMatchObject({
        name: owner.name,
        calls: 3,
        inputTokens: 300,
        costUsd: 1.75,
      });
      // The ownerless project's usage is counted with every other ownerless call.
      const nobody = (r: typeof after) => r.users.find((u) => u.userId === null);
      expect(grown(nobody(after), nobody(before))).toMatchObject({ calls: 2, costUsd: 0.25 });

      expect(after.models.filter((m) => m.model === model)).toEqual([
        expect.objectContaining({ backend: "claude-code", calls: 4, costUsd: 2, estimatedCostUsd: 0.75 }),
        expect.objectContaining({ backend: "codex", calls: 1, costUsd: 0, unpricedCalls: 1 }),
      ]);
      // Sorted by cost, dearest first.
      const costs = after.models.map((m) => m.costUsd);
      expect(costs).toEqual([...costs].sort((a, b) => b - a));
    });

    it("counts only the days of the period, both ends included", async () => {
      const store = get();
      const model = uniq("model");
      const recorded = await store.tokenUsage.record(usage({ model }));
      const today = recorded.createdAt.slice(0, 10);
      const onlyToday = await store.stats.spend({ from: today, to: today });
      expect(onlyToday.days).toHaveLength(1);
      expect(onlyToday.models.find((m) => m.model === model)?.calls).toBe(1);
      const before = await store.stats.spend({ from: addUtcDays(today, -3), to: addUtcDays(today, -1) });
      expect(before.models.find((m) => m.model === model)).toBeUndefined();
      expect(before.days.map((d) => d.day)).toEqual([-3, -2, -1].map((n) => addUtcDays(today, n)));
      const after = await store.stats.spend({ from: addUtcDays(today, 1), to: addUtcDays(today, 1) });
      expect(after.totals.calls).toBe(0);
      expect(after.projects).toEqual([]);
    });
  });
}
