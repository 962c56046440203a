import { useEffect, useRef } from "react";
import { Link } from "wouter";
import type { AdminApi } from "./admin-api";
import { useLiveUpdates } from "./live";
import { opsApi } from "./ops-api";
import { ActionError, dollars, ProjectLink, shortId, useAction, useProjectSlugs, When } from "./ops-common";
import type { UsageTotals, WorkerStatus, WorkerUsage } from "./ops-contract";
import { AdminPage } from "./page";
import { useResource } from "./use-resource";

/**
 * How often the output is read while the worker runs: it is kept by the process that runs the
 * worker, not in the store, so the change stream does not announce it.
 */
const OUTPUT_REFRESH_MS = 2_000;
/** Lines of output the page shows (the newest). */
const OUTPUT_LINES = 300;
/** States a worker never leaves: nothing to pause, resume or terminate. */
const FINAL_STATES = new Set(["stopped", "failed", "gone"]);

/**
 * `/admin/workers/:id`: one worker's facts (state, role, backend, project, run, session, context
 * size, tokens and cost with estimates marked), read again when workers or spend change (the admin
 * change stream); its output, read every few seconds while it runs; Pause / Resume / Terminate.
 */
export function WorkerPage({
  api,
  id,
  onUnauthorized,
}: {
  api: AdminApi;
  id: string;
  onUnauthorized(): void;
}) {
  const facts = useResource(
    async (signal) => {
      const [worker, usage] = await Promise.all([
        opsApi.worker(api, id, signal),
        opsApi.workerUsage(api, id, signal),
      ]);
      return { worker, usage };
    },
    { onUnauthorized },
  );
  const worker = facts.data?.worker ?? null;
  const isRunning = worker !== null && (worker.state === "running" || worker.isBusy);
  const output = useResource((signal) => opsApi.workerLogs(api, id, OUTPUT_LINES, signal), {
    refreshMs: isRunning ? OUTPUT_REFRESH_MS : 0,
    onUnauthorized,
  });
  useLiveUpdates(["workers", "spend"], () => {
    facts.reload();
    output.reload();
  });
  const action = useAction(() => {
    facts.reload();
    output.reload();
  }, onUnauthorized);
  const slugs = useProjectSlugs(api, [worker?.projectId ?? null]);

  const terminate = () => {
    if (!worker) return;
    const sure = window.confirm(
      `Terminate worker ${shortId(worker.id)}? Its sandbox and workspace are removed and it cannot be resumed.`,
    );
    if (sure) void action.run("terminate", () => opsApi.terminateWorker(api, worker.id));
  };

  return (
    <AdminPage
      title={`Worker ${shortId(id)}`}
      isLoading={facts.isLoading && !facts.data}
      error={facts.error}
      onRetry={facts.reload}
    >
      <p>
        <Link href="/admin/workers">All workers</Link>
      </p>
      {worker && facts.data && (
        <div className="record">
          <fieldset className="actions">
            <legend className="visually-hidden">Worker actions</legend>
            <button
              type="button"
              disabled={action.busy !== null || worker.state !== "running"}
              onClick={() => void action.run("pause", () => opsApi.pauseWorker(api, worker.id))}
            >
              {action.busy === "pause" ? "Pausing…" : "Pause"}
            </button>
            <button
              type="button"
              disabled={action.busy !== null || worker.state !== "paused"}
              onClick={() => void action.run("resume", () => opsApi.resumeWorker(api, worker.id))}
            >
              {action.busy === "resume" ? "Resuming…" : "Resume"}
            </button>
            <button
              type="button"
              className="danger"
              disabled={action.busy !== null || FINAL_STATES.has(worker.state)}
              onClick={terminate}
            >
              {action.busy === "terminate" ? "Terminating…" : "Terminate"}
            </button>
          </fieldset>
          <ActionError error={action.error} what="do that" />
          <WorkerFacts worker={worker} slugs={slugs} />
          <Usage usage={facts.data.usage} />
        </div>
      )}
      <section aria-labelledby="output-title" className="output">
        <h3 id="output-title">Live output</h3>
        {output.error && (
          <p className="alert" role="alert">
            Could not read the output: {output.error.message}
          </p>
        )}
        <Output lines={output.data ?? []} />
      </section>
    </AdminPage>
  );
}

