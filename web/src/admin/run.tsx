import { useCallback, useState } from "react";
import { Link } from "wouter";
import type { AdminApi } from "./admin-api";
import { ConfirmAction } from "./confirm-action";
import { useLiveUpdates } from "./live";
import { AdminPage } from "./page";
import { cancelRun, getRun, runSpend, runWorkers } from "./projects-api";
import {
  type AdminRun,
  type AdminRunEvent,
  type AdminWorker,
  type SpendLine,
  TERMINAL_RUN_STATUSES,
  type TestVerdictData,
} from "./projects-contract";
import { configVersionsOf, useRunEvents } from "./run-events";
import { DateTime, OutputText, StageList, StatusBadge } from "./run-timeline";
import { TraceLink } from "./trace-link";
import { useResource } from "./use-resource";

const REFRESH_MS = 5_000;

/**
 * One run: its facts, its stages with their events (live while it is under way), its workers'
 * turns, the Tester's counts and output, what it spent, and a Cancel button while it can be stopped.
 */
export function RunPage({ api, id, onUnauthorized }: { api: AdminApi; id: string; onUnauthorized(): void }) {
  const run = useResource((signal) => getRun(api, id, signal), { refreshMs: REFRESH_MS, onUnauthorized });
  const spend = useResource((signal) => runSpend(api, id, signal), { refreshMs: REFRESH_MS, onUnauthorized });
  const r = run.data;
  const isUnderWay = r ? !TERMINAL_RUN_STATUSES.includes(r.status) : false;
  const workers = useResource((signal) => runWorkers(api, id, signal), {
    refreshMs: REFRESH_MS,
    onUnauthorized,
  });
  useLiveUpdates(["runs", "workers"], run.reload);
  useLiveUpdates(["workers"], workers.reload);
  const onEvent = useCallback(
    (event: AdminRunEvent) => {
      if (event.type === "run.status_changed" || event.type === "run.stage_changed") run.reload();
      if (event.type.startsWith("worker.")) workers.reload();
    },
    [run.reload, workers.reload],
  );
  // Followed only once the run is known to be under way; a run that ends is read once more.
  const events = useRunEvents(api, id, { follow: r !== null && isUnderWay, onEvent });
  const verdicts = events.events
    .filter((e) => e.type === "engineering.tested")
    .map((e) => e.data as unknown as TestVerdictData);
  return (
    <AdminPage
      title={r ? `Run ${r.id.slice(-8)}` : "Run"}
      isLoading={run.isLoading && !r}
      error={run.error}
      onRetry={run.reload}
    >
      <p>
        <Link href="/admin/runs">All runs</Link>
        {r && (
          <>
            {" · "}
            <Link href={`/admin/projects/${r.projectId}`}>Its project</Link>
          </>
        )}
      </p>
      {r && (
        <>
          <RunFacts api={api} run={r} configVersions={configVersionsOf(events.events)} />
          <CancelRun api={api} run={r} isAvailable={isUnderWay} onDone={run.reload} />
          <Outcome run={r} />
          <section aria-labelledby="stages-title" data-testid="run-stages">
            <h3 id="stages-title">Stages and events</h3>
            <StageList runId={r.id} events={events} />
          </section>
          <Tests verdicts={verdicts} />
          <Workers workers={workers.data?.items ?? []} events={events.events} />
          <Spend lines={spend.data?.spentOn ?? null} run={r} />
        </>
      )}
    </AdminPage>
  );
}

function RunFacts({ api, run, configVersions }: { api: AdminApi; run: AdminRun; configVersions: string[] }) {
  return (
    <dl className="facts" data-testid="run-facts">
      <dt>Status</dt>
      <dd>
        <StatusBadge status={run.status} />
      </dd>
      <dt>Kind</dt>
      <dd>{run.kind}</dd>
      <dt>Stage</dt>
      <dd>{run.stage ?? "—"}</dd>
      <dt>Round / attempt</dt>
      <dd>
        {run.iteration} / {run.attempt}
      </dd>
      <dt>Created</dt>
      <dd>
        <DateTime at={run.createdAt} />
      </dd>
      <dt>Started</dt>
      <dd>
        <DateTime at={run.startedAt} />
      </dd>
      <dt>Finished</dt>
      <dd>
        <DateTime at={run.finishedAt} />
      </dd>
      <dt>Tokens</dt>
      <dd>
        {run.tokensIn.toLocaleString()} in, {run.tokensOut.toLocaleString()} out
      </dd>
      <dt>Cost</dt>
      <dd>
        ${run.costUsd.toFixed(4)}
        {run.budgetUsd !== null ? ` of a $${run.budgetUsd.toFixed(2)} budget` : ""}
      </dd>
      <dt>Agent configs</dt>
      <dd data-testid="config-versions">
        {configVersions.length > 0 ? (
          configVersions.join("; ")
        ) : (
          <Link href="/admin/settings">none recorded yet</Link>
        )}
      </dd>
      <dt>Trace</dt>
      <dd data-testid="trace-id">
        <TraceLink api={api} traceId={run.traceId ?? null} />
      </dd>
      {run.error && (
        <>
          <dt>Error</dt>
          <dd>
            <code>{run.error.code}</code>: {run.error.message}
          </dd>
        </>
      )}
    </dl>
  );
}

