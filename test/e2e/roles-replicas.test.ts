/**
 * The chat and scheduler roles replicated, as `orchestrator serve` processes on one PostgreSQL and
 * one Redis: an `api`-only process, two `chat` processes and two `scheduler` processes (Telegram
 * by polling, on the Bot API fake; the PO on the fake Messages API). The web chat of the api-only
 * process is answered by a chat process; the chat process that polls Telegram and the scheduler
 * that runs a cluster-wide job are killed with SIGKILL, and the other of each takes over, every
 * message answered exactly once.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretRedactor } from "../../src/observability/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic/index.js";
import { type FakeTelegram, startFakeTelegram } from "../fakes/telegram/index.js";
import { apiCaller } from "../support/api-call.js";
import { answerEveryMessage, answerTo, textsIn } from "../support/chat-orchestrator.js";
import { distributedEnv, type RunningCli, runCli, START_DEADLINE_MS, serveRoles } from "../support/cli.js";
import { freePort } from "../support/ports.js";
import { startPostgres, type TestPostgres } from "../support/postgres.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { until } from "../support/until.js";

const BOT_TOKEN = "770188:roles-replicas-token-abcdefghijk";
const MODEL_KEY = "sk-ant-roles-replicas-key";
const PERSON = 5_150;
const CLUSTER_JOB = "servers.health-check";

interface Proc {
  name: string;
  url: string;
  proc: RunningCli;
}

interface Health {
  roles: string[];
  jobs: { name: string; runs: number; isLeader: boolean }[];
}

let pg: TestPostgres;
let redis: TestRedis;
let tg: FakeTelegram;
let model: FakeAnthropic;
/** The shared database, read as the processes write it. */
let store: Store;
let dataDir: string;
let env: NodeJS.ProcessEnv;
let api: Proc;
/** The first chat process: it holds the Telegram lease before the second starts. */
let first: Proc;
let second: Proc;
/** The first scheduler: it holds the job's lease before the second starts. */
let firstScheduler: Proc;
let secondScheduler: Proc;
const procs: RunningCli[] = [];

async function serve(name: string, roles: string, port?: number): Promise<Proc> {
  const { url, proc } = await serveRoles(roles, env, port);
  procs.push(proc);
  return { name, url, proc };
}

async function health(p: Proc): Promise<Health> {
  return (await (await fetch(`${p.url}/health`)).json()) as Health;
}

function jobOf(h: Health, name: string) {
  return h.jobs.find((job) => job.name === name);
}

function leadsTelegram(p: Proc): boolean {
  return p.proc.output().includes("this process talks to Telegram");
}

beforeAll(async () => {
  [pg, redis, tg, model] = await Promise.all([
    startPostgres(),
    startRedis(),
    startFakeTelegram({ token: BOT_TOKEN, username: "roles_replicas_bot" }),
    startFakeAnthropic({ apiKey: MODEL_KEY }),
  ]);
  dataDir = mkdtempSync(join(tmpdir(), "roles-replicas-"));
  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  env = distributedEnv(
    { databaseUrl: pg.url, redisUrl: redis.url, apiUrl, dataDir },
    {
      LOG_LEVEL: "info",
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      TELEGRAM_API_ROOT: tg.url,
      TELEGRAM_ADMIN_USER_IDS: String(PERSON),
      ANTHROPIC_API_KEY: MODEL_KEY,
      ANTHROPIC_BASE_URL: model.url,
      // The shortest interval, so the job's lease (a few intervals, at least 5 s) passes on soon.
      SERVER_CHECK_INTERVAL: "1s",
    },
  );
  expect((await runCli(["migrate"], env)).code).toBe(0);
  store = await openStore({ databaseUrl: pg.url, dataDir: null, redactor: new SecretRedactor() });
  api = await serve("api", "api", apiPort);
  [first, firstScheduler] = await Promise.all([serve("chat-1", "chat"), serve("scheduler-1", "scheduler")]);
  await until("the first of each to talk to Telegram and run the job", 30_000, async () => {
    const job = jobOf(await health(firstScheduler), CLUSTER_JOB);
    return leadsTelegram(first) && job?.isLeader && job.runs > 0 ? true : null;
  });
  [second, secondScheduler] = await Promise.all([serve("chat-2", "chat"), serve("scheduler-2", "scheduler")]);
}, 4 * START_DEADLINE_MS);

