// The engine's read side for the API: list, stable pages with cursors, one alert by id. An open alert is shown
// with the reason it is muted; a resolved one (from the bounded history) as it was published.
import type { AlertRecord } from '../../protocol/index.ts';
import type { Alert, AlertState } from './alert.ts';
import type { AlertTable } from './alert-table.ts';
import { AlertError } from './errors.ts';

export interface AlertView extends AlertRecord {
  announced: boolean;
  /** Why it is not announced (silence, maintenance, site-offline, grouped, composite, group-wait). */
  suppressedBy?: string;
}

export interface AlertPage {
  alerts: AlertView[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

export interface AlertFilter {
  state?: string;
  site?: string;
  includeResolved?: boolean;
}

const STATE_ORDER: readonly AlertState[] = ['pending', 'firing', 'acknowledged', 'resolved'];

type Position = { since: number; id: string };

/** Stable page order: newest start first, then id (neither changes during an alert's life). */
function pageOrder(x: Position, y: Position): number {
  return y.since - x.since || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
}

function encodeCursor(a: Position): string {
  return Buffer.from(`${a.since}:${a.id}`, 'utf8').toString('base64url');
}

function decodeCursor(c: string): Position | undefined {
  const m = /^(\d{1,16}):(.{1,256})$/.exec(Buffer.from(c, 'base64url').toString('utf8'));
  return m === null ? undefined : { since: Number(m[1]), id: m[2] ?? '' };
}

/** A resolved alert of the history was announced, unless it was recorded from replayed readings (never paged). */
const resolvedView = (r: AlertRecord): AlertView => ({ ...r, announced: r.late !== true });

export class AlertQueries {
  /** The open alerts in page order, sorted again only when the table's version moved. */
  private sorted: { version: number; rows: Alert[] } | undefined;

  constructor(
    private readonly table: AlertTable,
    private readonly history: () => readonly AlertRecord[],
    private readonly view: (a: Alert, now: number) => AlertView,
  ) {}

  list(filter: AlertFilter, now: number): AlertView[] {
    const views: AlertView[] = [...this.table.values()].map((a) => this.view(a, now));
    if (filter.includeResolved === true || filter.state === 'resolved') views.push(...this.history().map(resolvedView));
    return views
      .filter((v) => (filter.state === undefined || v.state === filter.state) && (filter.site === undefined || v.site === filter.site))
      .sort((x, y) => STATE_ORDER.indexOf(x.state) - STATE_ORDER.indexOf(y.state) || y.updatedAt - x.updatedAt);
  }

  /**
   * One page of alerts in a stable order (newest start first, then id): following `nextCursor` returns every
   * alert present throughout exactly once. Views are built for the page only.
   */
  page(q: AlertFilter & { limit: number; cursor?: string }, now: number): AlertPage {
    let after: Position | undefined;
    if (q.cursor !== undefined) {
      after = decodeCursor(q.cursor);
      if (after === undefined) throw new AlertError('E_ALERT_INPUT', 'cursor: not a cursor this API handed out');
    }
    const matches = (x: { state: string; site: string }): boolean => (q.state === undefined || x.state === q.state) && (q.site === undefined || x.site === q.site);
    const rows: (Alert | AlertRecord)[] = [];
    if (q.includeResolved === true || q.state === 'resolved') {
      // With the (bounded) history merged in: filter and sort them together.
      const keep = (x: Alert | AlertRecord): boolean => matches(x) && (after === undefined || pageOrder(after, x) < 0);
      rows.push(...[...this.table.values()].filter(keep), ...this.history().filter(keep));
      rows.sort(pageOrder);
    } else {
      // Open alerts only: the sorted order is kept between requests; a page costs a binary search and a scan.
      const sorted = this.sortedAlerts();
      let lo = 0;
      let hi = sorted.length;
      while (after !== undefined && lo < hi) {
        const mid = (lo + hi) >> 1;
        const m = sorted[mid];
        if (m !== undefined && pageOrder(after, m) >= 0) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < sorted.length && rows.length <= q.limit; i++) {
        const a = sorted[i];
        if (a !== undefined && matches(a)) rows.push(a);
      }
    }
    const slice = rows.slice(0, q.limit);
    const alerts = slice.map((r) => ('key' in r ? this.view(r, now) : resolvedView(r)));
    const last = slice.at(-1);
    return { alerts, ...(rows.length > q.limit && last !== undefined ? { nextCursor: encodeCursor(last) } : {}) };
  }

  get(id: string, now: number): AlertView | undefined {
    const a = this.table.findById(id);
    if (a !== undefined) return this.view(a, now);
    const r = this.history().find((x) => x.id === id);
    return r === undefined ? undefined : resolvedView(r);
  }

  private sortedAlerts(): Alert[] {
    if (this.sorted?.version !== this.table.version) this.sorted = { version: this.table.version, rows: [...this.table.values()].sort(pageOrder) };
    return this.sorted.rows;
  }
}
