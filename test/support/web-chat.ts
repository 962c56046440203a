/**
 * The web chat end to end: `orchestrator up --demo` as a newcomer runs it (scripted Product Owner,
 * scripted agents, the local deploy driver), and what a test reads of the page it serves.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import type { ScriptedPlaybook } from "../../src/demo/index.js";
import type { ChatMessage } from "../../web/src/contract.js";
import { type RunningCli, START_DEADLINE_MS, startCli, waitForHealth } from "./cli.js";
import { freePort, workerPortRange } from "./ports.js";

/**
 * First port of the deploys' range, apart from the ranges of other suites (each Vitest worker
 * takes its own block of it).
 */
const DEPLOY_PORT_BASE = 37_000;

/** The running demo, and the admin token it printed (the web chat signs it in as `admin`). */
export interface DemoOrchestrator {
  proc: RunningCli;
  baseUrl: string;
  adminToken: string;
  /** GET with the admin token; throws on a non-2xx answer. */
  get<T>(path: string): Promise<T>;
  close(): Promise<void>;
}

/**
 * Starts `orchestrator up --demo` in a fresh data directory on a free port; the scripted agent plays
 * `opts.playbook` when given (SCRIPTED_PLAYBOOK), else the demo's own.
 */
export async function startDemoOrchestrator(
  opts: { playbook?: ScriptedPlaybook } = {},
): Promise<DemoOrchestrator> {
  const dataDir = await mkdtemp(join(tmpdir(), "chat-web-"));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const playbookFile = join(dataDir, "playbook.json");
  if (opts.playbook) await writeFile(playbookFile, JSON.stringify(opts.playbook));
  const proc = startCli(["up", "--demo"], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ORCHESTRATOR_DATA_DIR: dataDir,
    ORCHESTRATOR_PORT: String(port),
    LOG_LEVEL: "info",
    DEPLOY_PORT_RANGE: workerPortRange(DEPLOY_PORT_BASE).join("-"),
    ...(opts.playbook ? { SCRIPTED_PLAYBOOK: playbookFile } : {}),
  });
  const close = async () => {
    await proc.stop("SIGTERM");
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForHealth(`${baseUrl}/health`, START_DEADLINE_MS, proc);
    const adminToken = (await readFile(join(dataDir, "admin.token"), "utf8")).trim();
    const get = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
      const text = await res.text();
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${text}`);
      return JSON.parse(text) as T;
    };
    return { proc, baseUrl, adminToken, get, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A message as the page shows it. */
export interface ShownMessage {
  id: string;
  role: ChatMessage["role"];
  kind: ChatMessage["kind"];
  text: string;
  /** Where its links lead, in the order shown. */
  hrefs: string[];
}

/** The messages of the open conversation, in the order the page shows them. */
export function shownMessages(page: Page): Promise<ShownMessage[]> {
  return page.getByTestId("message").evaluateAll((items) =>
    items.map((item) => ({
      id: item.getAttribute("data-message-id") ?? "",
      role: item.getAttribute("data-role") as ShownMessage["role"],
      kind: item.getAttribute("data-kind") as ShownMessage["kind"],
      text: item.querySelector(".message__text")?.textContent ?? "",
      hrefs: [...item.querySelectorAll("a")].map((a) => a.getAttribute("href") ?? ""),
    })),
  );
}

/** What the page showed over time, as recorded by `recordPage`. */
export interface PageJournal {
  /** How many times the working indicator appeared. */
  working: number;
  /**
   * Every text a progress message showed, in order; `node` numbers the DOM element that showed
   * it, so a message replaced by a new element (not updated in place) gets a new number.
   */
  progress: { id: string; node: number; text: string }[];
}

/**
 * Watches the page from now on (until it reloads): each appearance of the working indicator and
 * each text of each progress message, so a test sees what flashed by between two of its looks.
 */
export async function recordPage(page: Page): Promise<() => Promise<PageJournal>> {
  await page.evaluate(`(() => {
    const journal = { working: 0, progress: [] };
    const nodes = new WeakMap();
    let counted = 0;
    let wasWorking = false;
    const look = () => {
      const working = document.querySelector('[data-testid="working-indicator"]') !== null;
      if (working && !wasWorking) journal.working += 1;
      wasWorking = working;
      for (const el of document.querySelectorAll('[data-testid="message"][data-kind="progress"]')) {
        if (!nodes.has(el)) nodes.set(el, ++counted);
        const id = el.getAttribute("data-message-id");
        const text = el.querySelector(".message__text")?.textContent ?? "";
        const last = journal.progress.findLast((p) => p.id === id);
        if (!last || last.text !== text || last.node !== nodes.get(el)) {
          journal.progress.push({ id, node: nodes.get(el), text });
        }
      }
    };
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
    look();
    globalThis.pageJournal = journal;
  })()`);
  return () => page.evaluate<PageJournal>("structuredClone(globalThis.pageJournal)");
}
