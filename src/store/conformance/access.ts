import { describe, expect, it } from "vitest";
import { AgentRole } from "../../contracts/index.js";
import { AGENT_CONFIG_DEFAULTS } from "../agent-config-defaults.js";
import { expectAppError, type GetStore, MISSING_ID, makeProject, uniq } from "./helpers.js";

/** Secrets, agent configs, token usage and API tokens. */
export function accessCases(get: GetStore): void {
  describe("secrets", () => {
    it("puts, replaces and lists metadata without ever returning the ciphertext", async () => {
      const project = await makeProject(get());
      const meta = await get().secrets.put({
        projectId: project.id,
        key: "BOT_TOKEN",
        kind: "user",
        ciphertext: "CIPHER-ONE",
        length: 46,
        createdBy: "user:1",
      });
      expect(meta).toMatchObject({
        projectId: project.id,
        key: "BOT_TOKEN",
        kind: "user",
        isFilled: true,
        length: 46,
      });
      expect(Object.keys(meta).sort()).toEqual(
        [
          "bot",
          "createdAt",
          "createdBy",
          "id",
          "isFilled",
          "key",
          "kind",
          "length",
          "projectId",
          "updatedAt",
        ].sort(),
      );
      const replaced = await get().secrets.put({
        projectId: project.id,
        key: "BOT_TOKEN",
        kind: "user",
        ciphertext: "CIPHER-TWO",
        length: 47,
        createdBy: "user:2",
      });
      expect(replaced).toMatchObject({ id: meta.id, length: 47, createdAt: meta.createdAt });
      await get().secrets.put({
        projectId: project.id,
        key: "DB_PASSWORD",
        kind: "infra",
        ciphertext: "C3",
        length: 0,
        createdBy: null,
      });
      const list = await get().secrets.listMeta(project.id);
      expect(list.map((m) => m.key)).toEqual(["BOT_TOKEN", "DB_PASSWORD"]);
      expect(list[1]?.isFilled).toBe(false);
      expect(JSON.stringify(list)).not.toContain("CIPHER");
      expect(await get().secrets.getCiphertext(project.id, "BOT_TOKEN")).toBe("CIPHER-TWO");
      expect(await get().secrets.getCiphertext(project.id, "MISSING")).toBeNull();
      await get().secrets.remove(project.id, "BOT_TOKEN");
      expect(await get().secrets.getCiphertext(project.id, "BOT_TOKEN")).toBeNull();
      expect((await get().secrets.listMeta(project.id)).map((m) => m.key)).toEqual(["DB_PASSWORD"]);
      await get().secrets.remove(project.id, "BOT_TOKEN");
    });

    it("keeps pool secrets (no project) unique per key and apart from project secrets", async () => {
      const key = `POOL_${uniq().replace(/-/g, "_").toUpperCase()}`;
      const project = await makeProject(get());
      await get().secrets.put({
        projectId: null,
        key,
        kind: "infra",
        ciphertext: "P1",
        length: 2,
        createdBy: null,
      });
      await get().secrets.put({
        projectId: null,
        key,
        kind: "infra",
        ciphertext: "P2",
        length: 2,
        createdBy: null,
      });
      await get().secrets.put({
        projectId: project.id,
        key,
        kind: "user",
        ciphertext: "X1",
        length: 2,
        createdBy: null,
      });
      expect((await get().secrets.listMeta(null)).filter((m) => m.key === key)).toHaveLength(1);
      expect(await get().secrets.getCiphertext(null, key)).toBe("P2");
      expect(await get().secrets.getCiphertext(project.id, key)).toBe("X1");
      await get().secrets.remove(null, key);
      expect(await get().secrets.getCiphertext(project.id, key)).toBe("X1");
    });

    it("putIfAbsent stores once and never replaces, even under concurrent writers", async () => {
      const project = await makeProject(get());
      const base = { projectId: project.id, key: "SESSION_SECRET", kind: "infra" as const, createdBy: null };
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          get().secrets.putIfAbsent({ ...base, ciphertext: `C${i}`, length: 2 }),
        ),
      );
      expect(results.filter((r) => r.isCreated)).toHaveLength(1);
      expect(new Set(results.map((r) => r.meta.id)).size).toBe(1);
      const winner = results.findIndex((r) => r.isCreated);
      expect(await get().secrets.getCiphertext(project.id, "SESSION_SECRET")).toBe(`C${winner}`);
      const again = await get().secrets.putIfAbsent({ ...base, ciphertext: "LATE", length: 4 });
      expect(again).toMatchObject({ isCreated: false, meta: { id: results[0]?.meta.id, length: 2 } });
      expect(await get().secrets.getCiphertext(project.id, "SESSION_SECRET")).toBe(`C${winner}`);
      expect(JSON.stringify(again)).not.toContain("LATE");
      const poolKey = `POOL_${uniq().replace(/-/g, "_").toUpperCase()}`;
      const pool = { ...base, projectId: null, key: poolKey, length: 1 };
      expect((await get().secrets.putIfAbsent({ ...pool, ciphertext: "P" })).isCreated).toBe(true);
      expect((await get().secrets.putIfAbsent({ ...pool, ciphertext: "Q" })).isCreated).toBe(false);
      expect(await get().secrets.getCiphertext(null, poolKey)).toBe("P");
      await get().secrets.remove(null, poolKey);
      await expectAppError(
        get().secrets.putIfAbsent({ ...base, key: "bad-key", ciphertext: "c", length: 1 }),
        "invalid",
      );
    });

    it("refuses malformed keys and unknown projects", async () => {
      const base = { projectId: null, kind: "user" as const, ciphertext: "c", length: 1, createdBy: null };
      await expectAppError(get().secrets.put({ ...base, key: "lower-case" }), "invalid");
      await expectAppError(get().secrets.put({ ...base, projectId: MISSING_ID, key: "A" }), "not_found");
    });

    it("holds a conversation's ciphertexts by key until they are dropped, and lists them for the redactor", async () => {
      const conversation = await get().conversations.open({
        channel: "web",
        chatId: uniq("held"),
        userId: null,
        language: "en",
      });
      const hold = (key: string, ciphertext: string) =>
        get().secrets.hold({ conversationId: conversation.id, key, ciphertext, length: 40 });
      await hold("TELEGRAM_BOT_TOKEN", "HELD-ONE");
      await hold("WEATHER_API_KEY", "HELD-TWO");
      await hold("TELEGRAM_BOT_TOKEN", "HELD-THREE");
      expect(await get().secrets.listHeld(conversation.id)).toEqual([
        { key: "TELEGRAM_BOT_TOKEN", ciphertext: "HELD-THREE", length: 40 },
        { key: "WEATHER_API_KEY", ciphertext: "HELD-TWO", length: 40 },
      ]);
      const all = await get().secrets.listCiphertexts({});
      expect(all.find((c) => c.ciphertext === "HELD-THREE")?.label).toBe(
        `conversation ${conversation.id} TELEGRAM_BOT_TOKEN`,
      );
      await get().secrets.removeHeld(conversation.id, ["TELEGRAM_BOT_TOKEN"]);
      expect((await get().secrets.listHeld(conversation.id)).map((h) => h.key)).toEqual(["WEATHER_API_KEY"]);
      await expectAppError(
        get().secrets.hold({ conversationId: conversation.id, key: "bad key", ciphertext: "c", length: 1 }),
        "invalid",
      );
      await expectAppError(
        get().secrets.hold({ conversationId: MISSING_ID, key: "A", ciphertext: "c", length: 1 }),
        "not_found",
      );
    });
  });

  describe("agent configs", () => {
    it("are seeded with the shipped defaults for every role, in role order", async () => {
      const list = await get().agentConfigs.list();
      expect(list.map((c) => c.node)).toEqual(AgentRole.options);
      for (const config of list) {
        const { updatedAt: _, ...rest } = config;
        expect(rest).toEqual(AGENT_CONFIG_DEFAULTS[config.node]);
      }
    });

    it("update a node, validate the patch and leave the others alone", async () => {
      const before = await get().agentConfigs.get("developer");
      const updated = await get().agentConfigs.update("developer", {
        model: "claude-opus-4-1",
        maxTurns: 42,
      });
      expect(updated).toMatchObject({
        node: "developer",
        model: "claude-opus-4-1",
        maxTurns: 42,
        prompt: before.prompt,
      });
      expect(await get().agentConfigs.get("developer")).toEqual(updated);
      await expectAppError(get().agentConfigs.update("developer", { maxTurns: 0 }), "invalid");
      await expectAppError(get().agentConfigs.get("janitor" as AgentRole), "invalid");
      expect((await get().agentConfigs.get("tester")).model).toBe(AGENT_CONFIG_DEFAULTS.tester.model);
      await get().agentConfigs.update("developer", { model: before.model, maxTurns: before.maxTurns });
    });
  });

  describe("token usage", () => {
    it("records invocations and lists them by run and project", async () => {
      const project = await makeProject(get());
      const run = await get().runs.create({ projectId: project.id, kind: "engineering" });
      const base = {
        workerId: null,
        projectId: project.id,
        runId: run.id,
        backend: "claude-code" as const,
        model: "claude-sonnet-4-5",
        inputTokens: 1000,
        outputTokens: 200,
        cacheReadTokens: 50,
        cacheWriteTokens: 10,
        costUsd: 0.0123,
        costSource: "provider" as const,
      };
      const first = await get().tokenUsage.record(base);
      expect(first).toMatchObject(base);
      const second = await get().tokenUsage.record({ ...base, runId: null, costSource: "estimated" });
      const byProject = await get().tokenUsage.list({ projectId: project.id, limit: 10, offset: 0 });
      expect(byProject.items.map((u) => u.id)).toEqual([second.id, first.id]);
      const byRun = await get().tokenUsage.list({ runId: run.id, limit: 10, offset: 0 });
      expect(byRun.items.map((u) => u.id)).toEqual([first.id]);
      const paged = await get().tokenUsage.list({ projectId: project.id, limit: 1, offset: 1 });
      expect(paged).toMatchObject({ total: 2, limit: 1, offset: 1 });
      expect(paged.items.map((u) => u.id)).toEqual([first.id]);
      await expectAppError(get().tokenUsage.record({ ...base, inputTokens: -5 }), "invalid");
    });

    it("sums a worker's invocations per backend and model, estimates apart", async () => {
      const project = await makeProject(get());
      const worker = await get().workers.create({
        role: "developer",
        backend: "claude-code",
        runtime: "process",
        projectId: project.id,
      });
      const row = {
        workerId: worker.id,
        projectId: project.id,
        runId: null,
        backend: "claude-code" as const,
        model: "claude-sonnet-4-5",
        inputTokens: 100,
        outputTokens: 20,
        cacheReadTokens: 5,
        cacheWriteTokens: 1,
        costUsd: 0.25,
        costSource: "provider" as const,
      };
      await get().tokenUsage.record(row);
      await get().tokenUsage.record({ ...row, costUsd: 0.5, costSource: "estimated" });
      await get().tokenUsage.record({ ...row, workerId: null });
      expect(await get().tokenUsage.summarize({ workerId: worker.id })).toEqual([
        {
          workerId: worker.id,
          backend: "claude-code",
          model: "claude-sonnet-4-5",
          calls: 2,
          inputTokens: 200,
          outputTokens: 40,
          cacheReadTokens: 10,
          cacheWriteTokens: 2,
          costUsd: 0.75,
          estimatedCostUsd: 0.5,
        },
      ]);
    });
  });

  describe("web sessions", () => {
    it("finds a live session by its secret's hash, ends it on revoke and at expiry, and cleans up", async () => {
      const token = await get().apiTokens.create({
        name: "web",
        kind: "admin",
        tokenHash: uniq("web-token"),
        projectId: null,
        role: null,
        groups: [],
      });
      const secretHash = uniq("session");
      const session = await get().webSessions.create({
        secretHash,
        tokenId: token.id,
        csrfToken: "csrf-1",
        ttlMs: 3_600_000,
      });
      expect(session).toMatchObject({ tokenId: token.id, revokedAt: null });
      expect(JSON.stringify(session)).not.toContain(secretHash);
      const hours = (Date.parse(session.expiresAt) - Date.parse(session.createdAt)) / 3_600_000;
      expect(hours).toBeCloseTo(1, 3);
      expect(await get().webSessions.findLive(secretHash)).toEqual({ session, csrfToken: "csrf-1" });
      expect(await get().webSessions.findLive(uniq("other"))).toBeNull();

      await get().webSessions.revoke(session.id);
      await get().webSessions.revoke(session.id);
      expect(await get().webSessions.findLive(secretHash)).toBeNull();
      await expectAppError(get().webSessions.revoke(MISSING_ID), "not_found");

      // One that has already ended by the database's clock is never live.
      const ended = uniq("ended");
      await get().webSessions.create({ secretHash: ended, tokenId: token.id, csrfToken: "c", ttlMs: 1 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await get().webSessions.findLive(ended)).toBeNull();
      expect(await get().webSessions.deleteEnded(0)).toBeGreaterThanOrEqual(2);
      // A live one stays; a revoked token takes its sessions with it.
      const live = uniq("live");
      await get().webSessions.create({
        secretHash: live,
        tokenId: token.id,
        csrfToken: "c",
        ttlMs: 3_600_000,
      });
      await get().webSessions.deleteEnded(0);
      expect(await get().webSessions.findLive(live)).not.toBeNull();
      await expectAppError(
        get().webSessions.create({ secretHash: uniq("x"), tokenId: MISSING_ID, csrfToken: "c", ttlMs: 1000 }),
        "not_found",
      );
    });
  });

  describe("api tokens", () => {
    it("finds live tokens by hash, revokes them and counts admins", async () => {
      const admins = await get().apiTokens.countActiveAdmins();
      const hash = uniq("hash");
      const admin = await get().apiTokens.create({
        name: "admin",
        kind: "admin",
        tokenHash: hash,
        projectId: null,
        role: null,
        groups: [],
      });
      expect(admin).toMatchObject({ kind: "admin", revokedAt: null, lastUsedAt: null });
      expect(JSON.stringify(admin)).not.toContain(hash);
      expect(await get().apiTokens.countActiveAdmins()).toBe(admins + 1);
      expect(await get().apiTokens.findActiveByHash(hash)).toEqual(admin);
      expect(await get().apiTokens.findActiveByHash(uniq("nope"))).toBeNull();
      expect(await get().apiTokens.findActiveById(admin.id)).toEqual(admin);
      expect(await get().apiTokens.findActiveById(MISSING_ID)).toBeNull();
      await get().apiTokens.markUsed(admin.id);
      expect((await get().apiTokens.findActiveByHash(hash))?.lastUsedAt).not.toBeNull();
      const revoked = await get().apiTokens.revoke(admin.id);
      expect(revoked.revokedAt).not.toBeNull();
      expect(await get().apiTokens.findActiveByHash(hash)).toBeNull();
      expect(await get().apiTokens.countActiveAdmins()).toBe(admins);
      expect(await get().apiTokens.findActiveById(admin.id)).toBeNull();
      expect((await get().apiTokens.revoke(admin.id)).revokedAt).toBe(revoked.revokedAt);
      const error = await expectAppError(
        get().apiTokens.create({
          name: "again",
          kind: "admin",
          tokenHash: hash,
          projectId: null,
          role: null,
          groups: [],
        }),
        "conflict",
        "already_exists",
      );
      expect(error.details[0]?.path).toBe("tokenHash");
      await expectAppError(get().apiTokens.revoke(MISSING_ID), "not_found");
      await expectAppError(get().apiTokens.markUsed(MISSING_ID), "not_found");
    });

    it("scopes worker tokens to a project, a role and tool groups", async () => {
      const project = await makeProject(get());
      const worker = await get().apiTokens.create({
        name: "developer worker",
        kind: "worker",
        tokenHash: uniq("whash"),
        projectId: project.id,
        role: "developer",
        groups: ["engineering", "runs"],
      });
      expect(worker).toMatchObject({
        projectId: project.id,
        role: "developer",
        groups: ["engineering", "runs"],
      });
      const listed = await get().apiTokens.list();
      expect(listed[0]?.id).toBe(worker.id);
      expect(listed.some((t) => t.id === worker.id)).toBe(true);
    });
  });
}
