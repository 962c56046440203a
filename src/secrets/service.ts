import { randomBytes } from "node:crypto";
import { z } from "zod";
import {
  AppError,
  BotIdentity,
  Id,
  parseOrThrow,
  SecretKind,
  type SecretMeta,
  secretLabel,
} from "../contracts/index.js";
import type { SecretRedactor } from "../observability/index.js";
import type { Store, StoredCiphertext } from "../store/index.js";
import { isTelegramBotToken, TELEGRAM_BOT_TOKEN_KEY } from "./telegram.js";
import type { Vault } from "./vault.js";

/** Largest secret value accepted, in UTF-8 bytes (a PEM key fits; a file does not). */
export const MAX_SECRET_BYTES = 10 * 1024;

/** Secret keys are environment variable names: upper snake case. */
export const SecretKey = z
  .string()
  .max(128, "at most 128 characters")
  .regex(/^[A-Z][A-Z0-9_]*$/, "upper snake case, e.g. TELEGRAM_BOT_TOKEN");

/** A secret value: non-empty, at most `MAX_SECRET_BYTES`. Messages never quote the value. */
export const SecretValue = z
  .string()
  .min(1, "must not be empty")
  .refine((value) => Buffer.byteLength(value, "utf8") <= MAX_SECRET_BYTES, {
    message: `at most ${MAX_SECRET_BYTES} bytes`,
  });

/** What `SecretsService.set` takes; `projectId` null is the admin-managed pool. */
export const SecretSetInput = z.object({
  projectId: Id.nullable(),
  key: SecretKey,
  value: SecretValue,
  kind: SecretKind,
  createdBy: z.string().min(1).max(200).nullable(),
  /** The bot a Telegram token runs, as a check with Telegram named it. */
  bot: BotIdentity.nullable().optional(),
});
export type SecretSetInput = z.input<typeof SecretSetInput>;

/** Who stored a generated secret (audit rows and `SecretMeta.createdBy`). */
const GENERATOR = "orchestrator";
const GENERATED_BYTES = z.number().int().min(16).max(512);
/** Rounds of "insert if absent, else read the winner" before a removal racing us is reported. */
const ENSURE_ATTEMPTS = 3;
/**
 * How far before the newest change already seen each look at the store starts again: a write whose
 * transaction committed after a later-stamped one was read is still found.
 */
const REFRESH_OVERLAP_MS = 60_000;

/**
 * What one look at the store taught the redactor: how many values were new, and how many stored
 * ciphertexts this process's vault key cannot open (sealed by a process with another key).
 */
export interface RedactorRefreshOutcome {
  learnt: number;
  unreadable: number;
}

/** A periodic refresh of the redactor; `stop` waits for a look in progress. */
export interface RedactionRefresh {
  stop(): Promise<void>;
}

/**
 * Secret values in and out of the store: encrypted by the vault on the way in, decrypted on the way
 * out, and every value seen handed to the redactor so no record, answer or log line can carry it.
 * `refreshRedactor` also teaches it the values other processes stored. Only metadata (names, kinds,
 * filled flags, lengths) ever leaves through anything but `get` and `ensureGenerated`.
 */
export class SecretsService {
  private readonly store: Pick<Store, "secrets" | "servers" | "botPool">;
  private readonly vault: Vault;
  private readonly redactor: SecretRedactor;
  /** Newest change the redactor has learnt from (ISO), and the ciphertexts already read. */
  private lastChangeSeen: string | null = null;
  private readonly ciphertextsSeen = new Set<string>();
  private refreshing: Promise<RedactorRefreshOutcome> | null = null;

  constructor(deps: {
    store: Pick<Store, "secrets" | "servers" | "botPool">;
    vault: Vault;
    redactor: SecretRedactor;
  }) {
    this.store = deps.store;
    this.vault = deps.vault;
    this.redactor = deps.redactor;
  }

  /**
   * Stores (or replaces) a secret. The value is validated (non-empty, size; a Telegram bot token's
   * shape under `TELEGRAM_BOT_TOKEN`) with errors naming the field, never quoting the value.
   */
  async set(input: SecretSetInput): Promise<SecretMeta> {
    const data = parseOrThrow(SecretSetInput, input, "secret");
    if (data.key === TELEGRAM_BOT_TOKEN_KEY && !isTelegramBotToken(data.value)) {
      throw new AppError("invalid", "invalid_bot_token", "the value is not a Telegram bot token", {
        details: [{ path: "value", message: "expected <bot id digits>:<35 letters, digits, _ or ->" }],
      });
    }
    this.redactor.add(data.value, secretLabel(data.projectId, data.key));
    return this.store.secrets.put({
      projectId: data.projectId,
      key: data.key,
      kind: data.kind,
      ciphertext: this.vault.encrypt(data.value),
      length: data.value.length,
      createdBy: data.createdBy,
      bot: data.bot ?? null,
    });
  }

