import { Link } from "wouter";
import type { AdminApi } from "./admin-api";
import { type AdminRun, type AdminRunEvent, TERMINAL_RUN_STATUSES } from "./projects-contract";
import { describeEvent, isAgentTurn, type RunEvents, stagesOf, useRunEvents } from "./run-events";

/** A time of day as a person reads it, with the full timestamp for machines. */
export function Time({ at }: { at: string | null }) {
  if (!at) return <span>—</span>;
  return <time dateTime={at}>{new Date(at).toLocaleTimeString()}</time>;
}

/** A date and time, for facts that may be days old. */
export function DateTime({ at }: { at: string | null }) {
  if (!at) return <span>—</span>;
  return <time dateTime={at}>{new Date(at).toLocaleString()}</time>;
}

/** A run's status as a badge (its colour says terminal, under way or red). */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`status-badge status-badge--${status}`}>{status}</span>;
}

/**
 * A run's stages in order, each with its events (kind, time, what happened) and its agents' turns
 * marked, following the run live while it is under way.
 */
export function RunTimeline({
  api,
  run,
  onEvent,
}: {
  api: AdminApi;
  run: AdminRun;
  onEvent?: (event: AdminRunEvent) => void;
}) {
  const follow = !TERMINAL_RUN_STATUSES.includes(run.status);
  const events = useRunEvents(api, run.id, { follow, ...(onEvent ? { onEvent } : {}) });
  return <StageList runId={run.id} events={events} />;
}

/** The stages of a run's events as read by `useRunEvents` (the run page reads them once for all). */
export function StageList({ runId, events }: { runId: string; events: RunEvents }) {
  const stages = stagesOf(events.events);
  return (
    <div className="run-timeline" data-testid={`timeline-${runId}`}>
      {events.isFollowing && (
        <p className="live-badge" role="status">
          Live
        </p>
      )}
      {events.error && (
        <p className="alert" role="alert">
          Could not read this run's events: {events.error.message}
        </p>
      )}
      {events.isLoading && <p className="loading">Loading events…</p>}
      {!events.isLoading && stages.length === 0 && <p>No events yet.</p>}
      <ol className="run-timeline__stages">
        {stages.map((group) => (
          <li
            key={`${group.stage}-${group.events[0]?.seq ?? group.startedAt}`}
            className="run-timeline__stage"
          >
            <h5 data-testid="stage-name">
              {group.stage}
              {group.iteration !== null ? ` (round ${group.iteration})` : ""} <Time at={group.startedAt} />
            </h5>
            <ul className="run-timeline__events">
              {group.events.map((event) => (
                <li
                  key={event.seq}
                  className={isAgentTurn(event) ? "run-event run-event--agent" : "run-event"}
                  data-event-type={event.type}
                >
                  <Time at={event.at} /> <code>{event.type}</code> {describeEvent(event)}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ol>
    </div>
  );
}

/** A run's one-line heading: its kind and status, a link to its page, when it began. */
export function RunHeading({ run }: { run: AdminRun }) {
  return (
    <>
      <Link href={`/admin/runs/${run.id}`}>
        {run.kind} run {run.id.slice(-8)}
      </Link>{" "}
      <StatusBadge status={run.status} /> {run.stage ? `at ${run.stage} ` : ""}
      <span className="muted">
        created <DateTime at={run.createdAt} />
      </span>
    </>
  );
}

/** Captured output (a log excerpt, a test run's last lines) folded away until asked for; "—" when none. */
export function OutputText({ text }: { text: string | null | undefined }) {
  if (!text) return <>—</>;
  return (
    <details>
      <summary>Show</summary>
      <pre className="output">{text}</pre>
    </details>
  );
}
