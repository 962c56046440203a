/**
 * The health monitor on the real local driver (US4, US5): a deployed service whose process is
 * killed while another program holds its port (answering 500) is restarted in vain, an incident
 * with the service's output opens, the owner hears of it in the chat the project came from, and an
 * engineering run is started to repair it, only once a day; once the port is free again a restart
 * brings it back, the incident closes and the recovery is announced. The scripted Product Owner
 * then answers "how are my projects?" with health, uptime, last deploy and incidents. The service
 * is the light project's (test/support/light-project.ts).
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatModule } from "../../src/chat/index.js";
import type { ChatMessage, Incident, Principal, Run } from "../../src/contracts/index.js";
import type { LocalDriver } from "../../src/deploy/index.js";
import { healthMonitorJob } from "../../src/engine/index.js";
import { ScriptedProvider } from "../../src/llm/index.js";
import { createLogger, createMetrics, SecretRedactor } from "../../src/observability/index.js";
import { scriptedProductOwner } from "../../src/po/index.js";
import { Scheduler } from "../../src/scheduler/index.js";
import { testChatModule } from "../support/chat-module.js";
import { type EngineHarness, startEngineHarness } from "../support/engine-harness.js";
import { lightPlaybook } from "../support/light-project.js";
import { until } from "../support/until.js";

let h: EngineHarness;
let chat: ChatModule;
let scheduler: Scheduler | null = null;
let squatter: Server | null = null;
const metrics = createMetrics();

beforeAll(async () => {
  h = await startEngineHarness({ deployOnGreen: true });
  chat = testChatModule({ store: h.store, provider: new ScriptedProvider(scriptedProductOwner) });
  await chat.start();
});
afterAll(async () => {
  await scheduler?.stop(5_000);
  await closeSquatter();
  await chat?.stop();
  await h?.close();
});

/** Takes the port as soon as the killed service lets it go, answering every request with 500. */
async function squat(port: number): Promise<void> {
  const end = Date.now() + 5_000;
  for (;;) {
    const server = createServer((_req, res) => {
      res.writeHead(500, { "content-type": "text/plain", connection: "close" });
      res.end("taken");
    });
    const listening = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (listening) {
      squatter = server;
      return;
    }
    if (Date.now() > end) throw new Error(`port ${port} stayed taken`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function closeSquatter(): Promise<void> {
  const server = squatter;
  squatter = null;
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Kills the service's process (the supervisor's restart then finds the port taken) and takes its port. */
async function bringDown(projectId: string, port: number): Promise<void> {
  const running = (h.driver as LocalDriver).running().find((r) => r.projectId === projectId);
  if (!running?.pid) throw new Error("the service is not running");
  process.kill(-running.pid, "SIGKILL");
  await squat(port);
}

describe("the health monitor of live deployments", () => {
  it("restarts, opens an incident, tells the owner, repairs once a day, and announces the recovery", {
    timeout: 240_000,
  }, async () => {
    const user = await h.store.users.create({ name: "Monitored owner", webLogin: "monitored-owner" });
    const principal: Principal = { kind: "user", tokenId: "t", userId: user.id };
    const conversation = await chat.web.create(principal, "en");
    const project = await h.store.projects.create({ name: "Clock", slug: "monitor-e2e", ownerId: user.id });
    // Auto-repair is a project setting an admin turns on through project.update.
    const updated = await h.tool<{ autoRepair: boolean }>("project.update", {
      id: project.id,
      autoRepair: true,
    });
    expect(updated.autoRepair).toBe(true);

    h.setPlaybook(lightPlaybook());
    const engineering = await h.start({ projectId: project.id, brief: "a time service" });
    await h.store.conversations.linkRun(engineering.id, conversation.id);
    expect((await h.waitForEnd(engineering.id)).status).toBe("succeeded");
    const deploy = await until("the deploy run", 60_000, async () => {
      const runs = await h.store.runs.list({ projectId: project.id, kind: "deploy", limit: 5, offset: 0 });
      return runs.items[0] ?? null;
    });
    const deployed = await h.waitForEnd(deploy.id);
    expect(deployed.status, JSON.stringify(deployed.error)).toBe("succeeded");
    const url = (deployed.result as { url: string }).url;
    const port = Number(new URL(url).port);

    // The repair run this test provokes ends at once: the Architect gives up.
    h.setPlaybook({
      ...lightPlaybook(),
      architect: { steps: [{ report: { status: "failed", summary: "cannot tell from here" } }] },
    });
    scheduler = new Scheduler({
      holder: "monitor-e2e",
      leases: h.store.jobLeases,
      logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
    });
    scheduler.add(
      healthMonitorJob({
        devops: h.devopsDeps,
        bus: h.bus,
        policy: {
          intervalMs: 300,
          restarts: 2,
          restartBackoffMs: 200,
          probeTimeoutMs: 3_000,
          repairsPerDay: 1,
        },
        metrics,
      }),
    );
    scheduler.start();
    await until("the first healthy check", 20_000, async () => {
      const last = await h.store.healthTransitions.last(project.id);
      return last?.isUp ? last : null;
    });

    const messages = async (): Promise<ChatMessage[]> =>
      h.store.conversations.listMessages(conversation.id, { limit: 1_000 });
    const openIncident = () =>
      until("an open incident", 30_000, async () => h.store.incidents.openFor(project.id));
    const closedIncident = (id: string) =>
      until("the incident closed", 30_000, async () => {
        const incident = await h.store.incidents.get(id);
        return incident.status === "closed" ? incident : null;
      });
    const notice = (text: RegExp) =>
      until(
        `a chat message ${text}`,
        20_000,
        async () => (await messages()).find((m) => text.test(m.text)) ?? null,
      );

    // First outage: restarts fail (the port answers 500), an incident opens with the output.
    await bringDown(project.id, port);
    const first: Incident = await openIncident();
    expect(first.restarts).toBe(2);
    expect(first.reason).toMatch(/status 500/);
    // The killed process's output, with its supervisor's note of the kill, then the restarts'.
    expect(first.logsExcerpt).toMatch(/exited \(signal SIGKILL\)/);
    expect(first.logsExcerpt).toMatch(/after 2 restart\(s\) by the health monitor/);
    expect(first.deploymentId).toBe((deployed.result as { deploymentId: string }).deploymentId);
    const down = await notice(/Clock is down/);
    expect(down.text).toMatch(/status 500/);
    // An engineering run was started to repair it, shown in the same chat.
    expect(first.repairRunId).not.toBeNull();
    const repair = await h.store.runs.get(first.repairRunId as string);
    expect(repair.kind).toBe("engineering");
    expect((repair.input as { mode: string; text: string }).mode).toBe("change");
    expect((repair.input as { text: string }).text).toMatch(/exited \(signal SIGKILL\)/);
    expect(await h.store.conversations.originOf(repair.id)).toBe(conversation.id);
    expect(down.text).toContain(repair.id);
    const repairEnded: Run = await h.waitForEnd(repair.id, 60_000);
    expect(repairEnded.status).toBe("failed");
    const status = await h.tool<{ items: { health: { state: string }; openIncidents: { id: string }[] }[] }>(
      "project.status",
      { projectId: project.id },
    );
    expect(status.items[0]?.health.state).toBe("down");
    expect(status.items[0]?.openIncidents.map((i) => i.id)).toEqual([first.id]);

    // The port is free again: a restart brings it back, the incident closes, the owner is told.
    await closeSquatter();
    const closed = await closedIncident(first.id);
    expect(closed.closedAt).not.toBeNull();
    await notice(/Clock is back up/);
    expect((await fetch(`${url}/health`)).status).toBe(200);

    // Second outage the same day: an incident and a notice again, but no second repair run.
    await bringDown(project.id, port);
    const second = await openIncident();
    expect(second.id).not.toBe(first.id);
    const notices = await until("the second notice", 20_000, async () => {
      const downs = (await messages()).filter((m) => /Clock is down/.test(m.text));
      return downs.length === 2 ? downs : null;
    });
    expect(notices[1]?.text).not.toMatch(/engineering run/);
    const engineeringRuns = await h.store.runs.list({
      projectId: project.id,
      kind: "engineering",
      limit: 10,
      offset: 0,
    });
    expect(engineeringRuns.total).toBe(2);
    expect((await h.store.incidents.get(second.id)).repairRunId).toBeNull();
    await closeSquatter();
    await closedIncident(second.id);
    await until("the second recovery notice", 20_000, async () => {
      const ups = (await messages()).filter((m) => /Clock is back up/.test(m.text));
      return ups.length === 2 ? ups : null;
    });
    // One message per incident and event, under its key (a replayed event finds it and adds nothing).
    for (const incident of [first, second]) {
      for (const event of ["opened", "closed"]) {
        const key = `incident:${incident.id}:${event}`;
        expect(await h.store.conversations.findByKey(conversation.id, key), key).not.toBeNull();
      }
    }
    const all = await messages();
    expect(all.filter((m) => /Clock is down/.test(m.text))).toHaveLength(2);
    expect(all.filter((m) => /Clock is back up/.test(m.text))).toHaveLength(2);
    const text = await metrics.render();
    expect(text).toMatch(/orchestrator_monitor_incidents_total\{event="opened"\} 2/);
    expect(text).toMatch(/orchestrator_monitor_repair_runs_total 1/);

    // US4: the owner asks; the scripted Product Owner answers from project.status.
    await chat.web.post(principal, conversation.id, "how are my projects?", null);
    const answer = await until(
      "the PO's answer",
      30_000,
      async () => (await messages()).find((m) => m.role === "po" && /uptime 24h/.test(m.text)) ?? null,
    );
    expect(answer.text).toMatch(
      /• Clock: live; health live; uptime 24h \d+\.\d%; last deploy succeeded [\d-]+ [\d:]+; open incidents: none/,
    );
    const ratio = Number(/uptime 24h (\d+\.\d)%/.exec(answer.text)?.[1]);
    expect(ratio).toBeLessThan(100);
    expect(ratio).toBeGreaterThan(0);
  });
});
