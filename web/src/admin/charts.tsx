import type { ReactNode } from "react";

/**
 * Charts drawn by hand in inline SVG. Each is a figure with a caption; the drawing is hidden from
 * screen readers, who read the table given as `table` (shown, or visually hidden when `tableHidden`).
 */
export function ChartFigure({
  caption,
  table,
  tableHidden = false,
  children,
  testId,
}: {
  caption: string;
  table: ReactNode;
  tableHidden?: boolean;
  children: ReactNode;
  testId: string;
}) {
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption className="chart__caption">{caption}</figcaption>
      <div aria-hidden="true">{children}</div>
      <div className={tableHidden ? "visually-hidden" : "chart__table"}>{table}</div>
    </figure>
  );
}

/** The pattern estimated parts are filled with (one per page; `url(#estimate-hatch)`). */
export function HatchDefs() {
  return (
    <svg width="0" height="0" className="chart__defs" aria-hidden="true" focusable="false">
      <defs>
        <pattern
          id="estimate-hatch"
          width="6"
          height="6"
          patternUnits="userSpaceOnUse"
          patternTransform="rotate(45)"
        >
          <rect width="6" height="6" className="chart__estimate-bg" />
          <line x1="0" y1="0" x2="0" y2="6" className="chart__estimate-line" strokeWidth="3" />
        </pattern>
      </defs>
    </svg>
  );
}

const WIDTH = 720;
const HEIGHT = 180;
const PAD = { left: 56, right: 8, top: 8, bottom: 24 };

/** A bar per day, each split into the provider-reported part (solid) and the estimated part (hatched). */
export function StackedDayBars({
  days,
  format,
}: {
  days: { day: string; exact: number; estimated: number }[];
  format: (value: number) => string;
}) {
  const max = Math.max(...days.map((d) => d.exact + d.estimated), 0);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const step = plotW / Math.max(days.length, 1);
  const barW = Math.max(step * 0.7, 1);
  const y = (value: number) => (max > 0 ? (value / max) * plotH : 0);
  const labelEvery = Math.ceil(days.length / 8);
  return (
    <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} className="chart__svg" role="presentation">
      <line
        x1={PAD.left}
        x2={WIDTH - PAD.right}
        y1={HEIGHT - PAD.bottom}
        y2={HEIGHT - PAD.bottom}
        className="chart__axis"
      />
      <text x={PAD.left - 6} y={PAD.top + 10} textAnchor="end" className="chart__label">
        {format(max)}
      </text>
      <text x={PAD.left - 6} y={HEIGHT - PAD.bottom} textAnchor="end" className="chart__label">
        {format(0)}
      </text>
      {days.map((d, i) => {
        const x = PAD.left + i * step + (step - barW) / 2;
        const exactH = y(d.exact);
        const estimatedH = y(d.estimated);
        const base = HEIGHT - PAD.bottom;
        return (
          <g key={d.day}>
            <rect x={x} y={base - exactH} width={barW} height={exactH} className="chart__bar" />
            <rect
              x={x}
              y={base - exactH - estimatedH}
              width={barW}
              height={estimatedH}
              fill="url(#estimate-hatch)"
              className="chart__bar--estimate"
            />
            {i % labelEvery === 0 && (
              <text x={x + barW / 2} y={HEIGHT - 6} textAnchor="middle" className="chart__label">
                {d.day.slice(5)}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

/** Lines over the days, one per series (each with its own class for its colour). */
export function DayLines({
  days,
  series,
  format,
}: {
  days: string[];
  series: { name: string; className: string; values: number[] }[];
  format: (value: number) => string;
}) {
  const max = Math.max(...series.flatMap((s) => s.values), 0);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (days.length > 1 ? (i / (days.length - 1)) * plotW : plotW / 2);
  const y = (value: number) => HEIGHT - PAD.bottom - (max > 0 ? (value / max) * plotH : 0);
  const labelEvery = Math.ceil(days.length / 8);
  return (
    <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} className="chart__svg" role="presentation">
      <line
        x1={PAD.left}
        x2={WIDTH - PAD.right}
        y1={HEIGHT - PAD.bottom}
        y2={HEIGHT - PAD.bottom}
        className="chart__axis"
      />
      <text x={PAD.left - 6} y={PAD.top + 10} textAnchor="end" className="chart__label">
        {format(max)}
      </text>
      <text x={PAD.left - 6} y={HEIGHT - PAD.bottom} textAnchor="end" className="chart__label">
        {format(0)}
      </text>
      {series.map((s) => (
        <polyline
          key={s.name}
          points={s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}
          className={`chart__line ${s.className}`}
          fill="none"
        />
      ))}
      {days.map((day, i) =>
        i % labelEvery === 0 ? (
          <text key={day} x={x(i)} y={HEIGHT - 6} textAnchor="middle" className="chart__label">
            {day.slice(5)}
          </text>
        ) : null,
      )}
    </svg>
  );
}

/** One horizontal bar per row (exact part solid, estimated part hatched), its label on the left. */
export function HorizontalBars({
  rows,
  format,
}: {
  rows: { key: string; label: string; exact: number; estimated: number }[];
  format: (value: number) => string;
}) {
  const rowH = 22;
  const labelW = 200;
  const valueW = 90;
  const height = rows.length * rowH + 4;
  const max = Math.max(...rows.map((r) => r.exact + r.estimated), 0);
  const plotW = WIDTH - labelW - valueW;
  const w = (value: number) => (max > 0 ? (value / max) * plotW : 0);
  return (
    <svg viewBox={`0 0 ${WIDTH} ${height}`} className="chart__svg" role="presentation">
      {rows.map((r, i) => {
        const top = i * rowH + 2;
        const label = r.label.length > 28 ? `${r.label.slice(0, 27)}…` : r.label;
        return (
          <g key={r.key}>
            <text x={labelW - 6} y={top + 15} textAnchor="end" className="chart__label">
              {label}
            </text>
            <rect x={labelW} y={top + 3} width={w(r.exact)} height={rowH - 6} className="chart__bar" />
            <rect
              x={labelW + w(r.exact)}
              y={top + 3}
              width={w(r.estimated)}
              height={rowH - 6}
              fill="url(#estimate-hatch)"
              className="chart__bar--estimate"
            />
            <text x={labelW + w(r.exact + r.estimated) + 6} y={top + 15} className="chart__label">
              {r.estimated > 0 ? "≈ " : ""}
              {format(r.exact + r.estimated)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
