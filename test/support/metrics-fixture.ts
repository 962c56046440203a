import { buildProbeApi } from "../../src/api/index.js";
import { startMetricsFeeds } from "../../src/app/index.js";
import { issueToken } from "../../src/auth/index.js";
import { InProcessBus } from "../../src/bus/index.js";
import { RunJournal } from "../../src/events/index.js";
import { ModelGateway, upstreamsFrom } from "../../src/llm/index.js";
import {
  createLogger,
  createMetrics,
  SecretRedactor,
  timedModelFetch,
} from "../../src/observability/index.js";
import { createToolRegistry } from "../../src/tools/index.js";
import { startFakeAnthropic } from "../fakes/anthropic/index.js";
import { sampleValue } from "./metrics-text.js";
import { openTestStore } from "./store.js";
import { until } from "./until.js";

const COMMIT = "a".repeat(40);
const ANTHROPIC_KEY = "sk-ant-metrics-fixture-key-7c2d9e4b1a";

/** A scrape of a process whose every metric family has samples, and how to end that process. */
export interface PopulatedScrape {
  /** The text `/metrics` answered. */
  text: string;
  /** Slugs of the deployed projects: one live, one whose failed deploy could not restore it. */
  slugs: { live: string; down: string };
  close(): Promise<void>;
}

/**
 * Puts a process of the `api` role (a store, the in-process bus, the metrics feeds the composition
 * root starts, a model gateway calling a fake Anthropic API) through some of everything: deploy runs
 * whose gate passes and fails, a queued run, a running worker, model calls answered and failed,
 * bus messages pending, waiting and dead-lettered, HTTP requests. Then scrapes its `/metrics`.
 */
export async function populatedScrape(): Promise<PopulatedScrape> {
  const store = await openTestStore();
  const bus = new InProcessBus();
  const fake = await startFakeAnthropic({ apiKey: ANTHROPIC_KEY });
  const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
  const metrics = createMetrics({ roles: ["api"] });
  const feeds = startMetricsFeeds({
    metrics,
    store,
    bus,
    tools: createToolRegistry(),
    logger,
    deployedServicesEveryMs: 0,
  });
  await feeds.ready;
  const api = buildProbeApi({ store, bus, metrics, logger, version: "test" });
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const consumers = [
    // The engine's group busy with one trigger while another waits.
    bus.consume("engine.deploy", { group: "engine", consumer: "e1", concurrency: 1 }, () => held),
    // A worker call that fails on its only allowed delivery.
    bus.consume("workers.rpc", { group: "workers", consumer: "w1", maxDeliveries: 1 }, async () => {
      throw new Error("the node is gone");
    }),
  ];
  const close = async () => {
    release();
    await Promise.all(consumers.map((c) => c.stop()));
    await feeds.stop();
    await api.close();
    await bus.close();
    await fake.close();
    await store.close();
  };
  try {
    const journal = new RunJournal({ store, bus, logger });
    const live = await store.projects.create({ name: "Metrics live" });
    const down = await store.projects.create({ name: "Metrics down" });

    // Each project served a release that passed its gate.
    for (const project of [live, down]) {
      const deployment = await store.deployments.create({
        projectId: project.id,
        commitSha: COMMIT,
        release: "r-1",
      });
      await store.deployments.finish(deployment.id, "in_progress", {});
      await store.deployments.finish(deployment.id, "healthy", { url: "http://127.0.0.1:4100" });
    }
    // The store's clock orders a later deploy after the gate it follows.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const deployRun = async (projectId: string, stages: string[], to: "succeeded" | "failed") => {
      const run = await store.runs.create({
        projectId,
        kind: "deploy",
        input: { projectId, action: "deploy", commit: COMMIT, sourceRunId: null },
      });
      await journal.append({
        runId: run.id,
        type: "run.created",
        data: { kind: "deploy", action: "deploy" },
      });
      await journal.move(run.id, "running");
      for (const stage of stages) await journal.stage(run.id, stage);
      await journal.move(run.id, to, {
        result: { outcome: to, action: "deploy", restoredPrevious: false },
        ...(to === "failed" ? { error: { code: "health_gate_failed", message: "the gate failed" } } : {}),
      });
    };
    await deployRun(live.id, ["allocate", "start", "smoke"], "succeeded");
    await deployRun(down.id, ["allocate", "start", "smoke", "rollback"], "failed");
    await store.runs.create({ projectId: live.id, kind: "engineering" });

    const worker = await store.workers.create({
      role: "developer",
      backend: "claude-code",
      runtime: "process",
      projectId: live.id,
    });
    await store.workers.setState(worker.id, "running");

    // Model calls through the gateway: one answered with its usage, one refused as overloaded.
    const upstreams = upstreamsFrom({
      anthropicBaseUrl: fake.url,
      openaiBaseUrl: null,
      credentials: { ANTHROPIC_API_KEY: ANTHROPIC_KEY },
    });
    const gateway = new ModelGateway({
      store,
      journal,
      logger,
      metrics,
      upstreams,
      secrets: new SecretRedactor(),
      timeoutMs: 10_000,
      fetch: timedModelFetch(fetch, { metrics, upstreams }),
    });
    const caller = await gateway.caller({
      kind: "worker",
      tokenId: "fixture",
      projectId: live.id,
      role: "developer",
      workerId: worker.id,
      groups: ["projects"],
    });
    fake.enqueue(
      { text: "hello", usage: { input: 120, output: 30, cacheRead: 10, cacheCreation: 5 } },
      { error: { status: 529, type: "overloaded_error", message: "Overloaded" } },
    );
    for (let call = 0; call < 2; call++) {
      const answer = await gateway.forward(
        caller,
        {
          provider: "anthropic",
          path: "/v1/messages",
          query: "",
          method: "POST",
          headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
          body: JSON.stringify({
            model: "claude-sonnet-4-5",
            max_tokens: 100,
            tools: [{ name: "Bash" }],
            messages: [{ role: "user", content: "hi" }],
          }),
        },
        new AbortController().signal,
      );
      // Reading the answer to its end is what records its tokens.
      for await (const _chunk of answer.body ?? []) void _chunk;
    }

    for (let n = 0; n < 2; n++) {
      await bus.publish("engine.deploy", { type: "deploy.run", payload: { runId: `r${n}` } });
    }
    await bus.publish("workers.rpc", { type: "workers.call", payload: {} });

    const { token } = await issueToken(store, { name: "metrics-scraper", kind: "admin" });
    await api.inject({ method: "GET", url: "/health" });
    const scrape = async () =>
      (await api.inject({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${token}` } }))
        .body;
    // The run events and the bus are followed asynchronously: scrape once both have been seen.
    const text = await until("every family has samples", 10_000, async () => {
      const body = await scrape();
      const isSeen =
        sampleValue(body, "orchestrator_runs_finished_total", { kind: "deploy", status: "failed" }) === 1 &&
        sampleValue(body, "orchestrator_bus_dead_letter_messages", { stream: "workers.rpc" }) === 1 &&
        sampleValue(body, "orchestrator_bus_pending_messages", {
          stream: "engine.deploy",
          group: "engine",
        }) === 1;
      return isSeen ? body : null;
    });
    return { text, slugs: { live: live.slug, down: down.slug }, close };
  } catch (error) {
    await close();
    throw error;
  }
}
