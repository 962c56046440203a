/**
 * Fuzzed input to every door of the real orchestrator (in this process, on its embedded store):
 * the API's routes (Fastify `inject`, and real HTTP for event streams), every tool through the
 * registry, Telegram updates to the webhook route, and the CLI (its parsing and validation
 * in-process, and the built binary for secrets read from stdin). Every answer must be a 2xx or a
 * clear 4xx in our error shape, never a 5xx, a crash or a hang; tools throw typed errors. The seed
 * is printed: `FUZZ_SEED=<seed>` replays the same inputs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, listRoutes, type RouteEntry } from "../../src/api/index.js";
import { AppError, type Principal } from "../../src/contracts/index.js";
import { createToolRegistry, toolContextFor } from "../../src/tools/index.js";
import { Fuzz, fuzzSeed } from "../support/fuzz.js";
import { type ReliabilityApp, startReliabilityApp, WEBHOOK_SECRET } from "../support/reliability-app.js";
import { answerProblem, Failures } from "./answers.js";
import { fuzzCli, fuzzCliBinary } from "./fuzz-cli.js";
import { tally } from "./tally.js";

const SEED = fuzzSeed();
/** How many inputs each surface gets (at least 10,000 in all). */
const API_INPUTS = 3_500;
const STREAM_INPUTS = 60;
const TOOL_INPUTS = 3_500;
const TELEGRAM_INPUTS = 2_500;
const CLI_INPUTS = 800;
const CLI_BINARY_RUNS = 8;
/** An answer slower than this is a hang. */
const ANSWER_DEADLINE_MS = 15_000;

let app: ReliabilityApp;
let known: string[] = [];

beforeAll(async () => {
  console.log(`fuzz seed: ${SEED} (replay with FUZZ_SEED=${SEED})`);
  app = await startReliabilityApp();
  known = [app.projects.own.id, app.projects.other.id, app.userId];
}, 120_000);
afterAll(async () => app?.close());