  /** Seals a value kept outside the project secrets (a pool bot's token); the redactor learns it. */
  seal(value: string, label: string): string {
    parseOrThrow(SecretValue, value, "secret value");
    this.redactor.add(value, label);
    return this.vault.encrypt(value);
  }

  /** Opens what `seal` sealed; the redactor learns the value first. */
  open(ciphertext: string, label: string): string {
    const value = this.vault.decrypt(ciphertext);
    this.redactor.add(value, label);
    return value;
  }

  /** The decrypted value, or null when nothing (or an empty value) is stored under `key`. */
  async get(projectId: string | null, key: string): Promise<string | null> {
    const ciphertext = await this.store.secrets.getCiphertext(projectId, key);
    if (ciphertext === null) return null;
    const value = this.vault.decrypt(ciphertext);
    if (value === "") return null;
    this.redactor.add(value, secretLabel(projectId, key));
    return value;
  }

  /**
   * An infra secret the orchestrator generates (random `bytes`, base64url) the first time it is
   * asked for and returns unchanged ever after, so a database password survives every redeploy.
   * Concurrent first calls agree on one value: the store inserts only if absent, and a loser
   * reads the winner's value. A value already stored under `key` (say, set by an admin) is kept.
   */
  async ensureGenerated(projectId: string, key: string, bytes = 32): Promise<string> {
    parseOrThrow(z.object({ projectId: Id, key: SecretKey, bytes: GENERATED_BYTES }), {
      projectId,
      key,
      bytes,
    });
    for (let attempt = 0; attempt < ENSURE_ATTEMPTS; attempt++) {
      const existing = await this.storedValue(projectId, key);
      if (existing !== null) return existing;
      const value = randomBytes(bytes).toString("base64url");
      this.redactor.add(value, secretLabel(projectId, key));
      const { isCreated } = await this.store.secrets.putIfAbsent({
        projectId,
        key,
        kind: "infra",
        ciphertext: this.vault.encrypt(value),
        length: value.length,
        createdBy: GENERATOR,
      });
      if (isCreated) return value;
      // Another caller stored first: the next round reads its value (or, if it was removed meanwhile, tries again).
    }
    throw new AppError("conflict", "concurrent_update", `secret ${key} changed concurrently; try again`, {
      details: [{ path: "key", message: "removed while being generated" }],
    });
  }

