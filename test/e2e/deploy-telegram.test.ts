/**
 * A Telegram bot from a brief to live, against a fake Bot API: the deploy stops `blocked` naming
 * the missing bot token (never a value); once the token is stored the bot is deployed with the
 * local driver, polls the fake with that token, and counts as live only after `getMe` answers
 * and it replies to a probe `/start`. A todo bot keeps its list on DATA_DIR across a redeploy.
 *
 * The first bot is the light one (plain JavaScript on the telegram-bot template, no dependencies):
 * the blocked deploy, the stored token and the gate are the orchestrator's. The todo bot is the
 * telegram-bot template itself (grammY, its acceptance harness and its store), built, tested,
 * deployed with its release pruned, probed and redeployed through the whole pipeline: the one place
 * the template goes through the engine and the deploy.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Run } from "../../src/contracts/index.js";
import { type FakeTelegram, startFakeTelegram } from "../fakes/telegram/index.js";
import { lightBotPlaybook, todoBotPlaybook } from "../support/chat-playbook.js";
import { type EngineHarness, startEngineHarness } from "../support/engine-harness.js";
import { leakScan, recordPgliteInstances } from "../support/leak-scan.js";
import { scanHarness } from "../support/leak-scan-harness.js";

const TOKEN = `7312345678:${"A".repeat(21)}bcdefghijklmno`;
const PROBE_CHAT = 900_001;
let fake: FakeTelegram;
let h: EngineHarness;
/** Every API answer of this file is recorded for the leak scan at its end. */
const scan = leakScan();
let databases: PGlite[] = [];

beforeAll(async () => {
  fake = await startFakeTelegram({ token: TOKEN, username: "weather_e2e_bot" });
  // The API's answers only: the engine's own calls (to the Bot API) are not this file's client.
  scan.recordResponses((url) => h !== undefined && url.startsWith(`${h.url}/`));
  const pglite = recordPgliteInstances();
  databases = pglite.instances;
  h = await startEngineHarness({
    deployOnGreen: true,
    telegramApiRoot: fake.url,
    botProbe: {
      // A person's /start, through the fake's own user side (the real Bot API has none).
      async probe(token) {
        const sentBefore = fake.sentMessages(PROBE_CHAT).length;
        fake.pushMessage(PROBE_CHAT, "/start", { token });
        try {
          // A reply sent after this push: an earlier deploy's probe left replies in the same chat.
          await fake.waitForMessage(
            (m) =>
              m.token === token &&
              m.chatId === PROBE_CHAT &&
              fake.sentMessages(PROBE_CHAT).length > sentBefore,
            5_000,
          );
          return { ok: fake.sentMessages(PROBE_CHAT).length > sentBefore, reason: null };
        } catch {
          return { ok: false, reason: "no reply within 5 s" };
        }
      },
    },
  }).finally(pglite.stop);
  // Sandboxes (with their transcripts) and the Tester's checkouts go when a run ends: watched.
  const root = dirname(h.deployRoot);
  scan.watchFolder("workers", join(root, "workers")).watchFolder("engine", join(root, "engine"));
});
afterAll(async () => {
  await h?.close();
  await fake?.close();
});

async function latestDeploy(projectId: string): Promise<Run | null> {
  return (await h.store.runs.list({ projectId, kind: "deploy", limit: 1, offset: 0 })).items[0] ?? null;
}