/** Request fields of each route, from the API's own OpenAPI document. */
function fieldsOf(api: Api): Map<string, { body: string[]; query: string[] }> {
  const doc = api.swagger() as { paths?: Record<string, Record<string, OpenApiOperation>> };
  const out = new Map<string, { body: string[]; query: string[] }>();
  for (const [path, operations] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(operations)) {
      const schema = op.requestBody?.content?.["application/json"]?.schema;
      out.set(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`, {
        body: Object.keys(schema?.properties ?? {}),
        query: (op.parameters ?? [])
          .filter((p) => p.in === "querystring" || p.in === "query")
          .map((p) => p.name),
      });
    }
  }
  return out;
}

interface OpenApiOperation {
  parameters?: { in: string; name: string }[];
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}

const GENERIC_QUERY = ["after", "limit", "offset", "status", "projectId", "kind", "level", "cursor", "q"];

/** A URL for `route` with its parameters and wildcard filled with hostile (or known) values. */
function urlFor(f: Fuzz, route: RouteEntry, query: string[]): string {
  let path = route.url.replace(/:(\w+)/g, () => (f.next() < 0.2 ? f.pick(known) : f.urlPart()));
  path = path.replace("*", () => Array.from({ length: f.int(0, 4) }, () => f.urlPart()).join("/"));
  const params = Array.from({ length: f.int(0, 3) }, () => {
    const name = f.next() < 0.7 ? f.pick([...query, ...GENERIC_QUERY]) : f.urlPart();
    return `${encodeURIComponent(name)}=${f.urlPart()}`;
  });
  return params.length > 0 ? `${path}?${params.join("&")}` : path;
}

function tokenFor(f: Fuzz): string | null {
  const roll = f.next();
  if (roll < 0.7) return app.tokens.admin;
  if (roll < 0.82) return app.tokens.user;
  if (roll < 0.92) return app.tokens.worker;
  if (roll < 0.96) return null;
  return f.string().slice(0, 200);
}

function headersFor(f: Fuzz, token: string | null, hasBody: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = f.next() < 0.97 ? `Bearer ${token}` : `Basic ${token}`;
  if (hasBody) {
    headers["content-type"] = f.pick([
      "application/json",
      "application/json",
      "application/json",
      "application/json; charset=latin1",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/octet-stream",
    ]);
  }
  return headers;
}

/** Header values as `fetch` can send them (bytes, not text): other characters are dropped. */
function latin1(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace(/[^\x20-\xff]/g, "")]));
}

/** Races an answer against the hang deadline. */
async function answered<T>(what: string, pending: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no answer within ${ANSWER_DEADLINE_MS} ms`)),
      ANSWER_DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([pending, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Routes that answer with an event stream on success: fuzzed over real HTTP, then hung up. */
const isStream = (route: RouteEntry) => route.method === "GET" && /\/(stream|events)$/.test(route.url);

describe("fuzzed input", () => {
  it("to every API route: 2xx or a clear 4xx, never a 5xx or a hang", { timeout: 300_000 }, async () => {
    const f = new Fuzz(SEED);
    const fields = fieldsOf(app.api);
    const routes = listRoutes(app.api).filter((r) => !isStream(r) && r.url !== "/telegram/webhook");
    const failures = new Failures();
    for (let i = 0; i < API_INPUTS; i++) {
      const route = routes[i % routes.length] as RouteEntry;
      const known = fields.get(`${route.method} ${route.url}`) ?? { body: [], query: [] };
      const url = urlFor(f, route, known.query);
      const hasBody = route.method !== "GET" && f.next() < 0.9;
      const payload = hasBody ? f.jsonText(known.body) : undefined;
      const what = `${route.method} ${url.slice(0, 120)}`;
      try {
        const res = await answered(
          what,
          app.api.inject({
            method: route.method as "GET",
            url,
            headers: headersFor(f, tokenFor(f), hasBody),
            ...(payload === undefined ? {} : { payload }),
          }),
        );
        const problem = answerProblem(url, res.statusCode, res.body);
        if (problem) failures.add(`${what} body ${String(payload).slice(0, 120)}`, problem);
      } catch (error) {
        failures.add(what, String(error));
      }
    }
    tally({
      suite: "fuzz",
      what: "hostile requests to every API route",
      tried: API_INPUTS,
      failures: failures.count,
    });
    expect(failures.count, `FUZZ_SEED=${SEED}\n${failures}`).toBe(0);
  });

  it("to the event-stream routes over HTTP: a stream or a clear 4xx", { timeout: 60_000 }, async () => {
    const f = new Fuzz(SEED + 1);
    const routes = listRoutes(app.api).filter(isStream);
    const failures = new Failures();
    for (let i = 0; i < STREAM_INPUTS; i++) {
      const route = routes[i % routes.length] as RouteEntry;
      const url = urlFor(f, route, ["after", "level"]);
      const hangUp = new AbortController();
      try {
        const res = await answered(
          url,
          fetch(`${app.url}${url}`, {
            headers: latin1(headersFor(f, tokenFor(f), false)),
            signal: hangUp.signal,
          }),
        );
        const isEventStream = res.headers.get("content-type")?.startsWith("text/event-stream") ?? false;
        const body = isEventStream ? "" : await res.text();
        const problem = answerProblem(url, res.status, body);
        if (problem) failures.add(`GET ${url}`, problem);
      } catch (error) {
        failures.add(`GET ${url}`, String(error));
      } finally {
        hangUp.abort();
      }
    }
    tally({
      suite: "fuzz",
      what: "hostile requests to event streams",
      tried: STREAM_INPUTS,
      failures: failures.count,
    });
    expect(failures.count, `FUZZ_SEED=${SEED}\n${failures}`).toBe(0);
  });

  it("to every tool through the registry: results or typed errors, never an internal one", {
    timeout: 300_000,
  }, async () => {
    const f = new Fuzz(SEED + 2);
    const registry = createToolRegistry();
    const { store, bus, logger } = app.orchestrator;
    const services = { store, bus, logger };
    const principals: Principal[] = [
      { kind: "admin", tokenId: "fuzz-admin" },
      { kind: "user", tokenId: "fuzz-user", userId: app.userId },
    ];
    const tools = registry.list();
    const failures = new Failures();
    for (let i = 0; i < TOOL_INPUTS; i++) {
      const tool = tools[i % tools.length] as (typeof tools)[number];
      const fieldNames = Object.keys(tool.input.shape);
      const input = f.input(fieldNames);
      // Ids the store knows, now and then, so handlers are reached past "not found".
      if (input && typeof input === "object" && !Array.isArray(input)) {
        for (const field of fieldNames.filter((n) => /id$/i.test(n))) {
          if (f.next() < 0.4) (input as Record<string, unknown>)[field] = f.pick(known);
        }
      }
      const principal = f.next() < 0.8 ? (principals[0] as Principal) : (principals[1] as Principal);
      try {
        await answered(tool.name, registry.invoke(tool.name, input, toolContextFor(principal, services)));
      } catch (error) {
        if (!(error instanceof AppError)) failures.add(tool.name, `untyped error: ${String(error)}`);
        else if (error.kind === "internal") failures.add(tool.name, `${error.code}: ${error.message}`);
      }
    }
    tally({
      suite: "fuzz",
      what: "hostile inputs to every tool (registry)",
      tried: TOOL_INPUTS,
      failures: failures.count,
    });
    expect(failures.count, `FUZZ_SEED=${SEED}\n${failures}`).toBe(0);
  });

  it("to the Telegram webhook: acknowledged, dropped or refused, never a 5xx", {
    timeout: 300_000,
  }, async () => {
    const f = new Fuzz(SEED + 3);
    const failures = new Failures();
    for (let i = 0; i < TELEGRAM_INPUTS; i++) {
      const payload = telegramBody(f, 700_000 + i);
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (f.next() < 0.92) headers["x-telegram-bot-api-secret-token"] = WEBHOOK_SECRET;
      try {
        const res = await answered(
          "telegram",
          app.api.inject({
            method: "POST",
            url: "/telegram/webhook",
            headers,
            ...(payload === undefined ? {} : { payload }),
          }),
        );
        const problem = answerProblem("/telegram/webhook", res.statusCode, res.body || "{}");
        // A refused secret is grammY's plain answer; everything else of ours is JSON or empty.
        if (problem && res.statusCode !== 401) failures.add(`update ${payload?.slice(0, 600)}`, problem);
      } catch (error) {
        failures.add("telegram", String(error));
      }
    }
    tally({
      suite: "fuzz",
      what: "hostile Telegram updates to the webhook",
      tried: TELEGRAM_INPUTS,
      failures: failures.count,
    });
    expect(failures.count, `FUZZ_SEED=${SEED}\n${failures}`).toBe(0);
  });

  it("to every CLI command, in-process: one JSON answer, never an internal error", {
    timeout: 300_000,
  }, async () => {
    const failures = await fuzzCli(new Fuzz(SEED + 4), CLI_INPUTS, {
      url: app.url,
      tokens: app.tokens,
      known,
    });
    tally({
      suite: "fuzz",
      what: "hostile argv to the CLI (in-process)",
      tried: CLI_INPUTS,
      failures: failures.count,
    });
    expect(failures.count, `FUZZ_SEED=${SEED}\n${failures}`).toBe(0);
  });

  it("to the CLI binary, secrets on stdin: one JSON answer, exit 0 or 1", { timeout: 300_000 }, async () => {
    const failures = await fuzzCliBinary(new Fuzz(SEED + 5), CLI_BINARY_RUNS, {
      url: app.url,
      token: app.tokens.admin,
    });
    tally({
      suite: "fuzz",
      what: "hostile argv and stdin to the CLI binary",
      tried: CLI_BINARY_RUNS,
      failures: failures.count,
    });
    expect(failures.count, `FUZZ_SEED=${SEED}\n${failures}`).toBe(0);
  });
});

/** A plausible update from a private chat, for mutating. */
function validUpdate(updateId: number): Record<string, unknown> {
  const from = { id: 5_550_001, is_bot: false, first_name: "Ursula", language_code: "en" };
  const chat = { id: 5_550_001, type: "private", first_name: "Ursula" };
  if (updateId % 3 === 0) {
    return {
      update_id: updateId,
      callback_query: {
        id: `q${updateId}`,
        from,
        chat_instance: "ci",
        data: "x",
        message: { message_id: 1, date: 1, chat },
      },
    };
  }
  return {
    update_id: updateId,
    message: { message_id: updateId, date: 1_700_000_000, chat, from, text: "hello" },
  };
}

/** Sets one random leaf (or branch) of `value` to a hostile value. */
function mutate(f: Fuzz, value: Record<string, unknown>): void {
  let node: Record<string, unknown> = value;
  for (let depth = 0; depth < 4; depth++) {
    const keys = Object.keys(node);
    if (keys.length === 0) return;
    const key = f.pick(keys);
    const child = node[key];
    if (child && typeof child === "object" && !Array.isArray(child) && f.next() < 0.6) {
      node = child as Record<string, unknown>;
      continue;
    }
    if (f.next() < 0.15) delete node[key];
    else node[key] = f.next() < 0.5 ? f.scalar() : f.value(2);
    return;
  }
}

/** A webhook body: a mutated real update, a random one, or text that is not JSON at all. */
function telegramBody(f: Fuzz, updateId: number): string | undefined {
  const roll = f.next();
  if (roll < 0.03) return undefined;
  if (roll < 0.15) return f.jsonText(["update_id", "message", "callback_query", "edited_message"]);
  const update = validUpdate(updateId);
  const mutations = roll < 0.25 ? 0 : f.int(1, 3);
  for (let i = 0; i < mutations; i++) mutate(f, update);
  return JSON.stringify(update);
}
