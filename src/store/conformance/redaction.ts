import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { WorkerReport } from "../../contracts/index.js";
import { REDACTED } from "../../observability/index.js";
import { type GetStore, MISSING_ID, makeProject, uniq } from "./helpers.js";

/** A secret the suite's redactor knows before the store is opened (see `runStoreConformance`). */
export const KNOWN_SECRET = "conformance-secret-4f9d2a7c";
/** An API token nobody told the redactor about: masked by its shape. */
const TOKEN = `orc_${randomBytes(32).toString("base64url")}`;
/** A secret holding a quote, a backslash and a newline, the way a private key or password may. */
export const KNOWN_TRICKY_SECRET = 'line one "q"\\\nline two';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytesOf = (value: unknown) => encoder.encode(JSON.stringify(value));

/** `value` (any shape) holds none of the known secrets, nor the token. */
function expectClean(value: unknown): void {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  expect(text).not.toContain(KNOWN_SECRET);
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain("line one");
}

/** What every write of free text does: secrets the redactor knows are masked before they are stored. */
export function redactionCases(get: GetStore): void {
  describe("redaction of what is written", () => {
    it("masks run events' data and runs' input, result and error", async () => {
      const project = await makeProject(get());
      const run = await get().runs.create({
        projectId: project.id,
        kind: "engineering",
        input: { brief: `use the key ${KNOWN_SECRET}` },
      });
      expect(run.input).toEqual({ brief: `use the key ${REDACTED}` });
      const event = await get().runEvents.append({
        runId: run.id,
        type: "llm.request_blocked",
        data: {
          workerId: MISSING_ID,
          role: "developer",
          backend: "api",
          provider: "anthropic",
          secrets: [
            {
              secret: "ANTHROPIC_API_KEY",
              where: `env\nANTHROPIC_API_KEY=${KNOWN_SECRET}\nORCHESTRATOR_TOKEN=${TOKEN}\n`,
            },
            { secret: "TRICKY", where: KNOWN_TRICKY_SECRET },
          ],
        },
      });
      expect(event.data).toEqual({
        workerId: MISSING_ID,
        role: "developer",
        backend: "api",
        provider: "anthropic",
        secrets: [
          {
            secret: "ANTHROPIC_API_KEY",
            where: `env\nANTHROPIC_API_KEY=${REDACTED}\nORCHESTRATOR_TOKEN=${REDACTED}\n`,
          },
          { secret: "TRICKY", where: REDACTED },
        ],
      });
      const [stored] = await get().runEvents.list(run.id, {});
      expect(stored?.data).toEqual(event.data);
      await get().runs.transition(run.id, "running");
      const failed = await get().runs.transition(run.id, "failed", {
        result: { outputTail: `Error: bad key ${KNOWN_SECRET}`, commit: "abc1234" },
        error: { code: "tests_failed", message: `rejected ${TOKEN}` },
      });
      expect(failed.result).toEqual({ outputTail: `Error: bad key ${REDACTED}`, commit: "abc1234" });
      expect(failed.error).toEqual({ code: "tests_failed", message: `rejected ${REDACTED}` });
      expectClean(await get().runs.get(run.id));
    });

    it("masks worker reports", async () => {
      const project = await makeProject(get());
      const worker = await get().workers.create({
        role: "developer",
        backend: "scripted",
        runtime: "process",
        projectId: project.id,
      });
      const report = WorkerReport.parse({
        status: "blocked",
        summary: `found ${KNOWN_SECRET} in .env`,
        question: `may I print ${TOKEN}?`,
      });
      const stored = await get().workers.setReport(worker.id, report);
      expect(stored.report).toMatchObject({
        summary: `found ${REDACTED} in .env`,
        question: `may I print ${REDACTED}?`,
      });
      expectClean(await get().workers.get(worker.id));
    });

    it("masks deployments' logs excerpt, health check and URL", async () => {
      const project = await makeProject(get());
      const deployment = await get().deployments.create({
        projectId: project.id,
        commitSha: "abc1234",
        release: "r1",
      });
      const failed = await get().deployments.finish(deployment.id, "failed", {
        url: `http://user:${KNOWN_SECRET}@127.0.0.1:1`,
        healthCheck: { kind: "http", reason: `500: ${KNOWN_TRICKY_SECRET}` },
        logsExcerpt: `starting\nSERVICE_SECRET=${KNOWN_SECRET}\n${Buffer.from(KNOWN_SECRET).toString("base64")}\n`,
      });
      expect(failed.logsExcerpt).toBe(`starting\nSERVICE_SECRET=${REDACTED}\n${REDACTED}\n`);
      expect(failed.healthCheck).toEqual({ kind: "http", reason: `500: ${REDACTED}` });
      expect(failed.url).toBe(`http://user:${REDACTED}@127.0.0.1:1`);
      expectClean(await get().deployments.get(deployment.id));
    });

    it("masks serialized checkpoint values, metadata and pending writes, keeping JSON valid", async () => {
      const key = { threadId: uniq("thread"), checkpointNs: "", checkpointId: "1" };
      const binary = new Uint8Array([0xff, 0xfe, 0x00, 0x81]);
      await get().checkpoints.put({
        key,
        parentCheckpointId: null,
        type: "json",
        checkpoint: bytesOf({ v: 4, id: "1", note: KNOWN_SECRET }),
        channelVersions: { state: "1", raw: "1" },
        metadata: { source: "loop", step: 1, writes: { tester: { tail: `KEY=${KNOWN_SECRET}` } } },
        blobs: [
          { channel: "state", version: "1", type: "json", value: bytesOf({ tail: KNOWN_TRICKY_SECRET }) },
          { channel: "raw", version: "1", type: "bytes", value: binary },
        ],
      });
      await get().checkpoints.putWrites(key, [
        {
          taskId: "t1",
          idx: 0,
          channel: "state",
          type: "json",
          value: bytesOf({ report: `saw ${TOKEN}` }),
          taskPath: "",
        },
      ]);
      const stored = await get().checkpoints.get(key.threadId, "");
      if (!stored) throw new Error("checkpoint not stored");
      const text = (bytes: Uint8Array | null) => decoder.decode(bytes ?? new Uint8Array());
      expect(JSON.parse(text(stored.checkpoint))).toEqual({ v: 4, id: "1", note: REDACTED });
      expect(stored.metadata).toEqual({
        source: "loop",
        step: 1,
        writes: { tester: { tail: `KEY=${REDACTED}` } },
      });
      const state = stored.channelValues.find((b) => b.channel === "state");
      expect(JSON.parse(text(state?.value ?? null))).toEqual({ tail: REDACTED });
      // Bytes that are not text cannot hold a readable secret: kept exactly.
      expect(stored.channelValues.find((b) => b.channel === "raw")?.value).toEqual(binary);
      expect(JSON.parse(text(stored.pendingWrites[0]?.value ?? null))).toEqual({ report: `saw ${REDACTED}` });
      expectClean(stored.channelValues.map((b) => text(b.value)).join("\n"));
    });

    it("masks project texts and servers' last error", async () => {
      const project = await get().projects.create({
        name: uniq("Redacted project"),
        description: `a bot; its token is ${KNOWN_SECRET}`,
      });
      expect(project.description).toBe(`a bot; its token is ${REDACTED}`);
      const updated = await get().projects.update(project.id, { summary: `deployed with ${TOKEN}` });
      expect(updated.summary).toBe(`deployed with ${REDACTED}`);
      const server = await get().servers.create({ handle: uniq("redact"), host: "h" });
      await get().servers.setStatus(server.id, "checking");
      const failed = await get().servers.setStatus(server.id, "error", `ssh: bad password ${KNOWN_SECRET}`);
      expect(failed.lastError).toBe(`ssh: bad password ${REDACTED}`);
    });
  });

  describe("ciphertexts for the redactor", () => {
    it("lists every secret's ciphertext oldest first, and only those changed since a time", async () => {
      const project = await makeProject(get());
      const first = `CIPHER-${uniq()}`;
      const second = `CIPHER-${uniq()}`;
      const put = (key: string, ciphertext: string, projectId: string | null) =>
        get().secrets.put({ projectId, key, kind: "user", ciphertext, length: 8, createdBy: null });
      await put(`K_${randomBytes(3).toString("hex").toUpperCase()}`, first, null);
      await sleep(5);
      const later = await put("API_KEY", second, project.id);
      const all = await get().secrets.listCiphertexts({});
      const mine = all.filter((row) => row.ciphertext === first || row.ciphertext === second);
      expect(mine.map((row) => row.ciphertext)).toEqual([first, second]);
      const changed = await get().secrets.listCiphertexts({ changedSince: later.updatedAt });
      expect(changed.map((row) => row.ciphertext)).toContain(second);
      expect(changed.map((row) => row.ciphertext)).not.toContain(first);
      expect(changed.find((row) => row.ciphertext === second)?.updatedAt).toBe(later.updatedAt);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      expect(await get().secrets.listCiphertexts({ changedSince: future })).toEqual([]);
      await expect(get().secrets.listCiphertexts({ changedSince: "yesterday" })).rejects.toMatchObject({
        kind: "invalid",
      });
    });

    it("lists the servers' SSH key ciphertexts, and only those changed since a time", async () => {
      const server = await get().servers.create({ handle: uniq("keys"), host: "h" });
      const ciphertext = `SSH-${uniq()}`;
      const stored = await get().servers.setSshKey(server.id, ciphertext);
      const all = await get().servers.listSshKeyCiphertexts({});
      expect(all.map((row) => row.ciphertext)).toContain(ciphertext);
      expect(all.every((row) => row.ciphertext.length > 0)).toBe(true);
      const since = await get().servers.listSshKeyCiphertexts({ changedSince: stored.updatedAt });
      expect(since.map((row) => row.ciphertext)).toContain(ciphertext);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      expect(await get().servers.listSshKeyCiphertexts({ changedSince: future })).toEqual([]);
    });
  });
}