function CancelRun({
  api,
  run,
  isAvailable,
  onDone,
}: {
  api: AdminApi;
  run: AdminRun;
  isAvailable: boolean;
  onDone(): void;
}) {
  const [reason, setReason] = useState("");
  return (
    <div className="project-actions">
      <ConfirmAction
        label="Cancel run"
        question="Stop this run? Its agents are stopped and it ends cancelled with what it spent."
        confirmLabel="Cancel the run now"
        isAvailable={isAvailable}
        onConfirm={async () => {
          const cancelled = await cancelRun(api, run.id, reason.trim() || "cancelled by an admin");
          return `The run is ${cancelled.status}.`;
        }}
        onDone={onDone}
      >
        <label className="stacked">
          Reason
          <input
            value={reason}
            placeholder="cancelled by an admin"
            onChange={(event) => setReason(event.target.value)}
          />
        </label>
      </ConfirmAction>
    </div>
  );
}

/** The result's words a person needs: outcome, summary, commit, a question. */
function Outcome({ run }: { run: AdminRun }) {
  const result = run.result;
  if (!result) return null;
  const pick = (key: string) => (typeof result[key] === "string" ? (result[key] as string) : null);
  return (
    <section aria-labelledby="result-title" data-testid="run-result">
      <h3 id="result-title">Result</h3>
      <dl className="facts">
        {(["outcome", "summary", "commit", "question", "reason", "url"] as const).map((key) =>
          pick(key) ? (
            <div key={key}>
              <dt>{key}</dt>
              <dd>{key === "commit" ? <code>{pick(key)}</code> : pick(key)}</dd>
            </div>
          ) : null,
        )}
      </dl>
    </section>
  );
}

const countsText = (c: TestVerdictData["counts"]) =>
  c ? `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped (${c.runner})` : "—";

function Tests({ verdicts }: { verdicts: TestVerdictData[] }) {
  if (verdicts.length === 0) return null;
  return (
    <section aria-labelledby="tests-title" data-testid="run-tests">
      <h3 id="tests-title">Tests</h3>
      <table className="list-table">
        <thead>
          <tr>
            <th scope="col">Round</th>
            <th scope="col">Commit</th>
            <th scope="col">Verdict</th>
            <th scope="col">Tests</th>
            <th scope="col">Acceptance</th>
            <th scope="col">Took</th>
            <th scope="col">Output</th>
          </tr>
        </thead>
        <tbody>
          {verdicts.map((v) => (
            <tr key={`${v.iteration}-${v.commit}`}>
              <td>{v.iteration}</td>
              <td>
                <code>{v.commit.slice(0, 12)}</code>
              </td>
              <td>
                {v.passed ? "green" : "red"}
                {v.reason ? ` (${v.reason})` : ""}
              </td>
              <td>{countsText(v.counts)}</td>
              <td>{countsText(v.acceptanceCounts ?? null)}</td>
              <td>{(v.durationMs / 1000).toFixed(1)} s</td>
              <td>
                <OutputText text={v.outputTail} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Workers({ workers, events }: { workers: AdminWorker[]; events: AdminRunEvent[] }) {
  const turnsOf = (workerId: string) =>
    events.filter((e) => e.type === "worker.progress" && e.data.workerId === workerId).length;
  return (
    <section aria-labelledby="workers-title" data-testid="run-workers">
      <h3 id="workers-title">Workers</h3>
      {workers.length === 0 ? (
        <p>No worker recorded for this run.</p>
      ) : (
        <table className="list-table">
          <thead>
            <tr>
              <th scope="col">Worker</th>
              <th scope="col">Role</th>
              <th scope="col">Backend</th>
              <th scope="col">State</th>
              <th scope="col">Steps seen</th>
              <th scope="col">Context</th>
              <th scope="col">Last report</th>
            </tr>
          </thead>
          <tbody>
            {workers.map((w) => (
              <tr key={w.id}>
                <th scope="row">
                  <code>{w.id.slice(-8)}</code>
                </th>
                <td>{w.role}</td>
                <td>
                  {w.backend} ({w.runtime})
                </td>
                <td>
                  <StatusBadge status={w.state} />
                </td>
                <td>{turnsOf(w.id)}</td>
                <td>{w.contextTokens.toLocaleString()} tokens</td>
                <td>{w.report ? `${w.report.status}: ${w.report.summary}` : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Spend({ lines, run }: { lines: SpendLine[] | null; run: AdminRun }) {
  return (
    <section aria-labelledby="spend-title" data-testid="run-spend">
      <h3 id="spend-title">Spend</h3>
      {lines === null ? (
        <p className="loading">Loading…</p>
      ) : lines.length === 0 ? (
        <p>No metered model call (total ${run.costUsd.toFixed(4)}).</p>
      ) : (
        <table className="list-table">
          <thead>
            <tr>
              <th scope="col">Role</th>
              <th scope="col">Backend</th>
              <th scope="col">Model</th>
              <th scope="col">Calls</th>
              <th scope="col">Tokens in</th>
              <th scope="col">Tokens out</th>
              <th scope="col">Cost</th>
            </tr>
          </thead>
          <tbody>
            {lines.map((l) => (
              <tr key={`${l.workerId}-${l.backend}-${l.model}`}>
                <td>{l.role ?? "—"}</td>
                <td>{l.backend}</td>
                <td>{l.model}</td>
                <td>{l.calls}</td>
                <td>{l.tokensIn.toLocaleString()}</td>
                <td>{l.tokensOut.toLocaleString()}</td>
                <td>${l.costUsd.toFixed(4)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
