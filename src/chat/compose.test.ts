import { describe, expect, it } from "vitest";
import type { RunEvent } from "../contracts/index.js";
import { composeDeployOutcome, composeProgress } from "./compose.js";
import { createTranslator } from "./i18n/index.js";

const t = createTranslator();
const RUN = "00000000-0000-4000-8000-000000000001";
const PROJECT = "00000000-0000-4000-8000-000000000002";
let seq = 0;
function event(type: RunEvent["type"], data: unknown): RunEvent {
  seq += 1;
  return { runId: RUN, type, data, seq, at: new Date().toISOString() } as RunEvent;
}

describe("composeProgress", () => {
  const journey = [
    event("run.created", { kind: "engineering", mode: "build" }),
    event("run.stage_changed", { stage: "architect" }),
    event("run.stage_changed", { stage: "preparer" }),
    event("run.stage_changed", { stage: "developer", iteration: 1 }),
    event("engineering.tested", {
      iteration: 0,
      passed: false,
      counts: { passed: 3, failed: 1, skipped: 0 },
    }),
    event("run.stage_changed", { stage: "developer", iteration: 2 }),
    event("engineering.tested", {
      iteration: 1,
      passed: true,
      counts: { passed: 12, failed: 0, skipped: 0 },
    }),
    event("run.status_changed", { from: "running", to: "succeeded" }),
    event("run.created", { kind: "deploy", action: "deploy" }),
    event("run.stage_changed", { stage: "allocate" }),
    event("run.stage_changed", { stage: "deploy" }),
    event("run.stage_changed", { stage: "smoke" }),
  ];

  it("shows each stage once, in order, with how it went", () => {
    expect(composeProgress(t, "en", "Weather bot", journey)).toBe(
      [
        "🛠 Weather bot: building",
        "✓ Architect",
        "✓ Preparing the repository",
        "✓ Developer, round 1",
        "✗ Tester: 3 passed, 1 failed",
        "✓ Developer, round 2",
        "✓ Tester: 12 passed, 0 failed",
        "✓ Deploy",
        "⏳ Health gate",
      ].join("\n"),
    );
  });

  it("speaks Russian to a Russian conversation", () => {
    const text = composeProgress(t, "ru", "Бот", journey);
    expect(text).toContain("Разработчик, раунд 2");
    expect(text).toContain("Тестировщик: 12 прошло, 0 упало");
    expect(text).not.toMatch(/Developer|Tester/);
  });

  it("marks the stage a run failed in", () => {
    const text = composeProgress(t, "en", "X", [
      event("run.created", { kind: "engineering", mode: "change" }),
      event("run.stage_changed", { stage: "architect" }),
      event("run.status_changed", { from: "running", to: "failed" }),
    ]);
    expect(text).toBe("🛠 X: changing\n✗ Architect");
  });

  it("says queued before any stage", () => {
    expect(
      composeProgress(t, "en", "X", [event("run.created", { kind: "engineering", mode: "build" })]),
    ).toContain("queued");
  });
});

describe("composeDeployOutcome", () => {
  const data = {
    projectId: PROJECT,
    commit: "abc1234",
    url: "http://127.0.0.1:20001",
    botUsername: null,
    missing: [],
    reason: null,
    restoredPrevious: false,
  };

  it("gives the link of a live service and the bot of a live bot", () => {
    const web = composeDeployOutcome(t, "en", "Clock", event("deploy.succeeded", data) as never, "deploy");
    expect(web).toMatchObject({ kind: "live", text: "✅ Clock is live: http://127.0.0.1:20001" });
    expect(web.links).toEqual([{ url: "http://127.0.0.1:20001", label: "http://127.0.0.1:20001" }]);
    const bot = composeDeployOutcome(
      t,
      "en",
      "Weather",
      event("deploy.succeeded", { ...data, url: null, botUsername: "weather_bot" }) as never,
      "deploy",
    );
    expect(bot.text).toBe("✅ Weather is live: @weather_bot");
    expect(bot.links[0]?.url).toBe("https://t.me/weather_bot");
  });

  it("names the missing secrets of a blocked deploy and the reason of a failed one", () => {
    const blocked = composeDeployOutcome(
      t,
      "en",
      "W",
      event("deploy.blocked", { ...data, url: null, missing: ["TELEGRAM_BOT_TOKEN", "API_KEY"] }) as never,
      "deploy",
    );
    expect(blocked).toMatchObject({ kind: "blocked" });
    expect(blocked.text).toContain("TELEGRAM_BOT_TOKEN, API_KEY");
    const failed = composeDeployOutcome(
      t,
      "ru",
      "W",
      event("deploy.failed", {
        ...data,
        url: null,
        reason: "health gate failed",
        restoredPrevious: true,
      }) as never,
      "deploy",
    );
    expect(failed.kind).toBe("failed");
    expect(failed.text).toContain("health gate failed");
    expect(failed.text).toContain("Предыдущая версия");
  });

  it("does not call a torn down project live", () => {
    const gone = composeDeployOutcome(
      t,
      "en",
      "W",
      event("deploy.succeeded", { ...data, url: null }) as never,
      "teardown",
    );
    expect(gone.kind).toBe("notice");
    expect(gone.text).not.toContain("live");
  });
});
