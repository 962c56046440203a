import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningCli, runCli, startCli, waitForHealth } from "../support/cli.js";
import { freePort } from "../support/ports.js";
import { startPostgres } from "../support/postgres.js";
import { startRedis } from "../support/redis.js";

// `orchestrator serve` on a real PostgreSQL and Redis: the distributed mode's API role.
describe("server mode (orchestrator serve)", () => {
  let pg: Awaited<ReturnType<typeof startPostgres>>;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let env: NodeJS.ProcessEnv;
  let proc: RunningCli | undefined;

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    const port = await freePort();
    env = {
      PATH: process.env.PATH,
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      ORCHESTRATOR_PORT: String(port),
      ORCHESTRATOR_HOST: "127.0.0.1",
      ORCHESTRATOR_API_URL: `http://127.0.0.1:${port}`,
    };
  });
  afterAll(async () => {
    await proc?.stop("SIGKILL");
    await Promise.all([pg?.stop(), redis?.stop()]);
  });

  it("refuses to start without its URLs, naming each variable", async () => {
    const res = await runCli(["serve", "--roles", "api"], { PATH: process.env.PATH });
    expect(res.code).toBe(1);
    expect(res.json.error?.details.map((d) => d.path).sort()).toEqual(["DATABASE_URL", "REDIS_URL"]);
  });

  it("refuses an unknown role", async () => {
    const res = await runCli(["serve", "--roles", "api,nope"], env);
    expect(res.code).toBe(1);
    expect(res.json.error?.details[0]?.path).toBe("1");
  });

  it("migrates, serves, and issues admin tokens from the CLI", async () => {
    const migrated = await runCli(["migrate"], env);
    expect(migrated.json).toMatchObject({ ok: true, data: { driver: "postgres" } });

    proc = startCli(["serve", "--roles", "api"], env);
    await waitForHealth(`${env.ORCHESTRATOR_API_URL}/health`, 15_000, proc);
    expect(proc.output()).toMatch(/Admin token \(shown once, keep it\): orc_/);

    // A second admin token straight from the database, as an operator would recover access.
    const issued = await runCli(["admin", "token", "create", "--name", "ops"], env);
    expect(issued.code).toBe(0);
    const token = (issued.json.data as { token: string }).token;
    const withToken = { ...env, ORCHESTRATOR_TOKEN: token };

    const created = await runCli(["project", "create", "--name", "distributed demo"], withToken);
    expect(created.code, created.stdout).toBe(0);
    const id = (created.json.data as { id: string }).id;
    const got = await runCli(["project", "get", "--id", id], withToken);
    expect((got.json.data as { slug: string }).slug).toBe("distributed-demo");

    const tokenId = (issued.json.data as { record: { id: string } }).record.id;
    expect((await runCli(["admin", "token", "revoke", "--id", tokenId], env)).code).toBe(0);
    const refused = await runCli(["project", "list"], withToken);
    expect(refused.json.error?.code).toBe("unauthorized");
  });
});
