import { describe, expect, it } from "vitest";
import { Slug } from "../../contracts/index.js";
import { expectAppError, type GetStore, ISO, MISSING_ID, makeProject, telegramId, uniq } from "./helpers.js";

/** Users, projects, servers and port allocations. */
export function catalogCases(get: GetStore): void {
  describe("users", () => {
    it("creates with defaults, gets, finds by telegram id and updates", async () => {
      const tg = telegramId();
      const user = await get().users.create({ telegramId: tg, name: " Ann " });
      expect(user).toMatchObject({
        telegramId: tg,
        webLogin: null,
        name: "Ann",
        role: "user",
        isAllowed: true,
      });
      expect(user.createdAt).toMatch(ISO);
      expect(await get().users.get(user.id)).toEqual(user);
      expect(await get().users.findByTelegramId(tg)).toEqual(user);
      expect(await get().users.findByTelegramId(telegramId())).toBeNull();
      const updated = await get().users.update(user.id, { role: "admin", isAllowed: false });
      expect(updated).toMatchObject({ role: "admin", isAllowed: false, name: "Ann" });
      expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(user.updatedAt));
    });

    it("refuses a user with neither telegram id nor web login, and duplicates", async () => {
      await expectAppError(get().users.create({ name: "Nobody" }), "invalid", "invalid_input");
      const login = uniq("login");
      await get().users.create({ webLogin: login, name: "Web" });
      const error = await expectAppError(
        get().users.create({ webLogin: login, name: "Again" }),
        "conflict",
        "already_exists",
      );
      expect(error.details[0]?.path).toBe("webLogin");
    });

    it("answers not_found for unknown and malformed ids", async () => {
      await expectAppError(get().users.get(MISSING_ID), "not_found", "not_found");
      await expectAppError(get().users.get("not-a-uuid"), "not_found");
      await expectAppError(get().users.update(MISSING_ID, { name: "x" }), "not_found");
    });

    it("pages newest first with a total", async () => {
      const before = await get().users.list({ limit: 1, offset: 0 });
      const made = [];
      for (let i = 0; i < 3; i++)
        made.push(await get().users.create({ webLogin: uniq("page"), name: `P${i}` }));
      const page = await get().users.list({ limit: 2, offset: 0 });
      expect(page.total).toBe(before.total + 3);
      expect(page).toMatchObject({ limit: 2, offset: 0 });
      expect(page.items.map((u) => u.id)).toEqual([made[2]?.id, made[1]?.id]);
      const next = await get().users.list({ limit: 2, offset: 2 });
      expect(next.items[0]?.id).toBe(made[0]?.id);
    });
  });

  describe("projects", () => {
    it("derives a kebab slug from the name and suffixes it on a clash", async () => {
      const name = `My Weather Bot ${uniq()}!`;
      const first = await get().projects.create({ name });
      expect(first.slug).toBe(
        name
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, "-")
          .replace(/-$/, ""),
      );
      expect(first).toMatchObject({ status: "draft", description: "", ownerId: null, repositoryUrl: null });
      const second = await get().projects.create({ name });
      expect(second.slug).not.toBe(first.slug);
      expect(second.slug.startsWith(first.slug)).toBe(true);
      const long = await get().projects.create({ name: `${"very long name ".repeat(10)}${uniq()}` });
      expect(long.slug.length).toBeLessThanOrEqual(63);
      const odd = await get().projects.create({ name: "Погода" });
      expect(Slug.safeParse(odd.slug).success).toBe(true);
    });

    it("refuses an explicit slug that is taken, naming the field", async () => {
      const slug = uniq("slug");
      const project = await get().projects.create({ name: "A", slug });
      const error = await expectAppError(
        get().projects.create({ name: "B", slug }),
        "conflict",
        "already_exists",
      );
      expect(error.details[0]?.path).toBe("slug");
      expect(await get().projects.findBySlug(slug)).toEqual(project);
      expect(await get().projects.findBySlug(uniq("none"))).toBeNull();
      await expectAppError(get().projects.create({ name: "C", slug: "Bad Slug" }), "invalid");
    });

    it("lists by owner with pagination and updates fields", async () => {
      const owner = await get().users.create({ webLogin: uniq("owner"), name: "Owner" });
      const made = [];
      for (let i = 0; i < 5; i++)
        made.push(await get().projects.create({ name: `Owned ${i}`, ownerId: owner.id }));
      const pages = [0, 2, 4].map((offset) => get().projects.list({ ownerId: owner.id, limit: 2, offset }));
      const [a, b, c] = await Promise.all(pages);
      expect(a?.total).toBe(5);
      const ids = [...(a?.items ?? []), ...(b?.items ?? []), ...(c?.items ?? [])].map((p) => p.id);
      expect(ids).toEqual(made.map((p) => p.id).reverse());
      const updated = await get().projects.update(made[0]?.id ?? "", {
        description: "weather",
        template: "telegram-bot",
        templateVersion: "1.0.0",
        repositoryUrl: "http://git.local/x.git",
      });
      expect(updated).toMatchObject({ description: "weather", template: "telegram-bot", ownerId: owner.id });
      await expectAppError(get().projects.update(MISSING_ID, { name: "x" }), "not_found");
      await expectAppError(get().projects.create({ name: "Orphan", ownerId: MISSING_ID }), "not_found");
    });

    it("searches name and slug in any case, filters by status and owner, and takes % and _ literally", async () => {
      const tag = uniq("srch").replace(/[^a-z0-9]/g, "");
      const owner = await get().users.create({ webLogin: uniq("searcher"), name: "Searcher" });
      const weather = await get().projects.create({ name: `Weather ${tag} Bot`, ownerId: owner.id });
      const byslug = await get().projects.create({ name: "Other", slug: `${tag}-slugged` });
      const odd = await get().projects.create({ name: `${tag} 100%_done` });
      await get().projects.setStatus(byslug.id, "building");
      const ids = async (query: Parameters<ReturnType<GetStore>["projects"]["list"]>[0]) =>
        (await get().projects.list(query)).items.map((p) => p.id).sort();
      const page = { limit: 50, offset: 0 };
      expect(await ids({ ...page, q: tag.toUpperCase() })).toEqual([weather.id, byslug.id, odd.id].sort());
      expect(await ids({ ...page, q: `weather ${tag}` })).toEqual([weather.id]);
      expect(await ids({ ...page, q: `${tag}-SLUG` })).toEqual([byslug.id]);
      expect(await ids({ ...page, q: tag, status: "building" })).toEqual([byslug.id]);
      expect(await ids({ ...page, q: tag, status: "draft" })).toEqual([weather.id, odd.id].sort());
      expect(await ids({ ...page, q: tag, ownerId: owner.id })).toEqual([weather.id]);
      // Wildcards are plain characters: "%_" matches only the name that has them.
      expect(await ids({ ...page, q: `${tag} 100%_` })).toEqual([odd.id]);
      expect(await ids({ ...page, q: `${tag}_` })).toEqual([]);
      expect((await get().projects.list({ ...page, q: tag, limit: 1 })).total).toBe(3);
    });

    it("moves status through the machine only", async () => {
      const project = await makeProject(get());
      expect((await get().projects.setStatus(project.id, "building")).status).toBe("building");
      await expectAppError(get().projects.setStatus(project.id, "live"), "conflict", "illegal_transition");
      await get().projects.setStatus(project.id, "archived");
      await expectAppError(
        get().projects.setStatus(project.id, "building"),
        "conflict",
        "illegal_transition",
      );
      await expectAppError(get().projects.setStatus(MISSING_ID, "building"), "not_found");
    });
  });

  describe("servers", () => {
    it("creates with defaults, finds by handle and refuses a duplicate handle", async () => {
      const handle = uniq("srv");
      const server = await get().servers.create({ handle, host: "10.0.0.1" });
      expect(server).toMatchObject({
        handle,
        sshPort: 22,
        sshUser: "root",
        hasSshKey: false,
        capacity: null,
        status: "pending",
        lastHealthCheckAt: null,
        lastError: null,
      });
      expect(await get().servers.findByHandle(handle)).toEqual(server);
      expect(await get().servers.get(server.id)).toEqual(server);
      const error = await expectAppError(
        get().servers.create({ handle, host: "h" }),
        "conflict",
        "already_exists",
      );
      expect(error.details[0]?.path).toBe("handle");
      await expectAppError(get().servers.get(MISSING_ID), "not_found");
      const page = await get().servers.list({ limit: 1, offset: 0 });
      expect(page.items[0]?.id).toBe(server.id);
    });

    it("keeps the SSH key ciphertext out of the Server object", async () => {
      const server = await get().servers.create({
        handle: uniq("key"),
        host: "h",
        capacity: { cpuCores: 2, memoryMb: 2048, diskMb: 20_000 },
      });
      expect(await get().servers.getSshKeyCiphertext(server.id)).toBeNull();
      const withKey = await get().servers.setSshKey(server.id, "CIPHERTEXT-XYZ");
      expect(withKey.hasSshKey).toBe(true);
      expect(JSON.stringify(withKey)).not.toContain("CIPHERTEXT-XYZ");
      expect(JSON.stringify(await get().servers.list({ limit: 200, offset: 0 }))).not.toContain(
        "CIPHERTEXT-XYZ",
      );
      expect(await get().servers.getSshKeyCiphertext(server.id)).toBe("CIPHERTEXT-XYZ");
      expect((await get().servers.setSshKey(server.id, null)).hasSshKey).toBe(false);
    });

    it("records and clears the measured capacity", async () => {
      const server = await get().servers.create({ handle: uniq("cap"), host: "h" });
      const capacity = { cpuCores: 4, memoryMb: 8192, diskMb: 100_000 };
      expect((await get().servers.setCapacity(server.id, capacity)).capacity).toEqual(capacity);
      expect((await get().servers.get(server.id)).capacity).toEqual(capacity);
      expect((await get().servers.setCapacity(server.id, null)).capacity).toBeNull();
      expect((await get().servers.get(server.id)).capacity).toBeNull();
      await expectAppError(get().servers.setCapacity(MISSING_ID, capacity), "not_found");
      await expectAppError(
        get().servers.setCapacity(server.id, { ...capacity, cpuCores: -1 }),
        "invalid",
        "invalid_input",
      );
    });

    it("records health check outcomes and refuses illegal moves", async () => {
      const server = await get().servers.create({ handle: uniq("hc"), host: "h" });
      await expectAppError(get().servers.setStatus(server.id, "ready"), "conflict", "illegal_transition");
      await get().servers.setStatus(server.id, "checking");
      const failed = await get().servers.setStatus(server.id, "error", "ssh: connection refused");
      expect(failed).toMatchObject({ status: "error", lastError: "ssh: connection refused" });
      expect(failed.lastHealthCheckAt).toMatch(ISO);
      await get().servers.setStatus(server.id, "checking");
      const ready = await get().servers.setStatus(server.id, "ready");
      expect(ready).toMatchObject({ status: "ready", lastError: null });
    });
  });

  describe("port allocations", () => {
    it("allocates, lists, refuses a taken port and releases", async () => {
      const [server, other] = await Promise.all([
        get().servers.create({ handle: uniq("ports"), host: "h" }),
        get().servers.create({ handle: uniq("ports"), host: "h" }),
      ]);
      const project = await makeProject(get());
      const a = await get().ports.allocate({ serverId: server.id, port: 8080, projectId: project.id });
      expect(a).toMatchObject({ port: 8080, service: "app", projectId: project.id });
      expect(await get().ports.get(a.id)).toEqual(a);
      const error = await expectAppError(
        get().ports.allocate({ serverId: server.id, port: 8080, projectId: project.id, service: "db" }),
        "conflict",
        "already_exists",
      );
      expect(error.details[0]?.path).toBe("port");
      // The same port on another server is free.
      await get().ports.allocate({ serverId: other.id, port: 8080, projectId: project.id });
      await get().ports.allocate({ serverId: server.id, port: 8081, projectId: project.id, service: "db" });
      expect((await get().ports.list({ serverId: server.id, limit: 50, offset: 0 })).total).toBe(2);
      expect((await get().ports.list({ projectId: project.id, limit: 50, offset: 0 })).total).toBe(3);
      await get().ports.release(a.id);
      await expectAppError(get().ports.get(a.id), "not_found");
      await expectAppError(get().ports.release(a.id), "not_found");
      expect(await get().ports.releaseForProject(project.id, other.id)).toBe(1);
      expect((await get().ports.list({ serverId: other.id, limit: 50, offset: 0 })).total).toBe(0);
      expect(await get().ports.releaseForProject(project.id)).toBe(1);
      expect((await get().ports.list({ projectId: project.id, limit: 50, offset: 0 })).total).toBe(0);
      await expectAppError(
        get().ports.allocate({ serverId: MISSING_ID, port: 1, projectId: project.id }),
        "not_found",
      );
    });

    it("gives 20 concurrent allocators (first free port, retry on conflict) distinct ports", async () => {
      const server = await get().servers.create({ handle: uniq("many"), host: "h" });
      const projects = await Promise.all(Array.from({ length: 20 }, () => makeProject(get(), "Port")));
      const grab = async (projectId: string) => {
        for (let attempt = 0; attempt < 100; attempt++) {
          const taken = await get().ports.list({ serverId: server.id, limit: 200, offset: 0 });
          const used = new Set(taken.items.map((p) => p.port));
          let port = 10_000;
          while (used.has(port)) port++;
          try {
            return await get().ports.allocate({ serverId: server.id, port, projectId });
          } catch (error) {
            if ((error as { kind?: string }).kind !== "conflict") throw error;
          }
        }
        throw new Error("no port after 100 attempts");
      };
      const got = await Promise.all(projects.map((p) => grab(p.id)));
      expect(new Set(got.map((a) => a.port)).size).toBe(20);
      expect(new Set(got.map((a) => a.projectId)).size).toBe(20);
      expect((await get().ports.list({ serverId: server.id, limit: 200, offset: 0 })).total).toBe(20);
    });

    it("lets exactly one of many concurrent claims on one port win", async () => {
      const server = await get().servers.create({ handle: uniq("race"), host: "h" });
      const projects = await Promise.all(Array.from({ length: 10 }, () => makeProject(get(), "Race")));
      const results = await Promise.allSettled(
        projects.map((p) => get().ports.allocate({ serverId: server.id, port: 9000, projectId: p.id })),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const r of results) {
        if (r.status === "rejected")
          expect(r.reason).toMatchObject({ kind: "conflict", code: "already_exists" });
      }
    });
  });

  describe("change marks", () => {
    it("moves a topic's mark when its records change, and only that topic's", async () => {
      const store = get();
      const changed = async (work: () => Promise<unknown>) => {
        const before = await store.stats.changeMarks();
        await work();
        const after = await store.stats.changeMarks();
        return Object.keys(after).filter(
          (topic) => after[topic as keyof typeof after] !== before[topic as keyof typeof before],
        );
      };
      const user = await store.users.create({ webLogin: uniq("marks"), name: "Marks" });
      expect(await changed(() => store.users.update(user.id, { role: "admin" }))).toEqual(["users"]);
      let project = await makeProject(store);
      expect(await changed(async () => (project = await makeProject(store)))).toEqual(["projects"]);
      const run = await store.runs.create({ projectId: project.id, kind: "deploy" });
      expect(await changed(() => store.runs.transition(run.id, "running"))).toEqual(["runs"]);
      const deployment = await store.deployments.create({
        projectId: project.id,
        commitSha: "abc1234",
        release: "r1",
      });
      expect(await changed(() => store.deployments.finish(deployment.id, "in_progress", {}))).toEqual([
        "deployments",
      ]);
      expect(await changed(async () => {})).toEqual([]);
    });
  });
}
