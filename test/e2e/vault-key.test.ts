/**
 * The vault key of an embedded orchestrator, through its real start and the real CLI: a key other
 * than the one its secrets were sealed with (a replaced key file, an `ORCHESTRATOR_SECRET_KEY`)
 * refuses the start and names where the key came from; `orchestrator secret rotate-key`, stopped
 * half-way and run again, re-seals everything under a new key file; the key is never an argument.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Orchestrator, startOrchestrator } from "../../src/app/index.js";
import { loadConfig } from "../../src/config/index.js";
import { AppError, type Page, type SecretAuditEntry } from "../../src/contracts/index.js";
import { rotateKeyFile, Vault } from "../../src/secrets/index.js";
import { openPgliteStore } from "../../src/store/index.js";
import { runCli } from "../support/cli.js";
import { freePort } from "../support/ports.js";

const VALUE = `sk-live-${randomBytes(8).toString("hex")}`;
let dir = "";
let dataDir = "";
let keyFile = "";
let projectId = "";

async function start(
  extra: Record<string, string> = {},
): Promise<{ orchestrator: Orchestrator; token: string }> {
  const config = loadConfig(
    {
      ORCHESTRATOR_DATA_DIR: dataDir,
      ORCHESTRATOR_PORT: String(await freePort()),
      LOG_LEVEL: "silent",
      ...extra,
    },
    "embedded",
  );
  const announced: string[] = [];
  const orchestrator = await startOrchestrator(config, {
    roles: ["api"],
    announce: (line) => announced.push(line),
  });
  const token =
    /orc_[A-Za-z0-9_-]{43}/.exec(announced.join("\n"))?.[0] ??
    (await readFile(join(dataDir, "admin.token"), "utf8")).trim();
  return { orchestrator, token };
}

async function refusal(extra: Record<string, string> = {}): Promise<AppError> {
  const error = await start(extra).then(
    async ({ orchestrator }) => {
      await orchestrator.stop();
      return null;
    },
    (e: unknown) => e,
  );
  expect(error, "the start should have been refused").toBeInstanceOf(AppError);
  return error as AppError;
}

async function tool<T>(url: string, token: string, name: string, input: unknown): Promise<T> {
  const res = await fetch(`${url}/api/tools/${name}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as { data: T };
  if (res.status !== 200) throw new Error(`${name}: ${JSON.stringify(body)}`);
  return body.data;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vault-key-e2e-"));
  dataDir = join(dir, "data");
  keyFile = join(dataDir, "secret.key");
  const { orchestrator, token } = await start();
  try {
    const url = orchestrator.url ?? "";
    projectId = (await tool<{ id: string }>(url, token, "project.create", { name: "Sealed things" })).id;
    await tool(url, token, "secret.set", { projectId, key: "API_KEY", value: VALUE });
    await tool(url, token, "secret.set", { projectId, key: "OTHER_KEY", value: `${VALUE}-2` });
    await orchestrator.store.servers.create({ handle: "box", host: "10.0.0.7" });
  } finally {
    await orchestrator.stop();
  }
}, 120_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the vault key at start", () => {
  it("refuses a replaced key file, naming its path, and a different ORCHESTRATOR_SECRET_KEY, naming it", {
    timeout: 120_000,
  }, async () => {
    const original = await readFile(keyFile, "utf8");
    const other = Vault.generateKeyText();
    await writeFile(keyFile, `${other}\n`, { mode: 0o600 });
    const byFile = await refusal();
    expect(byFile.code).toBe("vault_key_mismatch");
    expect(byFile.message).toContain(`the key file ${keyFile}`);
    expect(byFile.message).toContain("differs from the key the stored secrets were sealed with");
    expect(byFile.message).not.toContain(other);
    await writeFile(keyFile, original, { mode: 0o600 });

    const bySetting = await refusal({ ORCHESTRATOR_SECRET_KEY: other });
    expect(bySetting.code).toBe("vault_key_mismatch");
    expect(bySetting.message).toContain("ORCHESTRATOR_SECRET_KEY");
    expect(bySetting.message).toContain(Vault.fromBase64(other).keyId);
    expect(bySetting.message).not.toContain(other);
    // A lost key file is said to be missing, not replaced by a fresh key.
    await rm(keyFile);
    const lost = await refusal();
    expect(lost.code).toBe("vault_key_missing");
    expect(lost.message).toContain(`the key file ${keyFile} is missing`);
    await expect(stat(keyFile)).rejects.toMatchObject({ code: "ENOENT" });
    await writeFile(keyFile, original, { mode: 0o600 });
    // With its own key it starts again.
    const { orchestrator } = await start();
    await orchestrator.stop();
  });
});

describe("orchestrator secret rotate-key (embedded)", () => {
  it("never takes the key as an argument", async () => {
    const env = { PATH: process.env.PATH, ORCHESTRATOR_DATA_DIR: dataDir };
    const positional = await runCli(["secret", "rotate-key", Vault.generateKeyText()], env);
    expect(positional.code).toBe(1);
    expect(positional.json.error?.code).toBe("invalid_arguments");
    const flag = await runCli(["secret", "rotate-key", "--new-key", Vault.generateKeyText()], env);
    expect(flag.code).toBe(1);
    expect(flag.json.error?.message).toMatch(/unknown option '--new-key'/);
    const help = await runCli(["secret", "rotate-key", "--help"], env);
    const text = help.stdout.replace(/\s+/g, " ");
    expect(text).toMatch(/the new one is read from stdin/);
    expect(text).toMatch(/Stop every orchestrator process first/);
    // Help is its only option.
    expect(help.stdout.split("Options:")[1]?.trim()).toBe("-h, --help  display help for command");
  });

  it("continues a rotation stopped half-way; the new key opens everything, the old key nothing", {
    timeout: 120_000,
  }, async () => {
    const old = Vault.fromBase64(await readFile(keyFile, "utf8"));
    // A first run stopped after one row, as a crash would stop it.
    const store = await openPgliteStore(dataDir);
    try {
      await expect(
        rotateKeyFile(store, keyFile, {
          onResealed: () => {
            throw new Error("stopped");
          },
        }),
      ).rejects.toThrow("stopped");
    } finally {
      await store.close();
    }
    expect((await stat(`${keyFile}.next`)).mode & 0o777).toBe(0o600);
    const halfway = await refusal();
    expect(halfway.code).toBe("vault_rotation_under_way");
    expect(halfway.message).toContain("orchestrator secret rotate-key");

    const rotated = await runCli(["secret", "rotate-key"], {
      PATH: process.env.PATH,
      ORCHESTRATOR_DATA_DIR: dataDir,
    });
    expect(rotated.code, rotated.stdout + rotated.stderr).toBe(0);
    const report = rotated.json.data as {
      fromKeyId: string;
      toKeyId: string;
      tables: Record<string, { resealed: number; alreadyNew: number; unreadable: number }>;
    };
    expect(report.fromKeyId).toBe(old.keyId);
    expect(report.tables.secrets).toEqual({ resealed: 1, alreadyNew: 1, unreadable: 0 });
    expect(Object.keys(report.tables).sort()).toEqual([
      "bot_pool",
      "conversation_secrets",
      "secrets",
      "servers",
    ]);
    await expect(stat(`${keyFile}.next`)).rejects.toMatchObject({ code: "ENOENT" });
    const next = Vault.fromBase64(await readFile(keyFile, "utf8"));
    expect(next.keyId).toBe(report.toKeyId);

    const { orchestrator, token } = await start();
    try {
      for (const [key, value] of [
        ["API_KEY", VALUE],
        ["OTHER_KEY", `${VALUE}-2`],
      ] as const) {
        const sealed = (await orchestrator.store.secrets.getCiphertext(projectId, key)) ?? "";
        expect(next.decrypt(sealed)).toBe(value);
        expect(() => old.decrypt(sealed)).toThrow(/wrong key or tampered/);
      }
      const res = await fetch(`${orchestrator.url}/api/secrets/audit?projectId=${projectId}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const trail = (await res.json()) as Page<SecretAuditEntry>;
      expect(
        trail.items
          .filter((e) => e.action === "rotate")
          .map((e) => e.key)
          .sort(),
      ).toEqual(["API_KEY", "OTHER_KEY"]);
      expect(JSON.stringify(trail)).not.toContain(VALUE);
    } finally {
      await orchestrator.stop();
    }
  });
});
