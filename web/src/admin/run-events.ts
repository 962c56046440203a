import { useEffect, useRef, useState } from "react";
import { ApiError, asApiError } from "../api";
import { backoffMs, SseParser } from "../stream";
import type { AdminApi } from "./admin-api";
import { runEventStreamUrl, runEvents } from "./projects-api";
import type { AdminRunEvent } from "./projects-contract";

/** Statuses that will not change by asking again. */
const FINAL_STATUSES = new Set([400, 401, 403, 404]);

/** A run's events as the page shows them: all so far, and whether new ones still arrive live. */
export interface RunEvents {
  events: AdminRunEvent[];
  isLoading: boolean;
  /** The live stream is open (the run is under way). */
  isFollowing: boolean;
  error: ApiError | null;
}

/**
 * Reads a run's stored events, then (with `follow`) its live stream (`/api/runs/:id/events/stream`,
 * the session cookie), resuming after the last seq shown when the connection is lost, until the
 * server says the run ended. `onEvent` hears each new event as it arrives.
 */
export function useRunEvents(
  api: AdminApi,
  runId: string,
  options: { follow: boolean; onEvent?: (event: AdminRunEvent) => void },
): RunEvents {
  const [state, setState] = useState<RunEvents>({
    events: [],
    isLoading: true,
    isFollowing: false,
    error: null,
  });
  const onEvent = useRef(options.onEvent);
  onEvent.current = options.onEvent;
  const { follow } = options;
  // The page makes a new AdminApi on each render: the connection depends on its values only.
  const latestApi = useRef(api);
  latestApi.current = api;
  const { baseUrl, csrfToken } = api;

  // biome-ignore lint/correctness/useExhaustiveDependencies: the session's values stand for `api`.
  useEffect(() => {
    const api = latestApi.current;
    const stopped = new AbortController();
    let lastSeq = 0;
    const add = (incoming: AdminRunEvent[], isLive: boolean) => {
      const fresh = incoming.filter((e) => e.seq > lastSeq);
      if (fresh.length === 0) return;
      lastSeq = Math.max(lastSeq, ...fresh.map((e) => e.seq));
      setState((now) => ({ ...now, events: [...now.events, ...fresh].sort((a, b) => a.seq - b.seq) }));
      if (isLive) for (const event of fresh) onEvent.current?.(event);
    };

    /** One connection to its end: "ended" when the run ended, "lost" to reconnect. */
    const readOnce = async (): Promise<"ended" | "lost"> => {
      const response = await fetch(runEventStreamUrl(api, runId, lastSeq), {
        headers: { accept: "text/event-stream" },
        credentials: "same-origin",
        cache: "no-store",
        signal: stopped.signal,
      });
      if (!response.ok) {
        const error = await ApiError.from(response);
        if (FINAL_STATUSES.has(response.status)) throw error;
        return "lost";
      }
      if (!response.body) return "lost";
      setState((now) => ({ ...now, isFollowing: true, error: null }));
      const parser = new SseParser();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return "lost";
        for (const event of parser.push(value)) {
          if (event.event === "end") return "ended";
          if (event.event === "error") continue;
          try {
            add([JSON.parse(event.data) as AdminRunEvent], true);
          } catch {
            // Not an event of ours: skipped.
          }
        }
      }
    };

    const run = async () => {
      try {
        add(await runEvents(api, runId, 0, stopped.signal), false);
        setState((now) => ({ ...now, isLoading: false, error: null }));
        let attempt = 0;
        while (follow && !stopped.signal.aborted) {
          const outcome = await readOnce().catch((error: unknown) => {
            if (error instanceof ApiError) throw error;
            return "lost" as const;
          });
          setState((now) => ({ ...now, isFollowing: false }));
          if (outcome === "ended" || stopped.signal.aborted) return;
          attempt += 1;
          await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt, 500, 10_000)));
        }
      } catch (error) {
        if (stopped.signal.aborted) return;
        setState((now) => ({ ...now, isLoading: false, isFollowing: false, error: asApiError(error) }));
      }
    };
    setState({ events: [], isLoading: true, isFollowing: false, error: null });
    void run();
    return () => stopped.abort();
  }, [baseUrl, csrfToken, runId, follow]);

  return state;
}

/** One stage of a run as the timeline shows it: where it began and what happened in it. */
export interface StageGroup {
  stage: string;
  iteration: number | null;
  startedAt: string;
  events: AdminRunEvent[];
}

