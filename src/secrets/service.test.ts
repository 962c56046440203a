import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { AppError } from "../contracts/index.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { isTelegramBotToken, MAX_SECRET_BYTES, SecretsService, Vault } from "./index.js";

const BOT_TOKEN = `123456789:${"AAbb_-".repeat(5)}Zz9_-`;

let store: Store;
const vault = new Vault(Buffer.alloc(32, 3));

beforeAll(async () => {
  store = await openTestStore();
});
afterAll(async () => {
  await store?.close();
});

function service(redactor = new SecretRedactor()): SecretsService {
  return new SecretsService({ store, vault, redactor });
}

async function project(): Promise<string> {
  return (await store.projects.create({ name: `Secrets ${Math.random().toString(36).slice(2)}` })).id;
}

async function failure(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("isTelegramBotToken", () => {
  it("accepts <digits>:<35 URL-safe characters> and nothing else", () => {
    expect(BOT_TOKEN.split(":")[1]).toHaveLength(35);
    expect(isTelegramBotToken(BOT_TOKEN)).toBe(true);
    expect(isTelegramBotToken(`1:${"a".repeat(35)}`)).toBe(true);
    expect(isTelegramBotToken(`123:${"a".repeat(34)}`)).toBe(false);
    expect(isTelegramBotToken(`123:${"a".repeat(36)}`)).toBe(false);
    expect(isTelegramBotToken(`abc:${"a".repeat(35)}`)).toBe(false);
    expect(isTelegramBotToken(`123:${"a".repeat(34)}!`)).toBe(false);
    expect(isTelegramBotToken(`${BOT_TOKEN}\n`)).toBe(false);
    expect(isTelegramBotToken("123456:fake-token")).toBe(false);
  });
});

describe("SecretsService", () => {
  it("stores encrypted, returns metadata only, decrypts on get and masks the value in logs", async () => {
    const projectId = await project();
    const lines: string[] = [];
    const redactor = new SecretRedactor();
    const logger = createLogger({
      level: "info",
      redactor,
      destination: { write: (l: string) => lines.push(l) },
    });
    const secrets = service(redactor);
    const meta = await secrets.set({
      projectId,
      key: "TELEGRAM_BOT_TOKEN",
      value: BOT_TOKEN,
      kind: "user",
      createdBy: "admin:t1",
    });
    expect(meta).toMatchObject({ projectId, key: "TELEGRAM_BOT_TOKEN", kind: "user", isFilled: true });
    expect(meta.length).toBe(BOT_TOKEN.length);
    expect(JSON.stringify(meta)).not.toContain(BOT_TOKEN);
    const ciphertext = await store.secrets.getCiphertext(projectId, "TELEGRAM_BOT_TOKEN");
    expect(ciphertext).not.toContain(BOT_TOKEN.split(":")[1]);
    logger.info({ env: { TOKEN: BOT_TOKEN } }, `starting with ${BOT_TOKEN}`);
    expect(lines.join("")).not.toContain(BOT_TOKEN);
    expect(lines.join("")).toContain(SecretRedactor.MASK);

    // A fresh service (say, after a restart) reads it back and teaches its own redactor.
    const fresh = new SecretRedactor();
    expect(await service(fresh).get(projectId, "TELEGRAM_BOT_TOKEN")).toBe(BOT_TOKEN);
    expect(fresh.redact(`x ${BOT_TOKEN} y`)).toBe(`x ${SecretRedactor.MASK} y`);
    expect(await secrets.get(projectId, "MISSING")).toBeNull();

    await secrets.set({ projectId, key: "API_KEY", value: "second-value", kind: "user", createdBy: null });
    expect((await secrets.listMeta(projectId)).map((m) => m.key)).toEqual(["API_KEY", "TELEGRAM_BOT_TOKEN"]);
    await secrets.remove(projectId, "API_KEY");
    await secrets.remove(projectId, "API_KEY");
    expect((await secrets.listMeta(projectId)).map((m) => m.key)).toEqual(["TELEGRAM_BOT_TOKEN"]);
    expect(await secrets.get(projectId, "API_KEY")).toBeNull();
  });

  it("validates key and value with the field named and the value never quoted", async () => {
    const projectId = await project();
    const secrets = service();
    const base = { projectId, kind: "user" as const, createdBy: null };
    const empty = await failure(secrets.set({ ...base, key: "A_KEY", value: "" }));
    expect(empty).toMatchObject({ kind: "invalid", code: "invalid_input" });
    expect(empty.details.map((d) => d.path)).toEqual(["value"]);
    const big = "x".repeat(MAX_SECRET_BYTES + 1);
    const tooBig = await failure(secrets.set({ ...base, key: "A_KEY", value: big }));
    expect(tooBig.details.map((d) => d.path)).toEqual(["value"]);
    expect(JSON.stringify(tooBig.details)).not.toContain("xxxxxx");
    // Size is counted in UTF-8 bytes, not characters.
    const wide = "é".repeat(MAX_SECRET_BYTES / 2 + 1);
    expect((await failure(secrets.set({ ...base, key: "A_KEY", value: wide }))).details[0]?.path).toBe(
      "value",
    );
    expect(await secrets.set({ ...base, key: "A_KEY", value: "x".repeat(MAX_SECRET_BYTES) })).toMatchObject({
      length: MAX_SECRET_BYTES,
    });
    const badKey = await failure(secrets.set({ ...base, key: "lower_case", value: "some-value" }));
    expect(badKey.details.map((d) => d.path)).toEqual(["key"]);
    const badProject = await failure(secrets.set({ ...base, projectId: "nope", key: "A_KEY", value: "v" }));
    expect(badProject.details.map((d) => d.path)).toEqual(["projectId"]);

    const notAToken = "123456:this-is-no-bot-token-but-is-secret";
    const token = await failure(secrets.set({ ...base, key: "TELEGRAM_BOT_TOKEN", value: notAToken }));
    expect(token).toMatchObject({ kind: "invalid", code: "invalid_bot_token" });
    expect(token.details.map((d) => d.path)).toEqual(["value"]);
    expect(`${token.message} ${JSON.stringify(token.details)}`).not.toContain(notAToken);
    expect(await secrets.get(projectId, "TELEGRAM_BOT_TOKEN")).toBeNull();
  });

  it("generates an infra secret once and returns the same value ever after, even to racing callers", async () => {
    const projectId = await project();
    const redactor = new SecretRedactor();
    const secrets = service(redactor);
    const other = service();
    const values = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? secrets : other).ensureGenerated(projectId, "DB_PASSWORD"),
      ),
    );
    expect(new Set(values).size).toBe(1);
    const value = values[0] ?? "";
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(redactor.redact(value)).toBe(SecretRedactor.MASK);
    expect(await service().ensureGenerated(projectId, "DB_PASSWORD")).toBe(value);
    expect(await secrets.get(projectId, "DB_PASSWORD")).toBe(value);
    const [meta] = await secrets.listMeta(projectId);
    expect(meta).toMatchObject({ key: "DB_PASSWORD", kind: "infra", createdBy: "orchestrator", length: 43 });

    expect(await secrets.ensureGenerated(projectId, "SHORT_KEY", 16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await secrets.set({ projectId, key: "CHOSEN", value: "set-by-an-admin", kind: "infra", createdBy: null });
    expect(await secrets.ensureGenerated(projectId, "CHOSEN")).toBe("set-by-an-admin");
    const tiny = await failure(secrets.ensureGenerated(projectId, "TINY", 4));
    expect(tiny.details.map((d) => d.path)).toEqual(["bytes"]);
  });
});

