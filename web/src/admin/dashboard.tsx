import type { AdminApi } from "./admin-api";
import type { DashboardSummary, RunCount, SpendTotals } from "./contract";
import { useLiveUpdates } from "./live";
import { AdminPage, CountTable } from "./page";
import { useResource } from "./use-resource";

/** Dead letters are counted on the bus, which the change stream does not watch: read this often. */
const REFRESH_MS = 30_000;

const dollars = (value: number) => `$${value.toFixed(2)}`;
const runRows = (runs: RunCount[]) => runs.map((r) => ({ key: `${r.kind} · ${r.status}`, count: r.count }));

/**
 * The dashboard: projects by status, runs by kind and result (today and 7 days), workers by state,
 * spend (estimates marked), failing deployments and dead letters; read again when the store's
 * records change (the admin change stream), and every `REFRESH_MS` for the bus's dead letters.
 */
export function Dashboard({ api, onUnauthorized }: { api: AdminApi; onUnauthorized(): void }) {
  const summary = useResource((signal) => api.summary(signal), { refreshMs: REFRESH_MS, onUnauthorized });
  useLiveUpdates(["projects", "runs", "deployments", "workers", "spend"], summary.reload);
  const data = summary.data;
  return (
    <AdminPage
      title="Dashboard"
      isLoading={summary.isLoading && !data}
      error={summary.error}
      onRetry={summary.reload}
    >
      {data && <DashboardBody data={data} />}
    </AdminPage>
  );
}

function DashboardBody({ data }: { data: DashboardSummary }) {
  return (
    <div className="dashboard">
      <CountTable
        caption="Projects by status"
        label="Status"
        testId="projects-by-status"
        rows={data.projects.map((p) => ({ key: p.status, count: p.count }))}
      />
      <CountTable
        caption="Runs today (UTC)"
        label="Kind · result"
        testId="runs-today"
        rows={runRows(data.runs.today)}
      />
      <CountTable
        caption="Runs in the last 7 days"
        label="Kind · result"
        testId="runs-week"
        rows={runRows(data.runs.week)}
      />
      <CountTable
        caption="Workers by state"
        label="State"
        testId="workers-by-state"
        rows={data.workers.map((w) => ({ key: w.state, count: w.count }))}
      />
      <section className="dashboard__spend" aria-labelledby="spend-title" data-testid="spend">
        <h3 id="spend-title">Spend</h3>
        <dl>
          <Spend label="Today (UTC)" totals={data.spend.today} />
          <Spend label="This month" totals={data.spend.month} />
        </dl>
      </section>
      <section aria-labelledby="failing-title" data-testid="failing-deployments">
        <h3 id="failing-title">Failing deployments (7 days)</h3>
        {data.failingDeployments.length === 0 ? (
          <p>None.</p>
        ) : (
          <ul>
            {data.failingDeployments.map((d) => (
              <li key={d.id}>
                <strong>{d.projectSlug}</strong> at <code>{d.commitSha.slice(0, 12)}</code>: {d.status},{" "}
                <time dateTime={d.createdAt}>{new Date(d.createdAt).toLocaleString()}</time>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="dead-title" data-testid="dead-letters">
        <h3 id="dead-title">Dead letters</h3>
        {data.deadLetters.length === 0 ? (
          <p>None.</p>
        ) : (
          <ul>
            {data.deadLetters.map((d) => (
              <li key={d.stream}>
                <code>{d.stream}</code>: {d.count}
              </li>
            ))}
          </ul>
        )}
      </section>
      <p className="dashboard__updated">
        Updated <time dateTime={data.generatedAt}>{new Date(data.generatedAt).toLocaleTimeString()}</time>
      </p>
    </div>
  );
}

function Spend({ label, totals }: { label: string; totals: SpendTotals }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>
        {dollars(totals.costUsd)}
        {totals.estimatedCostUsd > 0 && (
          <span className="estimate"> (of which {dollars(totals.estimatedCostUsd)} estimated)</span>
        )}
        {" · "}
        {totals.inputTokens.toLocaleString()} tokens in, {totals.outputTokens.toLocaleString()} out,{" "}
        {totals.calls} calls
      </dd>
    </>
  );
}