/** Splits a run's events into its stages (what came before the first stage is "start"). */
export function stagesOf(events: AdminRunEvent[]): StageGroup[] {
  const groups: StageGroup[] = [];
  for (const event of events) {
    if (event.type === "run.stage_changed") {
      const iteration = typeof event.data.iteration === "number" ? event.data.iteration : null;
      groups.push({ stage: String(event.data.stage), iteration, startedAt: event.at, events: [event] });
      continue;
    }
    let current = groups.at(-1);
    if (!current) {
      current = { stage: "start", iteration: null, startedAt: event.at, events: [] };
      groups.push(current);
    }
    current.events.push(event);
  }
  return groups;
}

const text = (value: unknown) => (typeof value === "string" ? value : "");
/** The end of an id: ids begin with their time, so the tail tells them apart. */
const short = (id: unknown) => text(id).slice(-8);

/** Events written by an agent's own turn (its output and reports), as opposed to the pipeline's. */
export function isAgentTurn(event: AdminRunEvent): boolean {
  return event.type === "worker.progress" || event.type === "worker.report";
}

/** A line a person reads for one event (names and counts only: events carry no secret values). */
export function describeEvent(event: AdminRunEvent): string {
  const d = event.data;
  switch (event.type) {
    case "run.created":
      return `created (${[d.kind, d.mode, d.action].filter(Boolean).join(", ")})`;
    case "run.status_changed": {
      const error = d.error as { message?: string } | undefined;
      return `${text(d.from)} → ${text(d.to)}${error?.message ? `: ${error.message}` : ""}`;
    }
    case "run.stage_changed":
      return `stage ${text(d.stage)}${typeof d.iteration === "number" ? ` (round ${d.iteration})` : ""}`;
    case "run.log":
      return text(d.message) + (d.commit ? ` (${text(d.commit).slice(0, 12)})` : "");
    case "worker.state_changed":
      return `worker ${short(d.workerId)} ${text(d.from)} → ${text(d.to)}`;
    case "worker.progress":
      return d.source === "stream"
        ? `worker ${short(d.workerId)} ${text(d.kind)}: ${text(d.text)}`
        : `worker ${short(d.workerId)} ${text(d.step)}${typeof d.percent === "number" ? ` ${d.percent}%` : ""}${d.note ? `: ${text(d.note)}` : ""}`;
    case "worker.report":
      return `worker ${short(d.workerId)} reported ${text(d.status)}: ${text(d.summary)}${d.commit ? ` (${text(d.commit).slice(0, 12)})` : ""}`;
    case "engineering.tested": {
      const counts = d.counts as { passed: number; failed: number; skipped: number } | null;
      const tally = counts
        ? `, ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`
        : "";
      return `tests ${d.passed ? "green" : "red"} at ${text(d.commit).slice(0, 12)}${tally}${d.reason ? ` (${text(d.reason)})` : ""}`;
    }
    case "deploy.succeeded":
      return `deployed ${text(d.commit).slice(0, 12)}${d.url ? ` at ${text(d.url)}` : d.botUsername ? ` as @${text(d.botUsername)}` : ""}`;
    case "deploy.failed":
    case "deploy.blocked": {
      const missing =
        Array.isArray(d.missing) && d.missing.length > 0 ? ` (missing: ${d.missing.join(", ")})` : "";
      return `${event.type === "deploy.failed" ? "deploy failed" : "deploy blocked"}: ${text(d.reason)}${missing}`;
    }
    case "engineering.acceptance_revised":
      return `acceptance revision ${String(d.revision)}: ${text(d.reason)}`;
    case "engineering.stage_retried":
      return `stage ${text(d.stage)} retried (${String(d.retry)} of ${String(d.maxRetries)}): ${text(d.reason)}`;
    case "llm.request_blocked": {
      const names = Array.isArray(d.secrets) ? d.secrets.map((s) => (s as { secret: string }).secret) : [];
      return `model request blocked: it carried ${names.join(", ")}`;
    }
    case "agent_config.used":
      return `${text(d.node)} on config v${String(d.version)} (${text(d.backend)}, ${text(d.model)})`;
    case "run.budget_exhausted":
      return `budget spent: $${Number(d.spentUsd).toFixed(4)} of $${Number(d.budgetUsd).toFixed(2)}`;
    case "run.budget_granted":
      return `budget granted: +$${Number(d.addUsd).toFixed(2)}, now $${Number(d.budgetUsd).toFixed(2)}`;
    default:
      return "";
  }
}

/** The saved config version each node ran on, as `developer v3`, from the run's `agent_config.used` events. */
export function configVersionsOf(events: readonly AdminRunEvent[]): string[] {
  const seen = new Map<string, Set<number>>();
  for (const event of events) {
    if (event.type !== "agent_config.used") continue;
    const node = String(event.data.node);
    const versions = seen.get(node) ?? new Set<number>();
    versions.add(Number(event.data.version));
    seen.set(node, versions);
  }
  return [...seen].map(([node, versions]) => `${node} ${[...versions].map((v) => `v${v}`).join(", ")}`);
}