  /**
   * Teaches the redactor every secret value stored since the last look (all of them the first
   * time): project and pool secrets, pool bots' tokens and the private keys of deploy servers, whoever stored them.
   * Each look reads only what changed (plus a short overlap); calls made while one runs share it.
   */
  refreshRedactor(): Promise<RedactorRefreshOutcome> {
    this.refreshing ??= this.lookForChanges().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /**
   * Keeps the redactor current with what other processes store: `refreshRedactor` every
   * `intervalMs` (a failed look is reported and tried again at the next tick).
   */
  refreshRedactorEvery(
    intervalMs: number,
    report: { onError: (error: unknown) => void; onUnreadable: (count: number) => void },
  ): RedactionRefresh {
    let isStopped = false;
    let timer: NodeJS.Timeout | null = null;
    const tick = () => {
      timer = setTimeout(() => {
        this.refreshRedactor()
          .then((outcome) => {
            if (outcome.unreadable > 0) report.onUnreadable(outcome.unreadable);
          }, report.onError)
          .finally(() => {
            if (!isStopped) tick();
          });
      }, intervalMs);
      timer.unref();
    };
    tick();
    return {
      stop: async () => {
        isStopped = true;
        if (timer) clearTimeout(timer);
        await this.refreshing?.catch(() => undefined);
      },
    };
  }

  /**
   * Keeps values a person pasted into a conversation that has no project for them yet (found by
   * `scrubSecrets`), sealed, until a project of theirs adopts them. Known to the redactor at once.
   */
  async hold(conversationId: string, found: readonly { name: string; value: string }[]): Promise<void> {
    for (const { name, value } of found) {
      const key = parseOrThrow(SecretKey, name, "secret key");
      parseOrThrow(SecretValue, value, "secret value");
      this.redactor.add(value, `conversation ${conversationId} ${key}`);
      await this.store.secrets.hold({
        conversationId,
        key,
        ciphertext: this.vault.encrypt(value),
        length: value.length,
      });
    }
  }

  /** The value a conversation holds under `key`, or null. */
  async heldValue(conversationId: string, key: string): Promise<string | null> {
    const held = (await this.store.secrets.listHeld(conversationId)).find((h) => h.key === key);
    if (!held) return null;
    const value = this.vault.decrypt(held.ciphertext);
    this.redactor.add(value, `conversation ${conversationId} ${key}`);
    return value;
  }

  /** Lets go of what a conversation holds under `key` (a token Telegram refused, say). */
  async dropHeld(conversationId: string, key: string): Promise<void> {
    await this.store.secrets.removeHeld(conversationId, [key]);
  }

  /** The names of the secrets a conversation holds. */
  async heldKeys(conversationId: string): Promise<string[]> {
    return (await this.store.secrets.listHeld(conversationId)).map((held) => held.key);
  }

  /**
   * Makes what a conversation holds the project's secrets (replacing ones of the same key), then
   * lets the conversation's copies go; answers the keys adopted. Run again after a crash, it adopts
   * what is still held.
   */
  async adopt(conversationId: string, projectId: string, actor: string): Promise<string[]> {
    const held = await this.store.secrets.listHeld(conversationId);
    for (const { key, ciphertext } of held) {
      await this.set({
        projectId,
        key,
        value: this.vault.decrypt(ciphertext),
        kind: "user",
        createdBy: actor,
      });
    }
    const keys = held.map((h) => h.key);
    await this.store.secrets.removeHeld(conversationId, keys);
    return keys;
  }

  /** Metadata of a project's (or, with null, the pool's) secrets, sorted by key. */
  listMeta(projectId: string | null): Promise<SecretMeta[]> {
    return this.store.secrets.listMeta(projectId);
  }

  /** Removes a secret; removing one that is not there is not an error. */
  remove(projectId: string | null, key: string): Promise<void> {
    return this.store.secrets.remove(projectId, key);
  }

  private async lookForChanges(): Promise<RedactorRefreshOutcome> {
    const since =
      this.lastChangeSeen === null
        ? {}
        : { changedSince: new Date(Date.parse(this.lastChangeSeen) - REFRESH_OVERLAP_MS).toISOString() };
    const [secrets, pool, serverKeys] = await Promise.all([
      this.store.secrets.listCiphertexts(since),
      this.store.botPool.listCiphertexts(since),
      this.store.servers.listSshKeyCiphertexts(since),
    ]);
    const outcome = { learnt: 0, unreadable: 0 };
    const learn = (row: StoredCiphertext, valuesIn: (plaintext: string) => string[]) => {
      if (this.lastChangeSeen === null || row.updatedAt > this.lastChangeSeen)
        this.lastChangeSeen = row.updatedAt;
      if (this.ciphertextsSeen.has(row.ciphertext)) return;
      this.ciphertextsSeen.add(row.ciphertext);
      let plaintext: string;
      try {
        plaintext = this.vault.decrypt(row.ciphertext);
      } catch {
        outcome.unreadable += 1; // sealed with another vault key: counted once, for the caller to report
        return;
      }
      for (const value of valuesIn(plaintext)) if (this.redactor.add(value, row.label)) outcome.learnt += 1;
    };
    for (const row of [...secrets, ...pool]) learn(row, (plaintext) => [plaintext]);
    for (const row of serverKeys) learn(row, sshKeysIn);
    return outcome;
  }

  /** Like `get`, but a stored empty value is an error: it could never be replaced by `putIfAbsent`. */
  private async storedValue(projectId: string, key: string): Promise<string | null> {
    const ciphertext = await this.store.secrets.getCiphertext(projectId, key);
    if (ciphertext === null) return null;
    const value = this.vault.decrypt(ciphertext);
    if (value === "") {
      throw new AppError(
        "conflict",
        "secret_empty",
        `secret ${key} is stored empty; remove it to regenerate`,
        {
          details: [{ path: "key", message: "stored with an empty value" }],
        },
      );
    }
    this.redactor.add(value, secretLabel(projectId, key));
    return value;
  }
}

/**
 * The private key in a server's sealed SSH credentials (`{ v, privateKey, hostKey }` JSON, or a
 * bare key); the host key fingerprint beside it is public and stays readable.
 */
function sshKeysIn(plaintext: string): string[] {
  try {
    const sealed: unknown = JSON.parse(plaintext);
    if (
      sealed &&
      typeof sealed === "object" &&
      "privateKey" in sealed &&
      typeof sealed.privateKey === "string"
    ) {
      return [sealed.privateKey];
    }
  } catch {
    // Not the JSON envelope: a bare key.
  }
  return [plaintext];
}
