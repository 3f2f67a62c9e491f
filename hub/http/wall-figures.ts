// The wall's headline figures that live in InfluxDB, not in the hub's memory: tickets issued today, the offices'
// average waiting time now, and from how many communes the public-service portal answers. Read with InfluxQL
// (the same definitions as the Grafana wall, per office: `counter=all`), cached for `cacheMs`, one read at a time.
// A figure that cannot be had (InfluxDB away, or no office reporting) is null — the wall shows it as unknown, not 0.
import { localDayStart } from '../../common/local-day.ts';
import { errorMessage } from '../errors.ts';

export interface WallFigureValues {
  /** Tickets issued today (local day, UTC+7) over the offices that reported a queue today; null: none did. */
  ticketsToday: number | null;
  ticketOffices: number;
  /** Mean of the offices' latest `avg_wait_s` within the freshness bound, s; null: no office reporting. */
  avgWaitS: number | null;
  waitOffices: number;
  /** Communes whose latest portal probe within the bound is up, of those reporting one; null: none reporting. */
  portalReachable: number | null;
  portalReporting: number;
  /** When these were read (epoch ms), and why not, when InfluxDB did not answer. */
  readAt: number;
  error?: string;
}

export type InfluxRows = Record<string, unknown>[];

export interface WallFiguresOptions {
  /** Runs one InfluxQL statement (the hub's node-influx client, bounded by its timeout). */
  query: (influxql: string) => Promise<InfluxRows>;
  cacheMs: number;
  freshForMs: number;
  portalTarget: string;
  now?: () => number;
  /** Counts each read by outcome (ok, failed): the figures' one bound is InfluxDB's answer. */
  onRead?: (outcome: 'ok' | 'failed') => void;
}

const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'boolean' ? Number(v) : undefined);

/** The three statements, for a given now (exported for the unit test). */
export function wallFigureQueries(now: number, freshForMs: number, portalTarget: string): { tickets: string; wait: string; portal: string } {
  const since = `time >= ${localDayStart(now)}ms AND time <= now()`;
  const fresh = `time > now() - ${Math.max(1, Math.round(freshForMs / 1000))}s AND time <= now()`;
  return {
    tickets: `SELECT max("issued_total") AS "issued" FROM "queue" WHERE "counter" = 'all' AND ${since} GROUP BY "site", "agent"`,
    wait: `SELECT last("avg_wait_s") AS "wait" FROM "queue" WHERE "counter" = 'all' AND ${fresh} GROUP BY "site", "agent"`,
    portal: `SELECT last("up") AS "up" FROM "net_probe" WHERE "target" = ${quote(portalTarget)} AND ${fresh} GROUP BY "site"`,
  };
}

export class WallFigures {
  private cached: WallFigureValues | undefined;
  private reading: Promise<WallFigureValues> | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: WallFiguresOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The figures, read again when older than cacheMs (callers meanwhile share one read). */
  get(): Promise<WallFigureValues> {
    const c = this.cached;
    if (c !== undefined && this.now() - c.readAt < this.opts.cacheMs) return Promise.resolve(c);
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<WallFigureValues> {
    const at = this.now();
    const q = wallFigureQueries(at, this.opts.freshForMs, this.opts.portalTarget);
    let values: WallFigureValues;
    try {
      const [tickets, wait, portal] = await Promise.all([this.opts.query(q.tickets), this.opts.query(q.wait), this.opts.query(q.portal)]);
      const issued = tickets.map((r) => num(r.issued)).filter((v) => v !== undefined);
      const waits = wait.map((r) => num(r.wait)).filter((v) => v !== undefined);
      const ups = portal.map((r) => num(r.up)).filter((v) => v !== undefined);
      values = {
        ticketsToday: issued.length === 0 ? null : issued.reduce((a, b) => a + b, 0),
        ticketOffices: issued.length,
        avgWaitS: waits.length === 0 ? null : Math.round(waits.reduce((a, b) => a + b, 0) / waits.length),
        waitOffices: waits.length,
        portalReachable: ups.length === 0 ? null : ups.filter((u) => u >= 0.5).length,
        portalReporting: ups.length,
        readAt: at,
      };
      this.opts.onRead?.('ok');
    } catch (err: unknown) {
      this.opts.onRead?.('failed');
      values = { ticketsToday: null, ticketOffices: 0, avgWaitS: null, waitOffices: 0, portalReachable: null, portalReporting: 0, readAt: at, error: errorMessage(err) };
    }
    this.cached = values;
    return values;
  }
}