describe("SecretsService: teaching the redactor what any process stored", () => {
  const PEM =
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n-----END OPENSSH PRIVATE KEY-----\n";
  const FINGERPRINT = `SHA256:${"a".repeat(43)}`;

  async function server(ciphertext: string): Promise<void> {
    const created = await store.servers.create({
      handle: `redact-${Math.random().toString(36).slice(2)}`,
      host: "h",
    });
    await store.servers.setSshKey(created.id, ciphertext);
  }

  it("learns every project's and the pool's values and the servers' private keys, whoever stored them", async () => {
    const projectId = await project();
    const elsewhere = service(); // another process, with its own redactor
    await elsewhere.set({
      projectId,
      key: "API_KEY",
      value: "project-value-1",
      kind: "user",
      createdBy: null,
    });
    await elsewhere.set({
      projectId: null,
      key: "POOL_TOKEN",
      value: "pool-value-22",
      kind: "user",
      createdBy: null,
    });
    const generated = await elsewhere.ensureGenerated(projectId, "DB_PASSWORD");
    await server(vault.encrypt(JSON.stringify({ v: 1, privateKey: PEM, hostKey: FINGERPRINT })));
    const bareKey = PEM.replace("b3Bl", "QUJD");
    await server(vault.encrypt(bareKey));

    const redactor = new SecretRedactor();
    const outcome = await service(redactor).refreshRedactor();
    expect(outcome.learnt).toBeGreaterThanOrEqual(5);
    const text = ["project-value-1", "pool-value-22", generated, PEM, bareKey].join(" | ");
    expect(redactor.redact(text)).toBe(Array(5).fill(SecretRedactor.MASK).join(" | "));
    // The host key fingerprint beside a private key is public.
    expect(redactor.redact(FINGERPRINT)).toBe(FINGERPRINT);
  });

  it("looks again only at what changed since, and counts what another vault key sealed", async () => {
    const projectId = await project();
    const asked: { changedSince?: string }[] = [];
    const watched = {
      secrets: {
        ...store.secrets,
        listCiphertexts: (opts: { changedSince?: string }) => {
          asked.push(opts);
          return store.secrets.listCiphertexts(opts);
        },
      },
      servers: store.servers,
      botPool: store.botPool,
    };
    const redactor = new SecretRedactor();
    const secrets = new SecretsService({ store: watched, vault, redactor });
    await secrets.refreshRedactor();
    expect(asked[0]).toEqual({});
    expect((await secrets.refreshRedactor()).learnt).toBe(0);
    await service().set({
      projectId,
      key: "LATER",
      value: "stored-later-333",
      kind: "user",
      createdBy: null,
    });
    const foreign = new Vault(Buffer.alloc(32, 7)).encrypt("sealed-elsewhere-4444");
    await store.secrets.put({
      projectId,
      key: "FOREIGN",
      kind: "user",
      ciphertext: foreign,
      length: 21,
      createdBy: null,
    });
    expect(await secrets.refreshRedactor()).toEqual({ learnt: 1, unreadable: 1 });
    expect(redactor.redact("stored-later-333")).toBe(SecretRedactor.MASK);
    const since = asked.at(-1)?.changedSince;
    expect(since).toEqual(expect.any(String));
    expect(Date.parse(since ?? "")).toBeGreaterThan(Date.now() - 10 * 60_000);
  });

  it("refreshes on its own every interval until stopped", async () => {
    const projectId = await project();
    const redactor = new SecretRedactor();
    const errors: unknown[] = [];
    const refresh = service(redactor).refreshRedactorEvery(20, {
      onError: (error) => errors.push(error),
      onUnreadable: () => undefined,
    });
    await service().set({ projectId, key: "TICK", value: "learnt-on-a-tick", kind: "user", createdBy: null });
    const until = Date.now() + 10_000;
    while (redactor.redact("learnt-on-a-tick") !== SecretRedactor.MASK && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(redactor.redact("learnt-on-a-tick")).toBe(SecretRedactor.MASK);
    await refresh.stop();
    await service().set({ projectId, key: "AFTER", value: "never-learnt-55", kind: "user", createdBy: null });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(redactor.redact("never-learnt-55")).toBe("never-learnt-55");
    expect(errors).toEqual([]);
  });
});

describe("SecretsService: what a conversation holds until a project adopts it", () => {
  const conversation = async () =>
    (
      await store.conversations.open({
        channel: "web",
        chatId: `held-${Math.random().toString(36).slice(2)}`,
        userId: null,
        language: "en",
      })
    ).id;

  it("holds pasted values sealed, known to every process's redactor, and hands them to a project", async () => {
    const redactor = new SecretRedactor();
    const secrets = service(redactor);
    const chat = await conversation();
    const token = `987654321:${"QqRr_-".repeat(5)}Ss7_-`; // nobody else's in this store
    const weather = "f3a9c2e7b1d84f60a5c9e2b7d3f1a8c4";
    await secrets.hold(chat, [
      { name: "TELEGRAM_BOT_TOKEN", value: token },
      { name: "WEATHER_API_KEY", value: weather },
    ]);
    expect(await secrets.heldKeys(chat)).toEqual(["TELEGRAM_BOT_TOKEN", "WEATHER_API_KEY"]);
    expect(redactor.redact(`token ${token}`)).toBe("token [REDACTED]");
    // Sealed at rest: no column of the held rows carries the value.
    const [row] = await store.secrets.listHeld(chat);
    expect(JSON.stringify(row)).not.toContain(token.split(":")[1]);

    // Another process (its own redactor) learns the held values from the store.
    const elsewhere = new SecretRedactor();
    await service(elsewhere).refreshRedactor();
    expect(elsewhere.find(`${token} and ${weather}`).sort()).toEqual([
      `conversation ${chat} TELEGRAM_BOT_TOKEN`,
      `conversation ${chat} WEATHER_API_KEY`,
    ]);

    const projectId = await project();
    expect(await secrets.adopt(chat, projectId, "chat")).toEqual(["TELEGRAM_BOT_TOKEN", "WEATHER_API_KEY"]);
    expect(await secrets.get(projectId, "TELEGRAM_BOT_TOKEN")).toBe(token);
    expect(await secrets.get(projectId, "WEATHER_API_KEY")).toBe(weather);
    expect((await secrets.listMeta(projectId)).map((m) => [m.key, m.kind, m.createdBy])).toEqual([
      ["TELEGRAM_BOT_TOKEN", "user", "chat"],
      ["WEATHER_API_KEY", "user", "chat"],
    ]);
    // Adopted once: nothing is left held, and adopting again adds nothing.
    expect(await secrets.heldKeys(chat)).toEqual([]);
    expect(await secrets.adopt(chat, projectId, "chat")).toEqual([]);
  });

  it("keeps the newest value of a key pasted twice, and refuses a bad name or value plainly", async () => {
    const secrets = service();
    const chat = await conversation();
    await secrets.hold(chat, [{ name: "API_KEY", value: "first-value-0123456789" }]);
    await secrets.hold(chat, [{ name: "API_KEY", value: "second-value-0123456789" }]);
    const projectId = await project();
    await secrets.adopt(chat, projectId, "chat");
    expect(await secrets.get(projectId, "API_KEY")).toBe("second-value-0123456789");

    const badName = await failure(secrets.hold(chat, [{ name: "api key", value: "x".repeat(20) }]));
    expect(badName.details[0]?.message).toContain("upper snake case");
    const empty = await failure(secrets.hold(chat, [{ name: "API_KEY", value: "" }]));
    expect(empty.details[0]?.message).toBe("must not be empty");
    // A held Telegram token of the wrong shape is refused on adoption, named, never quoted.
    await secrets.hold(chat, [{ name: "TELEGRAM_BOT_TOKEN", value: "not-a-token-at-all" }]);
    const refused = await failure(secrets.adopt(chat, await project(), "chat"));
    expect(refused.code).toBe("invalid_bot_token");
    expect(refused.message).not.toContain("not-a-token-at-all");
  });
});