function WorkerFacts({ worker, slugs }: { worker: WorkerStatus; slugs: Record<string, string> }) {
  return (
    <dl className="facts" data-testid="worker-facts">
      <dt>State</dt>
      <dd data-testid="worker-state">
        <span className={`state state--${worker.state}`}>{worker.state}</span>
        {worker.isBusy ? " (in a turn)" : ""}
      </dd>
      <dt>Role</dt>
      <dd>{worker.role}</dd>
      <dt>Backend</dt>
      <dd>
        {worker.backend} on {worker.runtime}
        {worker.hasSandbox ? "" : " (no sandbox)"}
      </dd>
      <dt>Project</dt>
      <dd>
        <ProjectLink id={worker.projectId} slugs={slugs} />
      </dd>
      <dt>Run</dt>
      <dd>
        {worker.runId ? <Link href={`/admin/runs/${worker.runId}`}>{shortId(worker.runId)}</Link> : "none"}
      </dd>
      <dt>Session</dt>
      <dd>{worker.sessionId ? <code>{worker.sessionId}</code> : "none yet"}</dd>
      <dt>Context size</dt>
      <dd data-testid="worker-context">{worker.contextTokens.toLocaleString()} tokens</dd>
      <dt>Last activity</dt>
      <dd>
        <When at={worker.lastActivityAt} />
      </dd>
      <dt>Ends at the latest</dt>
      <dd>
        <When at={worker.expiresAt} />
      </dd>
      <dt>Last report</dt>
      <dd>{worker.report ? `${worker.report.status}: ${worker.report.summary}` : "none"}</dd>
    </dl>
  );
}

function cost(totals: UsageTotals) {
  return (
    <>
      {dollars(totals.costUsd)}
      {totals.estimatedCostUsd > 0 && (
        <span className="estimate"> (of which {dollars(totals.estimatedCostUsd)} estimated)</span>
      )}
    </>
  );
}

function Usage({ usage }: { usage: WorkerUsage }) {
  const { total } = usage;
  return (
    <section aria-labelledby="usage-title" data-testid="worker-usage">
      <h3 id="usage-title">Tokens and cost</h3>
      <p>
        {total.inputTokens.toLocaleString()} tokens in, {total.outputTokens.toLocaleString()} out (
        {total.cacheReadTokens.toLocaleString()} read from cache, {total.cacheWriteTokens.toLocaleString()}{" "}
        written), {total.calls} call{total.calls === 1 ? "" : "s"}: {cost(total)}
      </p>
      {usage.byModel.length > 0 && (
        <table className="records">
          <caption>By backend and model</caption>
          <thead>
            <tr>
              <th scope="col">Backend · model</th>
              <th scope="col">Calls</th>
              <th scope="col">Tokens in</th>
              <th scope="col">Tokens out</th>
              <th scope="col">Cost</th>
            </tr>
          </thead>
          <tbody>
            {usage.byModel.map((row) => (
              <tr key={`${row.backend}/${row.model}`}>
                <th scope="row">
                  {row.backend} · {row.model}
                </th>
                <td className="number">{row.calls}</td>
                <td className="number">{row.inputTokens.toLocaleString()}</td>
                <td className="number">{row.outputTokens.toLocaleString()}</td>
                <td className="number">{cost(row)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The output's newest lines, kept scrolled to the end unless the reader scrolled up. */
function Output({ lines }: { lines: string[] }) {
  const box = useRef<HTMLPreElement>(null);
  const text = lines.join("\n");
  // biome-ignore lint/correctness/useExhaustiveDependencies: scrolls when the text changes.
  useEffect(() => {
    const el = box.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [text]);
  return (
    <pre ref={box} className="output__text" role="log" aria-label="Live output" data-testid="worker-output">
      {text || "No output yet in this process."}
    </pre>
  );
}
