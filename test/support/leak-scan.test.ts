/**
 * The leak scan finds a planted secret in every kind of source it reads, in every form it claims
 * to look for, passes on clean input, refuses secrets too short to prove anything, and never
 * prints a value.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, SecretRedactor } from "../../src/observability/index.js";
import { startFakeAnthropic } from "../fakes/anthropic/index.js";
import { startFakeOpenAi } from "../fakes/openai/index.js";
import { gitEnv } from "./git.js";
import { leakScan, pgliteRows, recordPgliteInstances, secretForms } from "./leak-scan.js";
import { openTestStore } from "./store.js";

const run = promisify(execFile);
const SECRET = "sk-test-9f2c41d7e8b3a6050c1d";
const OTHER = "tok_a1b2c3d4e5f6a7b8c9d0";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "leak-scan-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A scan that knows SECRET and OTHER. */
const scanning = () => leakScan().secret("planted key", SECRET).secret("other token", OTHER);

/** The scan's failure message (it must fail). */
async function failureOf(scan: ReturnType<typeof leakScan>): Promise<string> {
  try {
    await scan.assertClean();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("the scan passed");
}

/** The message names no value, in any of the forms the scan looks for. */
function expectNoValue(message: string): void {
  for (const value of [SECRET, OTHER]) {
    for (const { needle } of secretForms(value)) expect(message).not.toContain(needle);
  }
}

describe("what the scan looks for", () => {
  it("passes on clean input, and each form of a planted secret fails it, named, without the value", async () => {
    await scanning().add("clean", "nothing to see here, sk-test-, tok_").assertClean();
    const bytes = Buffer.from(SECRET);
    const planted: [string, string][] = [
      ["as is", `key=${SECRET};`],
      ["hex", `0x${bytes.toString("hex")}`],
      ["hex", bytes.toString("hex").toUpperCase()],
      // At each alignment inside a longer encoded text, and alone.
      ["base64", Buffer.from(`A=${SECRET}\n`).toString("base64")],
      ["base64", Buffer.from(`AB=${SECRET}`).toString("base64")],
      ["base64", Buffer.from(`ABC=${SECRET}`).toString("base64")],
    ];
    for (const [form, text] of planted) {
      const message = await failureOf(scanning().add("the source", `before ${text} after`));
      expect(message).toContain(`secret "planted key" (${form}) in the source, 1 time(s)`);
      expect(message).toContain("[planted key]");
      expectNoValue(message);
    }
    // Escapes and the URL-safe alphabet only change a value with characters they touch.
    const special = 'pa"ss\\w/rd >>>???';
    const others = [
      ["JSON-escaped", JSON.stringify({ k: special })],
      ["URL-encoded", `?q=${encodeURIComponent(special)}`],
      ["base64url", Buffer.from(`x=${special}`).toString("base64url")],
    ];
    for (const [form, text] of others) {
      const message = await failureOf(
        leakScan()
          .secret("special", special)
          .add("the source", text ?? ""),
      );
      expect(message).toContain(`secret "special" (${form}) in the source, 1 time(s)`);
      for (const { needle } of secretForms(special)) expect(message).not.toContain(needle);
    }
  });

  it("fails on an empty or short secret, on no secret at all, and on nothing scanned", async () => {
    expect(await failureOf(leakScan().secret("empty", "").add("x", "y"))).toContain(
      'secret "empty" is empty',
    );
    expect(await failureOf(leakScan().secret("short", "abc1234").add("x", "y"))).toContain(
      'secret "short" is only 7 characters',
    );
    expect(await failureOf(leakScan().add("x", "y"))).toContain("no secret was registered");
    expect(await failureOf(scanning())).toContain("nothing was scanned");
  });

  it("masks every secret in a context, even one the context's edge cuts", async () => {
    const text = `${"x".repeat(20)}${OTHER}${"y".repeat(5)}${SECRET}${"z".repeat(3)}${OTHER}`;
    const message = await failureOf(scanning().add("mixed", text));
    expect(message).toContain("[planted key]");
    expect(message).toContain("[other token]");
    expectNoValue(message);
  });

  it("lets a suite allow a secret it put somewhere on purpose, and only there", async () => {
    const scan = scanning()
      .allow("the test plants it", (hit) => hit.where === "planted file" && hit.line.startsWith("NOTE="))
      .add("planted file", `NOTE=${SECRET}\n`);
    await scan.assertClean();
    scan.add("planted file", `ELSE=${SECRET}`);
    expect(await failureOf(scan)).toContain('secret "planted key" (as is) in planted file');
  });
});

describe("where the scan looks", () => {
  it("the bodies the fake model servers received", async () => {
    const anthropic = await startFakeAnthropic();
    const openai = await startFakeOpenAi({ apiKey: "sk-openai-test-key" });
    try {
      const post = (url: string, body: unknown) =>
        fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Bearer sk-openai-test-key" },
          body: JSON.stringify(body),
        });
      await post(`${anthropic.url}/v1/messages`, { messages: [{ role: "user", content: "hello" }] });
      await post(`${openai.url}/chat/completions`, { messages: [{ role: "user", content: "hello" }] });
      const clean = scanning()
        .modelRequests("Anthropic", anthropic.requests)
        .modelRequests("OpenAI", openai.requests);
      await clean.assertClean();
      await post(`${anthropic.url}/v1/messages`, { messages: [{ role: "user", content: `key ${SECRET}` }] });
      await post(`${openai.url}/chat/completions`, {
        messages: [{ role: "user", content: Buffer.from(OTHER).toString("base64") }],
      });
      const message = await failureOf(
        scanning().modelRequests("Anthropic", anthropic.requests).modelRequests("OpenAI", openai.requests),
      );
      expect(message).toContain('secret "planted key" (as is) in Anthropic request 1');
      expect(message).toContain('secret "other token" (base64) in OpenAI request 1');
      expectNoValue(message);
    } finally {
      await anthropic.close();
      await openai.close();
    }
  });

  it("log lines a logger wrote", async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: "info",
      redactor: new SecretRedactor(),
      destination: { write: (line: string) => lines.push(line) },
    });
    logger.info({ step: "clean" }, "started");
    await scanning().logs("log", lines).assertClean();
    logger.info({ header: `Bearer ${SECRET}` }, "a careless line");
    expect(await failureOf(scanning().logs("log", lines))).toContain('secret "planted key" (as is) in log');
  });

  it("run events, and every text column of a store's own in-memory database, ciphertexts aside", async () => {
    const recorder = recordPgliteInstances();
    const store = await openTestStore();
    recorder.stop();
    try {
      expect(recorder.instances).toHaveLength(1);
      const [db] = recorder.instances as [PGlite];
      const project = await store.projects.create({ name: "scan", slug: "scan" });
      const runRow = await store.runs.create({ projectId: project.id, kind: "engineering" });
      await store.runEvents.append({ runId: runRow.id, type: "run.log", data: { message: "clean" } });
      const clean = scanning();
      await clean.runEvents("events", store.runEvents);
      await clean.database("db", pgliteRows(db));
      await clean.assertClean();
      await store.runEvents.append({
        runId: runRow.id,
        type: "run.log",
        data: { message: `said ${SECRET}` },
      });
      const events = await failureOf(await scanning().runEvents("events", store.runEvents));
      expect(events).toContain('secret "planted key" (as is) in events');
      const table = await failureOf(await scanning().database("db", pgliteRows(db)));
      expect(table).toMatch(/secret "planted key" \(as is\) in db: table "public"\."run_events"/);
      expectNoValue(table);
    } finally {
      await store.close();
    }
  });

  it("jsonb, bytea and array columns, on a database folder, but not a ciphertext column", async () => {
    const path = join(dir, "pglite");
    const db = await PGlite.create(path);
    await db.exec(`create table things (id int, notes text[], doc jsonb, blob bytea, ciphertext text, key_ciphertext text);
      insert into things values (1, array['a'], '{"a":1}', '\\x00ff', '${SECRET}', '${OTHER}');`);
    await db.close();
    await (await scanning().pgliteDir("db", path)).assertClean();
    const again = await PGlite.create(path);
    await again.query("insert into things values (2, $1, $2, $3, null, null)", [
      [`n ${SECRET}`],
      JSON.stringify({ token: OTHER }),
      Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(`${SECRET}`)]),
    ]);
    await again.close();
    const message = await failureOf(await scanning().pgliteDir("db", path));
    expect(message).toContain('secret "planted key" (as is) in db: table "public"."things", 2 time(s)');
    expect(message).toContain('secret "other token" (as is) in db: table "public"."things", 1 time(s)');
  });

  it("files in folders, a git repository's whole history and an object no branch reaches", async () => {
    const root = join(dir, "workspaces");
    const repo = join(root, "w1", "workspace");
    await mkdir(join(root, "w1", "home", "node_modules", "pkg"), { recursive: true });
    await mkdir(repo, { recursive: true });
    // A package folder is third-party: not entered.
    await writeFile(join(root, "w1", "home", "node_modules", "pkg", "index.js"), SECRET);
    const env = gitEnv("unused-token-000");
    const git = (...args: string[]) => run("git", args, { cwd: repo, env });
    await git("init", "--quiet", "-b", "main");
    await writeFile(join(repo, "README.md"), "hello\n");
    await git("add", "-A");
    await git("commit", "--quiet", "-m", "first");
    await scanning()
      .folder("workers", root)
      .then((s) => s.assertClean());

    // In history only: added, then removed in the next commit.
    await writeFile(join(repo, "config.js"), `export const key = "${SECRET}";\n`);
    await git("add", "-A");
    await git("commit", "--quiet", "-m", "add config");
    await git("rm", "--quiet", "config.js");
    await git("commit", "--quiet", "-m", "remove config");
    // Written to the object store, reachable from nothing.
    await writeFile(join(repo, "stray.txt"), Buffer.from(OTHER).toString("base64"));
    await git("hash-object", "-w", "stray.txt");
    await rm(join(repo, "stray.txt"));
    const message = await failureOf(await scanning().folder("workers", root));
    expect(message).toContain(
      'secret "planted key" (as is) in workers: w1/workspace/.git (git log -p --all)',
    );
    expect(message).toContain(
      'secret "planted key" (as is) in workers: w1/workspace/.git (every git object)',
    );
    expect(message).toContain(
      'secret "other token" (base64) in workers: w1/workspace/.git (every git object)',
    );
    expect(message).not.toContain("node_modules");
    expectNoValue(message);

    await writeFile(join(root, "w1", "home", "transcript.jsonl"), `{"tool_result":"${SECRET}"}\n`);
    expect(await failureOf(await scanning().folder("workers", root))).toContain(
      'secret "planted key" (as is) in workers: w1/home/transcript.jsonl',
    );
  });

  it("files of a watched folder that the system removed before the end, and what a file held before it was rewritten", async () => {
    const root = join(dir, "sandboxes");
    const scan = scanning().watchFolder("sandboxes", root);
    await mkdir(join(root, "w2", "home"), { recursive: true });
    await writeFile(join(root, "w2", "home", "session.jsonl"), `{"said":"${SECRET}"}\n`);
    await writeFile(join(root, "w2", "notes.txt"), `token ${OTHER}`);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await writeFile(join(root, "w2", "notes.txt"), "nothing now");
    await rm(join(root, "w2", "home"), { recursive: true });
    const message = await failureOf(scan);
    expect(message).toContain('secret "planted key" (as is) in sandboxes: w2/home/session.jsonl');
    expect(message).toContain('secret "other token" (as is) in sandboxes: w2/notes.txt (an earlier version)');
    expectNoValue(message);
    const clean = scanning().watchFolder("sandboxes", root);
    await clean.assertClean();
  });

  it("every answer fetch got, streamed ones up to the end of the recording", async () => {
    let leaky = false;
    const server: Server = createServer((req, res) => {
      if (req.url === "/events") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(`data: ${leaky ? SECRET : "hello"}\n\n`);
        return; // never ends, as an event stream does not
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, token: leaky ? OTHER : null }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const exercise = async () => {
      const scan = scanning();
      scan.recordResponses((u) => u.startsWith(url));
      expect(await (await fetch(`${url}/api/thing?x=1`)).json()).toMatchObject({ ok: true });
      const stream = await fetch(`${url}/events`);
      const reader = stream.body?.getReader();
      expect(Buffer.from((await reader?.read())?.value ?? []).toString()).toContain("data: ");
      await reader?.cancel();
      return scan;
    };
    try {
      const clean = await exercise();
      await clean.assertClean();
      expect(clean.scanned()).toEqual(["API answer GET /api/thing?x=1", "API answer GET /events"]);
      leaky = true;
      const message = await failureOf(await exercise());
      expect(message).toContain('secret "other token" (as is) in API answer GET /api/thing?x=1');
      expect(message).toContain('secret "planted key" (as is) in API answer GET /events');
      expectNoValue(message);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
