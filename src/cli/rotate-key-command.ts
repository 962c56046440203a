import type { Command } from "commander";
import { z } from "zod";
import { loadConfig } from "../config/index.js";
import { AppError } from "../contracts/index.js";
import type { Store } from "../store/index.js";
import { printOk } from "./output.js";
import { secretFromStdin } from "./tool-commands.js";

/** A vault key as text: 32 bytes in base64, as `openssl rand -base64 32` prints it. */
const KeyText = z.string().regex(/^[A-Za-z0-9+/]{43}=$/);

const HELP = [
  "Re-seal every stored secret (project and pool secrets, held chat secrets, pool bot tokens, servers' SSH keys) under a new vault key.",
  "Stop every orchestrator process first: they refuse to start while a rotation is under way.",
  "Embedded (no ORCHESTRATOR_SECRET_KEY): the new key is generated into <data dir>/secret.key.next, then replaces secret.key.",
  "With ORCHESTRATOR_SECRET_KEY (server mode): that is the current key and the new one is read from stdin (openssl rand -base64 32 > new.key; orchestrator secret rotate-key < new.key); then give every process the new key.",
  "Interrupted, run it again (with the same new key): it continues where it stopped.",
].join(" ");

/**
 * `orchestrator secret rotate-key`: the vault key rotation, straight on the database (like the other
 * recovery commands). The key never comes from an argument: argv is visible to every process.
 */
export function addRotateKeyCommand(program: Command, deps: { openStore: () => Promise<Store> }): void {
  // Beside `secret set|list|remove|audit`, which the tool registry adds first.
  const secret =
    program.commands.find((command) => command.name() === "secret") ??
    program.command("secret").description("secret tools");
  secret
    .command("rotate-key")
    .description(HELP)
    .allowExcessArguments(false)
    .action(async () => {
      const { openVault, rotateKeyFile, rotateVaultKey, SECRET_KEY_SETTING, Vault, vaultKeySource } =
        await import("../secrets/index.js");
      const config = loadConfig(process.env, process.env.DATABASE_URL ? "server" : "embedded");
      const source = vaultKeySource({
        mode: config.mode,
        secretKey: config.deploy.secretKey,
        dataDir: config.dataDir,
      });
      // Read before the store opens, so a missing key on stdin fails before anything changes.
      const newKey = source.kind === "setting" ? await newKeyFromStdin() : null;
      const store = await deps.openStore();
      try {
        await refuseWhileProcessesRun(store);
        if (source.kind === "file") {
          printOk(await rotateKeyFile(store, source.path));
          return;
        }
        const report = await rotateVaultKey({
          store,
          from: await openVault(source),
          source,
          to: Vault.fromBase64(newKey ?? ""),
        });
        printOk({
          ...report,
          next: `set ${SECRET_KEY_SETTING} to the new key (key id ${report.toKeyId}) for every process, then start them`,
        });
      } finally {
        await store.close();
      }
    });
}

/**
 * A process still running would fail to read what is re-sealed and would seal new values with the
 * old key: its heartbeat in the store says it is there (a killed one's expires after INSTANCE_TTL).
 */
async function refuseWhileProcessesRun(store: Store): Promise<void> {
  const live = (await store.instances.list()).filter((instance) => instance.alive);
  if (live.length === 0) return;
  const names = live.map((i) => `${i.id} (${i.roles.join(",")}) on ${i.host}`).join("; ");
  throw new AppError(
    "conflict",
    "vault_processes_running",
    `stop every orchestrator process before rotating the vault key; still running: ${names}`,
    { details: live.map((i) => ({ path: "instances", message: `${i.id} on ${i.host}` })) },
  );
}

async function newKeyFromStdin(): Promise<string> {
  const text = (
    await secretFromStdin("new key", "pipe it in: orchestrator secret rotate-key < new.key")
  ).trim();
  if (!KeyText.safeParse(text).success) {
    throw new AppError("invalid", "invalid_vault_key", "the new key on stdin is not a vault key", {
      details: [{ path: "new key", message: "32 bytes in base64 (openssl rand -base64 32)" }],
    });
  }
  return text;
}
