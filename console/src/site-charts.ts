// The site page's charts (uPlot, bundled): one line per series over shared time, times in Vietnam's (UTC+7).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  /** epoch ms */
  t: readonly number[];
  y: readonly (number | null)[];
}

const COLOURS = ['#0b5cad', '#b3131b', '#2f6f3e', '#a35a00', '#6b3fa0', '#007c89', '#8a5a44', '#c2185b'];

export interface Chart {
  /** Values drawn (non-null points of every series). */
  points: number;
  resize(width: number): void;
  destroy(): void;
}

const HOUR = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit', hour12: false });
const DAY = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit' });

/** `14:00` on the time axis (24 h, UTC+7), with the day under local midnight: `00:00\n02/12`. */
function hourLabel(s: number): string {
  const d = new Date(s * 1000);
  const hm = HOUR.format(d);
  return hm === '00:00' ? `${hm}\n${DAY.format(d)}` : hm;
}

/** Draws into `host` (emptied first); `unit` goes on the y axis and the legend values. */
export function drawChart(host: HTMLElement, series: readonly ChartSeries[], unit: string, range: { from: number; to: number }): Chart {
  host.replaceChildren();
  const tables: uPlot.AlignedData[] = series.map((s) => [s.t.map((x) => x / 1000), s.y.map((v) => v)]);
  const data: uPlot.AlignedData = tables.length === 0 ? [[]] : tables.length === 1 ? (tables[0] ?? [[]]) : uPlot.join(tables);
  let points = 0;
  for (const s of series) for (const v of s.y) if (v !== null) points++;
  const width = Math.max(200, host.clientWidth);
  const opts: uPlot.Options = {
    width,
    height: 200,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Asia/Ho_Chi_Minh'),
    scales: { x: { time: true, min: range.from / 1000, max: range.to / 1000 }, y: { range: (_u, min, max) => [0, Math.max(1, max * 1.1, min)] } },
    axes: [{ stroke: '#5a6672', grid: { stroke: '#e3e7eb' }, values: (_u, splits) => splits.map(hourLabel) }, { stroke: '#5a6672', grid: { stroke: '#e3e7eb' }, size: 44, values: (_u, vals) => vals.map((v) => `${v}`) }],
    series: [
      {},
      ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length] ?? '#0b5cad', width: 2, spanGaps: false, points: { show: true, size: 4 }, value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${Math.round(v * 10) / 10} ${unit}`) })),
    ],
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
  };
  const plot = new uPlot(opts, data, host);
  host.dataset.points = String(points);
  return {
    points,
    resize: (w) => plot.setSize({ width: Math.max(200, w), height: 200 }),
    destroy: () => plot.destroy(),
  };
}
