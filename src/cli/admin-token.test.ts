/**
 * The recovery commands `admin token create|revoke` open the database themselves (no API), and
 * check what the API's `token.*` tools check: the token contract and the last admin token rule.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openStore } from "../store/index.js";
import { main } from "./main.js";

const dataDir = mkdtempSync(join(tmpdir(), "cli-admin-token-"));
const saved = { dataDir: process.env.ORCHESTRATOR_DATA_DIR, databaseUrl: process.env.DATABASE_URL };

beforeAll(() => {
  process.env.ORCHESTRATOR_DATA_DIR = dataDir;
  delete process.env.DATABASE_URL;
});
afterAll(() => {
  if (saved.dataDir === undefined) delete process.env.ORCHESTRATOR_DATA_DIR;
  else process.env.ORCHESTRATOR_DATA_DIR = saved.dataDir;
  if (saved.databaseUrl !== undefined) process.env.DATABASE_URL = saved.databaseUrl;
  rmSync(dataDir, { recursive: true, force: true });
});

interface Printed {
  ok: boolean;
  /** `{ token, record }` from create, the token record from revoke. */
  data?: {
    token?: string;
    record?: { id: string };
    revokedAt?: string | null;
  };
  error?: { code: string; details: { path: string }[] };
}

/** Runs one CLI command in this process and parses the one JSON document it prints. */
async function cli(...args: string[]): Promise<Printed> {
  let out = "";
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await main(["node", "orchestrator", ...args]);
  } finally {
    write.mockRestore();
    process.exitCode = undefined;
  }
  return JSON.parse(out) as Printed;
}

describe("admin token (recovery, straight in the database)", () => {
  // Each command opens the embedded database afresh, as an operator's would.
  it("issues admin and user tokens and refuses to revoke the last admin token", {
    timeout: 300_000,
  }, async () => {
    const admin = await cli("admin", "token", "create", "--name", "ops");
    expect(admin).toMatchObject({ ok: true, data: { record: { kind: "admin" } } });
    const adminId = admin.data?.record?.id ?? "";

    const last = await cli("admin", "token", "revoke", "--id", adminId);
    expect(last).toMatchObject({ ok: false, error: { code: "last_admin_token" } });

    const noUser = await cli("admin", "token", "create", "--kind", "user");
    expect(noUser.error?.details.map((d) => d.path)).toEqual(["userId"]);
    const unknown = await cli(
      "admin",
      "token",
      "create",
      "--kind",
      "user",
      "--user-id",
      "5b0c2d4e-1111-4222-8333-444455556666",
    );
    expect(unknown).toMatchObject({ ok: false, error: { code: "not_found" } });

    const store = await openStore({ dataDir });
    const user = await store.users.create({ name: "Alice", webLogin: "alice" }).finally(() => store.close());
    const person = await cli("admin", "token", "create", "--kind", "user", "--user-id", user.id);
    expect(person).toMatchObject({ ok: true, data: { record: { kind: "user", userId: user.id } } });
    expect(person.data?.token).toMatch(/^orc_/);

    const second = await cli("admin", "token", "create", "--name", "ops-2");
    const first = await cli("admin", "token", "revoke", "--id", adminId);
    expect(first).toMatchObject({ ok: true, data: { id: adminId, kind: "admin" } });
    expect(first.data?.revokedAt).toEqual(expect.any(String));
    const revoked = await cli("admin", "token", "revoke", "--id", second.data?.record?.id ?? "");
    expect(revoked).toMatchObject({ ok: false, error: { code: "last_admin_token" } });
  });
});
