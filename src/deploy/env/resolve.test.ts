import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../../test/support/store.js";
import { AppError, TemplateManifest, type TemplateManifestInput } from "../../contracts/index.js";
import { SecretRedactor } from "../../observability/index.js";
import { SecretsService, Vault } from "../../secrets/index.js";
import type { Store } from "../../store/index.js";
import { getTemplate } from "../../templates/index.js";
import { describeEnvironment, resolveEnvironment } from "./index.js";

const TOKEN = `777000:${"abcDEF123_-".repeat(3)}x_`;

let store: Store;
let secrets: SecretsService;
const vault = new Vault(Buffer.alloc(32, 5));

beforeAll(async () => {
  store = await openTestStore();
  secrets = new SecretsService({ store, vault, redactor: new SecretRedactor() });
});
afterAll(async () => {
  await store?.close();
});

async function project(): Promise<string> {
  return (await store.projects.create({ name: `Env ${Math.random().toString(36).slice(2)}` })).id;
}

/** A contract with one variable of every kind (plus optional ones that end up unset). */
const everyKind: TemplateManifestInput = {
  name: "every-kind",
  version: "1.0.0",
  language: "typescript",
  description: "fixture",
  commands: { install: ["true"], test: ["true"], start: ["true"] },
  healthCheck: { kind: "http", path: "/health" },
  resources: { cpus: 0.5, memoryMb: 128, diskMb: 128 },
  env: [
    { name: "API_KEY", kind: "user-secret", required: true, description: "from the person" },
    { name: "SENTRY_DSN", kind: "user-secret", required: false, description: "optional" },
    { name: "DB_PASSWORD", kind: "generated-secret", required: true, description: "generated" },
    { name: "APP_ENV", kind: "computed", computed: "APP_ENV", required: true, description: "env name" },
    { name: "PUBLIC_URL", kind: "computed", computed: "PUBLIC_URL", required: true, description: "url" },
    {
      name: "TELEGRAM_API_ROOT",
      kind: "computed",
      computed: "TELEGRAM_API_ROOT",
      required: false,
      description: "bot api",
    },
    { name: "PORT", kind: "allocated-port", required: true, description: "http port" },
    { name: "METRICS_PORT", kind: "allocated-port", required: false, description: "optional port" },
    { name: "LOG_FORMAT", kind: "literal", value: "json", required: true, description: "literal" },
  ],
};

