import { type FormEvent, useState } from "react";
import { useLocation, useSearch } from "wouter";
import type { AdminApi } from "./admin-api";
import { ChartFigure, DayLines, HatchDefs, HorizontalBars, StackedDayBars } from "./charts";
import { useLiveUpdates } from "./live";
import { AdminPage } from "./page";
import type { SpendFigures, SpendReport } from "./spend-contract";
import { queryOf, spendReport } from "./spend-logs-api";
import { useResource } from "./use-resource";

/** Rows each breakdown chart draws (its table lists them all). */
const CHART_ROWS = 10;

/** Dollars with cents, or finer below a cent so small spends do not read as $0.00. */
export function dollars(value: number): string {
  if (value === 0) return "$0";
  return value >= 0.01 ? `$${value.toFixed(2)}` : `$${value.toFixed(4)}`;
}
const tokens = (value: number) => value.toLocaleString("en-US");

/** A cost as shown in tables: "≈" before a figure that is all estimate, the estimated part beside a mixed one. */
function Cost({ figures }: { figures: SpendFigures }) {
  const { costUsd, estimatedCostUsd } = figures;
  if (estimatedCostUsd > 0 && estimatedCostUsd >= costUsd - 1e-9) {
    return (
      <span className="estimate" title="estimated">
        ≈ {dollars(costUsd)}
      </span>
    );
  }
  return (
    <>
      {dollars(costUsd)}
      {estimatedCostUsd > 0 && <span className="estimate"> (≈ {dollars(estimatedCostUsd)} estimated)</span>}
    </>
  );
}

/**
 * The Spend page: tokens and cost of a period of UTC days (in the address, `?from=&to=`; the last
 * 30 days by default) per day, per project, per user and per backend and model, as charts with a
 * table each. Dollars priced by our own table rather than reported by the provider are marked "≈".
 */
export function Spend({ api, onUnauthorized }: { api: AdminApi; onUnauthorized(): void }) {
  const search = new URLSearchParams(useSearch());
  const period = { from: search.get("from") ?? undefined, to: search.get("to") ?? undefined };
  const key = `${period.from ?? ""}/${period.to ?? ""}`;
  return <SpendOfPeriod key={key} api={api} period={period} onUnauthorized={onUnauthorized} />;
}

/** The page for one period (a new period in the address mounts it anew, and reads again). */
function SpendOfPeriod({
  api,
  period,
  onUnauthorized,
}: {
  api: AdminApi;
  period: { from?: string | undefined; to?: string | undefined };
  onUnauthorized(): void;
}) {
  const [, navigate] = useLocation();
  const report = useResource((signal) => spendReport(api, period, signal), { onUnauthorized });
  // New usage (and a project renamed or moved to another owner) changes the figures.
  useLiveUpdates(["spend", "projects", "users"], report.reload);
  const data = report.data;
  return (
    <AdminPage
      title="Spend"
      isLoading={report.isLoading && !data}
      error={report.error}
      onRetry={report.reload}
    >
      {(data || report.error) && (
        <PeriodForm
          from={period.from ?? data?.from ?? ""}
          to={period.to ?? data?.to ?? ""}
          onChange={(from, to) => navigate(`/admin/spend${queryOf({ from, to })}`)}
        />
      )}
      {data && <SpendBody data={data} />}
    </AdminPage>
  );
}

function PeriodForm({
  from,
  to,
  onChange,
}: {
  from: string;
  to: string;
  onChange(from: string, to: string): void;
}) {
  const [draft, setDraft] = useState({ from, to });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onChange(draft.from, draft.to);
  };
  return (
    <form className="spend__period" onSubmit={submit} aria-label="Period">
      <label>
        From (UTC)
        <input
          type="date"
          value={draft.from}
          onChange={(e) => setDraft({ ...draft, from: e.target.value })}
        />
      </label>
      <label>
        To (UTC)
        <input type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
      </label>
      <button type="submit">Show period</button>
    </form>
  );
}

/** A cost as the charts draw it: the provider-reported part and the estimated part. */
const split = (f: SpendFigures) => ({
  exact: Math.max(f.costUsd - f.estimatedCostUsd, 0),
  estimated: f.estimatedCostUsd,
});

