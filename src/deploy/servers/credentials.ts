import { z } from "zod";
import { AppError, HostKeyFingerprint, type Server } from "../../contracts/index.js";
import type { Vault } from "../../secrets/index.js";
import type { Store } from "../../store/index.js";
import { SshConnection } from "../ssh/index.js";

/**
 * What the vault ciphertext of a server holds: the private key and, once known, the host key it
 * was first used with. Keeping the pin inside the ciphertext means it cannot be changed without
 * the vault key. A bare key (PEM/OpenSSH text, no envelope) reads as a key with no pin yet.
 */
export const SshCredentials = z.strictObject({
  v: z.literal(1),
  privateKey: z.string().min(1),
  hostKey: HostKeyFingerprint.nullable(),
});
export type SshCredentials = z.infer<typeof SshCredentials>;

/** Encrypts credentials for `ServerRepository.setSshKey`. */
export function sealCredentials(vault: Vault, credentials: Omit<SshCredentials, "v">): string {
  return vault.encrypt(JSON.stringify({ v: 1, ...credentials } satisfies SshCredentials));
}

/** Decrypts what `sealCredentials` (or a writer storing a bare key) produced. */
export function openCredentials(vault: Vault, ciphertext: string): SshCredentials {
  const plaintext = vault.decrypt(ciphertext);
  if (plaintext.trimStart().startsWith("-----BEGIN")) return { v: 1, privateKey: plaintext, hostKey: null };
  let json: unknown;
  try {
    json = JSON.parse(plaintext);
  } catch {
    json = null;
  }
  const parsed = SshCredentials.safeParse(json);
  // Never echo the plaintext: it holds the key.
  if (!parsed.success)
    throw new AppError("internal", "ssh_credentials_corrupt", "stored SSH credentials are unreadable");
  return parsed.data;
}

/**
 * Opens SSH connections to registered servers with their stored key, pinning the host key on the
 * first successful connection (trust on first use) and verifying it on every later one: a changed
 * key fails with `conflict` `host_key_changed` until the server is registered again.
 */
export class ServerConnector {
  constructor(private readonly opts: { store: Store; vault: Vault; readyTimeoutMs?: number }) {}

  async connect(server: Server): Promise<SshConnection> {
    const ciphertext = await this.opts.store.servers.getSshKeyCiphertext(server.id);
    if (ciphertext === null) {
      throw new AppError("invalid", "server_has_no_key", `server ${server.handle} has no SSH key`, {
        details: [{ path: "privateKey", message: "register the server with a private key" }],
      });
    }
    const credentials = openCredentials(this.opts.vault, ciphertext);
    const connection = await SshConnection.open({
      host: server.host,
      port: server.sshPort,
      user: server.sshUser,
      privateKey: credentials.privateKey,
      hostKey: credentials.hostKey,
      ...(this.opts.readyTimeoutMs !== undefined ? { readyTimeoutMs: this.opts.readyTimeoutMs } : {}),
    });
    if (credentials.hostKey === null) {
      try {
        await this.opts.store.servers.setSshKey(
          server.id,
          sealCredentials(this.opts.vault, {
            privateKey: credentials.privateKey,
            hostKey: connection.hostKey,
          }),
        );
      } catch (error) {
        await connection.close();
        throw error;
      }
    }
    return connection;
  }

  /** The pinned host key fingerprint of a server, or null when none is pinned yet. */
  async pinnedHostKey(serverId: string): Promise<string | null> {
    const ciphertext = await this.opts.store.servers.getSshKeyCiphertext(serverId);
    return ciphertext === null ? null : openCredentials(this.opts.vault, ciphertext).hostKey;
  }
}