describe("a Telegram bot deployed with the local driver", () => {
  it("blocks on the missing token by name, then goes live when it is stored", {
    timeout: 400_000,
  }, async () => {
    h.setPlaybook(lightBotPlaybook());
    const p = await h.store.projects.create({ name: "weather bot", slug: "weather-e2e" });
    const eng = await h.waitForEnd((await h.start({ projectId: p.id, brief: "a bot that greets" })).id);
    expect(eng.status, JSON.stringify(eng.error)).toBe("succeeded");
    let deploy: Run | null = null;
    for (let i = 0; i < 600 && !deploy; i++) {
      deploy = await latestDeploy(p.id);
      if (!deploy) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (!deploy) throw new Error("no deploy run was queued");
    const blocked = await h.waitForEnd(deploy.id);
    expect(blocked.status, JSON.stringify(blocked.error)).toBe("blocked");
    expect(blocked.error?.code).toBe("missing_secrets");
    expect((blocked.result as { missing: string[] }).missing).toEqual(["TELEGRAM_BOT_TOKEN"]);
    const events = await h.store.runEvents.list(blocked.id, { limit: 1000 });
    expect(events.find((e) => e.type === "deploy.blocked")?.data.missing).toEqual(["TELEGRAM_BOT_TOKEN"]);
    expect((await h.store.projects.get(p.id)).status).toBe("blocked");

    // Filling the missing secret takes the blocked deploy up again: no new request.
    const meta = await h.tool<{ isFilled: boolean; key: string; resumedRunId: string | null }>("secret.set", {
      projectId: p.id,
      key: "TELEGRAM_BOT_TOKEN",
      value: TOKEN,
    });
    expect(meta).toMatchObject({ key: "TELEGRAM_BOT_TOKEN", isFilled: true });
    expect(JSON.stringify(meta)).not.toContain(TOKEN);
    if (!meta.resumedRunId) throw new Error("filling the secret did not resume the blocked deploy");
    const resumed = await h.store.runs.get(meta.resumedRunId);
    expect(resumed.input).toMatchObject({
      resumes: blocked.id,
      commit: (blocked.input as { commit: string }).commit,
    });

    const live = await h.waitForEnd(meta.resumedRunId);
    expect(live.status, JSON.stringify(live.error)).toBe("succeeded");
    expect((live.result as { botUsername: string }).botUsername).toBe("weather_e2e_bot");
    const succeeded = (await h.store.runEvents.list(live.id, { limit: 1000 })).find(
      (e) => e.type === "deploy.succeeded",
    );
    expect(succeeded?.data.botUsername).toBe("weather_e2e_bot");
    // The fake saw the bot poll with its token and its answer to the probe /start.
    expect(fake.calls.some((c) => c.method === "getUpdates" && c.token === TOKEN)).toBe(true);
    expect(fake.sentMessages(PROBE_CHAT).length).toBeGreaterThan(0);
    const deployment = (await h.store.deployments.list({ projectId: p.id, limit: 1, offset: 0 })).items[0];
    expect(deployment?.healthCheck).toMatchObject({ kind: "telegram", probe: "answered" });
    // The token is a secret: not in any log line, run event, run row or deployment record.
    const everything = [
      ...h.logLines,
      JSON.stringify(await h.store.runEvents.list(live.id, { limit: 1000 })),
      JSON.stringify(await h.store.runEvents.list(blocked.id, { limit: 1000 })),
      JSON.stringify(live),
      JSON.stringify(deployment),
    ].join("\n");
    expect(everything).not.toContain(TOKEN);

    const down = await h.waitForEnd(
      (await h.tool<Run>("project.teardown", { projectId: p.id, data: "keep" })).id,
    );
    expect(down.status).toBe("succeeded");
    expect(await h.driver.isRunning(p.id, null)).toBe(false);
  });

  it("keeps a todo bot's list on DATA_DIR across a redeploy, and deletes it with the project's data", {
    timeout: 400_000,
  }, async () => {
    const CHAT = 900_002;
    h.setPlaybook(todoBotPlaybook());
    const p = await h.store.projects.create({ name: "todo bot", slug: "todo-e2e" });
    await h.tool("secret.set", { projectId: p.id, key: "TELEGRAM_BOT_TOKEN", value: TOKEN });
    const eng = await h.waitForEnd((await h.start({ projectId: p.id, brief: "a todo list bot" })).id);
    expect(eng.status, JSON.stringify(eng.error)).toBe("succeeded");
    const live = async () => {
      let deploy: Run | null = null;
      for (let i = 0; i < 600 && !deploy; i++) {
        deploy = await latestDeploy(p.id);
        if (!deploy) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (!deploy) throw new Error("no deploy run was queued");
      const ended = await h.waitForEnd(deploy.id);
      expect(ended.status, JSON.stringify(ended.error)).toBe("succeeded");
      return ended;
    };
    const first = await live();
    const ask = async (text: string) => {
      const before = fake.sentMessages(CHAT).length;
      fake.pushMessage(CHAT, text, { token: TOKEN });
      await fake.waitForMessage((m) => m.chatId === CHAT && fake.sentMessages(CHAT).length > before, 10_000);
      return fake.sentMessages(CHAT).at(-1)?.text ?? "";
    };
    expect(await ask("/todo buy milk")).toBe("Added: buy milk");

    // A redeploy starts a new process of the release: the list is read back from DATA_DIR.
    const again = await h.tool<Run>("deploy.start", { projectId: p.id });
    const redeployed = await h.waitForEnd(again.id);
    expect(redeployed.status, JSON.stringify(redeployed.error)).toBe("succeeded");
    expect(redeployed.id).not.toBe(first.id);
    expect(await ask("/todos")).toBe("1. buy milk");
    const dataDir = h.driver.dataDir(p.id);
    expect(await readFile(join(dataDir, "notes.json"), "utf8")).toContain("buy milk");

    const down = await h.waitForEnd(
      (await h.tool<Run>("project.teardown", { projectId: p.id, data: "delete" })).id,
    );
    expect(down.status).toBe("succeeded");
    expect(existsSync(dataDir)).toBe(false);
  });

  it("leaks the bot token nowhere: logs, run events, API answers, database, repositories, workers' folders", {
    timeout: 120_000,
  }, async () => {
    scan.secret("bot token", TOKEN);
    await scanHarness(scan, { harness: h, databases });
    await scan.assertClean();
  });
});