function SpendBody({ data }: { data: SpendReport }) {
  return (
    <div className="spend">
      <HatchDefs />
      <section className="spend__totals" aria-labelledby="spend-totals-title" data-testid="spend-totals">
        <h3 id="spend-totals-title">
          {data.from} to {data.to} (UTC)
        </h3>
        <p>
          <strong>
            <Cost figures={data.totals} />
          </strong>{" "}
          · {tokens(data.totals.inputTokens)} tokens in, {tokens(data.totals.outputTokens)} out,{" "}
          {tokens(data.totals.cacheReadTokens + data.totals.cacheWriteTokens)} cache · {data.totals.calls}{" "}
          calls
          {data.totals.unpricedCalls > 0 && (
            <> · {data.totals.unpricedCalls} calls without a price (counted as $0)</>
          )}
        </p>
        <p className="spend__legend" data-testid="estimate-legend">
          <svg width="28" height="14" aria-hidden="true">
            <rect width="28" height="14" className="chart__bar" />
          </svg>{" "}
          reported by the provider ·{" "}
          <svg width="28" height="14" aria-hidden="true">
            <rect width="28" height="14" fill="url(#estimate-hatch)" />
          </svg>{" "}
          <span className="estimate">≈ estimated</span>: priced by the orchestrator's own price table from
          token counts, not reported by the provider.
        </p>
      </section>

      <ChartFigure
        caption="Cost per day"
        testId="chart-cost-per-day"
        tableHidden
        table={
          <FiguresTable
            caption="Cost and tokens per day"
            label="Day (UTC)"
            rows={data.days.map((d) => ({ key: d.day, label: d.day, figures: d }))}
          />
        }
      >
        <StackedDayBars days={data.days.map((d) => ({ day: d.day, ...split(d) }))} format={dollars} />
      </ChartFigure>

      <ChartFigure
        caption="Tokens per day (input and output)"
        testId="chart-tokens-per-day"
        tableHidden
        table={
          <FiguresTable
            caption="Tokens per day"
            label="Day (UTC)"
            rows={data.days.map((d) => ({ key: d.day, label: d.day, figures: d }))}
          />
        }
      >
        <DayLines
          days={data.days.map((d) => d.day)}
          series={[
            { name: "input", className: "chart__line--input", values: data.days.map((d) => d.inputTokens) },
            {
              name: "output",
              className: "chart__line--output",
              values: data.days.map((d) => d.outputTokens),
            },
          ]}
          format={tokens}
        />
        <p className="chart__key">
          <span className="chart__swatch chart__line--input" /> input tokens{" "}
          <span className="chart__swatch chart__line--output" /> output tokens
        </p>
      </ChartFigure>

      <Breakdown
        caption="Cost per project"
        label="Project"
        testId="chart-per-project"
        rows={data.projects.map((p) => ({
          key: p.projectId ?? "none",
          label: p.slug ? `${p.name ?? p.slug} (${p.slug})` : "No project (or deleted)",
          figures: p,
        }))}
      />
      <Breakdown
        caption="Cost per user (the project's owner)"
        label="User"
        testId="chart-per-user"
        rows={data.users.map((u) => ({ key: u.userId ?? "none", label: u.name ?? "No owner", figures: u }))}
      />
      <Breakdown
        caption="Cost per backend and model"
        label="Backend · model"
        testId="chart-per-model"
        rows={data.models.map((m) => ({
          key: `${m.backend}/${m.model}`,
          label: `${m.backend} · ${m.model}`,
          figures: m,
        }))}
      />
      <p className="dashboard__updated">
        Updated <time dateTime={data.generatedAt}>{new Date(data.generatedAt).toLocaleTimeString()}</time>
      </p>
    </div>
  );
}

function Breakdown({
  caption,
  label,
  rows,
  testId,
}: {
  caption: string;
  label: string;
  rows: Row[];
  testId: string;
}) {
  return (
    <ChartFigure
      caption={caption}
      testId={testId}
      table={<FiguresTable caption={caption} label={label} rows={rows} />}
    >
      {rows.length > 0 ? (
        <HorizontalBars
          rows={rows.slice(0, CHART_ROWS).map((r) => ({ key: r.key, label: r.label, ...split(r.figures) }))}
          format={dollars}
        />
      ) : null}
    </ChartFigure>
  );
}

interface Row {
  key: string;
  label: string;
  figures: SpendFigures;
}

function FiguresTable({ caption, label, rows }: { caption: string; label: string; rows: Row[] }) {
  return (
    <table className="counts spend__table">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{label}</th>
          <th scope="col">Cost</th>
          <th scope="col">Input tokens</th>
          <th scope="col">Output tokens</th>
          <th scope="col">Cache tokens</th>
          <th scope="col">Calls</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={6}>Nothing recorded in this period.</td>
          </tr>
        ) : (
          rows.map((row) => (
            <tr key={row.key}>
              <th scope="row">{row.label}</th>
              <td>
                <Cost figures={row.figures} />
              </td>
              <td>{tokens(row.figures.inputTokens)}</td>
              <td>{tokens(row.figures.outputTokens)}</td>
              <td>{tokens(row.figures.cacheReadTokens + row.figures.cacheWriteTokens)}</td>
              <td>{row.figures.calls}</td>
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}