describe("resolveEnvironment", () => {
  it("builds the web-service template's environment from ports and computed values", async () => {
    const { manifest } = await getTemplate("web-service");
    const result = await resolveEnvironment({
      manifest,
      projectId: await project(),
      secrets,
      computed: { APP_ENV: "production", PUBLIC_URL: "http://127.0.0.1:20001", DATA_DIR: "/data" },
      ports: { PORT: 20_001 },
    });
    expect(result).toEqual({
      ok: true,
      env: {
        PORT: "20001",
        APP_ENV: "production",
        PUBLIC_URL: "http://127.0.0.1:20001",
        DATA_DIR: "/data",
        LOG_LEVEL: "info",
      },
    });
  });

  it("blocks the telegram-bot template on a missing token by name, then resolves once it is stored", async () => {
    const { manifest } = await getTemplate("telegram-bot");
    const projectId = await project();
    const computed = { APP_ENV: "production", TELEGRAM_API_ROOT: "http://127.0.0.1:9/fake", DATA_DIR: "/d" };
    expect(await resolveEnvironment({ manifest, projectId, secrets, computed, ports: {} })).toEqual({
      ok: false,
      missing: ["TELEGRAM_BOT_TOKEN"],
    });
    await secrets.set({ projectId, key: "TELEGRAM_BOT_TOKEN", value: TOKEN, kind: "user", createdBy: null });
    expect(await resolveEnvironment({ manifest, projectId, secrets, computed, ports: {} })).toEqual({
      ok: true,
      env: { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: "http://127.0.0.1:9/fake", DATA_DIR: "/d" },
    });
    // Against the real Telegram the optional API root is simply left out.
    expect(
      await resolveEnvironment({
        manifest,
        projectId,
        secrets,
        computed: { APP_ENV: "production", DATA_DIR: "/d" },
        ports: {},
      }),
    ).toEqual({ ok: true, env: { TELEGRAM_BOT_TOKEN: TOKEN, DATA_DIR: "/d" } });
  });

  it("handles every kind: missing required names only, optional ones left out, generated kept across deploys", async () => {
    const manifest = TemplateManifest.parse(everyKind);
    const projectId = await project();
    const first = await resolveEnvironment({
      manifest,
      projectId,
      secrets,
      computed: { APP_ENV: "staging", PUBLIC_URL: "" },
      ports: { PORT: 20_100 },
    });
    expect(first).toEqual({ ok: false, missing: ["API_KEY", "PUBLIC_URL"] });
    // Generated on the blocked attempt already, so the next one sees the same value.
    const generated = await secrets.get(projectId, "DB_PASSWORD");
    expect(generated).toMatch(/^[A-Za-z0-9_-]{43}$/);

    await secrets.set({ projectId, key: "API_KEY", value: "key-from-person", kind: "user", createdBy: null });
    const deploy = () =>
      resolveEnvironment({
        manifest,
        projectId,
        // A fresh service, as after an orchestrator restart.
        secrets: new SecretsService({ store, vault, redactor: new SecretRedactor() }),
        computed: { APP_ENV: "staging", PUBLIC_URL: "https://svc.example" },
        ports: { PORT: 20_100 },
      });
    const second = await deploy();
    expect(second).toEqual({
      ok: true,
      env: {
        API_KEY: "key-from-person",
        DB_PASSWORD: generated,
        APP_ENV: "staging",
        PUBLIC_URL: "https://svc.example",
        PORT: "20100",
        LOG_FORMAT: "json",
      },
    });
    expect(await deploy()).toEqual(second);
  });

  it("treats a required port the caller did not allocate as the caller's bug, naming it", async () => {
    const manifest = TemplateManifest.parse(everyKind);
    const error = await resolveEnvironment({
      manifest,
      projectId: await project(),
      secrets,
      computed: {},
      ports: { METRICS_PORT: 20_200 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ kind: "internal", code: "port_not_allocated" });
    expect((error as AppError).details[0]?.path).toBe("ports.PORT");
  });
});

describe("describeEnvironment", () => {
  it("gives names, kinds and filled flags, never values", async () => {
    const manifest = TemplateManifest.parse(everyKind);
    const projectId = await project();
    const before = await describeEnvironment(manifest, projectId, secrets);
    expect(before.map((e) => [e.name, e.kind, e.required, e.isFilled])).toEqual([
      ["API_KEY", "user-secret", true, false],
      ["SENTRY_DSN", "user-secret", false, false],
      ["DB_PASSWORD", "generated-secret", true, true],
      ["APP_ENV", "computed", true, true],
      ["PUBLIC_URL", "computed", true, true],
      ["TELEGRAM_API_ROOT", "computed", false, true],
      ["PORT", "allocated-port", true, true],
      ["METRICS_PORT", "allocated-port", false, true],
      ["LOG_FORMAT", "literal", true, true],
    ]);
    expect(before[0]).toEqual({
      name: "API_KEY",
      kind: "user-secret",
      required: true,
      description: "from the person",
      isFilled: false,
    });
    await secrets.set({ projectId, key: "API_KEY", value: "a-person-secret", kind: "user", createdBy: null });
    const after = await describeEnvironment(manifest, projectId, secrets);
    expect(after.find((e) => e.name === "API_KEY")?.isFilled).toBe(true);
    expect(JSON.stringify(after)).not.toContain("a-person-secret");
    // Describing never generates anything.
    expect(await secrets.get(projectId, "DB_PASSWORD")).toBeNull();
  });
});