afterAll(async () => {
  for (const proc of procs) await proc.stop("SIGKILL");
  await store?.close();
  await Promise.all([pg?.stop(), redis?.stop(), tg?.close(), model?.close()]);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("chat and scheduler replicas, apart from the api", () => {
  it("each process reports its roles; cluster-wide jobs are the schedulers' only", async () => {
    const apiHealth = await health(api);
    expect(apiHealth.roles).toEqual(["api"]);
    expect(apiHealth.jobs.map((job) => job.name)).not.toContain(CLUSTER_JOB);
    for (const chat of [first, second]) {
      const h = await health(chat);
      expect(h.roles).toEqual(["chat"]);
      expect(h.jobs.map((job) => job.name)).not.toContain(CLUSTER_JOB);
    }
    for (const scheduler of [firstScheduler, secondScheduler]) {
      const h = await health(scheduler);
      expect(h.roles).toEqual(["scheduler"]);
      expect(h.jobs.map((job) => job.name)).toEqual(
        expect.arrayContaining([CLUSTER_JOB, "web-sessions.cleanup", "gc.dead-letters"]),
      );
      expect(leadsTelegram(scheduler)).toBe(false);
    }
  });

  it("answers the web chat of an api-only process from a chat process, once", {
    timeout: 60_000,
  }, async () => {
    const token = readFileSync(join(dataDir, "admin.token"), "utf8").trim();
    const call = apiCaller(api.url, token).ok;
    answerEveryMessage(model, 1);
    const conversation = await call<{ id: string }>("POST", "/api/chat/conversations", { language: "en" });
    const messages = `/api/chat/conversations/${conversation.id}/messages`;
    await call("POST", messages, { text: "hello from the web", clientId: "web-1" });
    const answers = async () =>
      (await call<{ items: { role: string; text: string }[] }>("GET", messages)).items
        .filter((m) => m.role === "po")
        .map((m) => m.text);
    await until("the PO's answer in the web chat", 45_000, async () =>
      (await answers()).length > 0 ? true : null,
    );
    expect(await answers()).toEqual([answerTo("hello from the web")]);
  });

  it("hands Telegram and the cluster-wide job to the other replica when their holders are killed", {
    timeout: 120_000,
  }, async () => {
    // While the first replica lives, the second only waits.
    expect(leadsTelegram(second)).toBe(false);
    expect(jobOf(await health(secondScheduler), CLUSTER_JOB)).toMatchObject({ isLeader: false, runs: 0 });
    const say = (text: string) => tg.pushMessage(PERSON, text, { token: BOT_TOKEN, firstName: "Rea" });
    const before = ["one", "two", "three"].map((n) => `message ${n}`);
    const after = ["four", "five", "six"].map((n) => `message ${n}`);
    answerEveryMessage(model, before.length + after.length);

    for (const text of before) say(text);
    await tg.waitForMessages(PERSON, before.length, 45_000);
    // Killed once it recorded them sent: between Telegram's answer and that record, a send is
    // repeated after a crash by design (at least once), which is not what this test is about.
    await until("the answers to be recorded sent", 10_000, async () =>
      (await store.conversations.undelivered("telegram", 1)).length === 0 ? true : null,
    );
    await Promise.all([first.proc.stop("SIGKILL"), firstScheduler.proc.stop("SIGKILL")]);
    for (const text of after) say(text);
    // The second replica wins each lease once the dead holder's expires.
    await tg.waitForMessages(PERSON, before.length + after.length, 60_000);
    expect(leadsTelegram(second)).toBe(true);
    // Each message answered once (none twice, none lost), in the conversation's order.
    expect(textsIn(tg, PERSON)).toEqual([...before, ...after].map(answerTo));
    await until("the second scheduler to run the job", 30_000, async () => {
      const job = jobOf(await health(secondScheduler), CLUSTER_JOB);
      return job?.isLeader && job.runs > 0 ? true : null;
    });
  });
});
