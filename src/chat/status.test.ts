/**
 * `/status` as text: what `project.status` reports (parsed by its contract) put into the person's
 * language, including the health monitor's uptime over 24 h and an open incident.
 */
import { describe, expect, it } from "vitest";
import { type Principal, ProjectStatusList } from "../contracts/index.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import type { ToolRegistry, ToolServices } from "../tools/index.js";
import { createTranslator } from "./i18n/index.js";
import { statusText } from "./status.js";

const PROJECT = "01a24200-0000-7000-8000-000000000001";
const DEPLOYMENT = "01a24200-0000-7000-8000-000000000002";
const RUN = "01a24200-0000-7000-8000-000000000003";
const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
const principal: Principal = {
  kind: "user",
  tokenId: "01a24200-0000-7000-8000-000000000008",
  userId: "01a24200-0000-7000-8000-000000000009",
};

function report(over: Record<string, unknown>) {
  return ProjectStatusList.parse({
    items: [
      {
        id: PROJECT,
        slug: "weather",
        name: "Weather",
        status: "live",
        health: {
          state: "live",
          checkedAt: "2026-12-04T10:00:00.000Z",
          basis: "health_monitor",
          reason: null,
          deploymentId: DEPLOYMENT,
          url: "http://127.0.0.1:4100",
        },
        lastDeploy: {
          runId: RUN,
          action: "deploy",
          status: "succeeded",
          finishedAt: "2026-12-04T09:00:00.000Z",
          url: "http://127.0.0.1:4100",
          botUsername: null,
          commit: "0123456789ab",
        },
        liveSince: "2026-12-04T09:00:00.000Z",
        uptimeSeconds: 3600,
        activeRun: null,
        recentFailures: [],
        uptime24h: { ratio: 0.9956, windowSeconds: 86_400, observedSeconds: 3600, downSeconds: 16 },
        openIncidents: [],
        ...over,
      },
    ],
    total: 1,
    asOf: "2026-12-04T10:00:00.000Z",
  });
}

function statusOf(list: ProjectStatusList, language: "en" | "ru" = "en"): Promise<string> {
  const tools = { invoke: async () => list } as unknown as ToolRegistry;
  return statusText(
    { tools, services: { logger } as unknown as ToolServices, t: createTranslator() },
    principal,
    language,
  );
}

describe("/status", () => {
  it("gives a live project's uptime over the last 24 hours beside its link", async () => {
    const text = await statusOf(report({}));
    expect(text).toBe(
      "How your projects are doing:\n• Weather: live, live since 2026-12-04 09:00, up 99.5% of the last 24 h, http://127.0.0.1:4100",
    );
  });

  it("says since when a project is down and why, from its open incident", async () => {
    const text = await statusOf(
      report({
        status: "live",
        health: {
          state: "down",
          checkedAt: "2026-12-04T10:00:00.000Z",
          basis: "health_monitor",
          reason: "status 500",
          deploymentId: DEPLOYMENT,
          url: "http://127.0.0.1:4100",
        },
        liveSince: null,
        uptimeSeconds: null,
        uptime24h: { ratio: 0.5, windowSeconds: 86_400, observedSeconds: 600, downSeconds: 300 },
        openIncidents: [
          {
            id: "01a24200-0000-7000-8000-000000000004",
            projectId: PROJECT,
            deploymentId: DEPLOYMENT,
            status: "open",
            reason: "GET /health answered status 500",
            restarts: 3,
            repairRunId: null,
            repairStartedAt: null,
            openedAt: "2026-12-04T09:55:00.000Z",
            closedAt: null,
          },
        ],
      }),
      "ru",
    );
    expect(text).toContain("доступен 50.0% за последние 24 ч");
    expect(text).toContain("не работает с 2026-12-04 09:55: GET /health answered status 500");
    expect(text).not.toContain("http://");
  });

  it("leaves uptime out while the monitor has not watched the project", async () => {
    const text = await statusOf(
      report({ uptime24h: { ratio: null, windowSeconds: 86_400, observedSeconds: 0, downSeconds: 0 } }),
    );
    expect(text).not.toContain("24 h");
  });
});
