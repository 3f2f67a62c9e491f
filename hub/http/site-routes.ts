// GET /api/sites/:slug — one site's detail for the console's site page: its agents, link and uplink, probes (last
// value and 24 h series), the queue per counter and its displays, equipment, the Pi's health, delivery and recent
// alerts. InfluxDB is read with a few bounded queries (time window, series and rows capped, a timeout); a query that
// fails leaves its part empty and named in `missing`, the rest is answered (never a 500 for InfluxDB being away).
import type { FastifyPluginAsync } from 'fastify';
import type { InfluxDB } from 'influx';
import type { Logger } from 'pino';
import { z } from 'zod';
import { errorMessage } from '../../common/errors.ts';
import type { Registry } from '../agents/registry.ts';
import type { AlertView } from '../alerts/alert-queries.ts';
import type { ApiAuth } from '../auth/api-auth.ts';
import { Counter, type HubMetrics } from '../metrics.ts';
import { influxClient, type InfluxConnection } from '../storage/influx-schema.ts';
import { siteViews, type HttpDeps, type SiteAgentView, type SiteView } from './http.ts';

/** The window of the "last value" and the probe charts. */
export const SITE_WINDOW_MS = 24 * 3_600_000;
/** Buckets of the charts (144 a day per series). */
export const SITE_BUCKET = '10m';
/** Series read for the last values (all measurements of the site together). */
export const SITE_MAX_LATEST_SERIES = 300;
/** Probe targets charted, counters charted. */
export const SITE_MAX_CHART_SERIES = 32;
/** Rows of one chart series: 24 h in 10 min buckets, plus the partial buckets at both ends. */
const MAX_CHART_ROWS = 146;
export const SITE_MAX_ACTIVE_ALERTS = 50;
export const SITE_MAX_RESOLVED_ALERTS = 20;
/** Vietnam's day (UTC+7) for the queue chart. */
const VN_OFFSET_MS = 7 * 3_600_000;

/** The measurements whose last value the page shows. */
const LATEST_MEASUREMENTS = ['uplink', 'net_probe', 'queue', 'display', 'equipment', 'gpio', 'host', 'delivery'] as const;

export type SitePart = 'latest' | 'probeSeries' | 'queueSeries';

export interface SiteDetailDeps extends Pick<HttpDeps, 'registry' | 'agentState' | 'pointsToday' | 'bannedClients'> {
  registry: Pick<Registry, 'listSites' | 'listAgents' | 'getSite'>;
  /** InfluxQL reads (node-influx's queryRaw, epoch ms). */
  influx: Pick<InfluxDB, 'queryRaw'>;
  database: string;
  /** Each query's own bound. */
  queryTimeoutMs: number;
  /** The site's alerts, open and resolved (the engine's list). */
  alerts: (site: string) => AlertView[];
  metrics: HubMetrics;
  logger: Logger;
  now?: () => number;
}

type Num = number | null;

export interface SiteDetail {
  site: SiteView;
  asOf: number;
  window: { from: number; to: number; dayFrom: number; bucket: string };
  agents: (SiteAgentView & { configRev: string | number | null })[];
  uplinks: { agent: string; uplink: string | null; iface: string | null; since: Num; on4g: boolean; t: number }[];
  probes: { agent: string; target: string; method: string; up: Num; rttMs: Num; lossPct: Num; result: string | null; t: number }[];
  probeSeries: { target: string; t: number[]; rttMs: Num[]; lossPct: Num[] }[];
  counters: { agent: string; counter: string; currentNumber: Num; waiting: Num; servedTotal: Num; issuedTotal: Num; avgWaitS: Num; t: number }[];
  queueSeries: { counter: string; t: number[]; waiting: Num[] }[];
  displays: { agent: string; display: string; alive: Num; frozen: Num; lastSeenS: Num; shownNumber: Num; expectedNumber: Num; t: number }[];
  equipment: { agent: string; device: string; kind: string; fields: Record<string, number | string>; t: number }[];
  gpio: { agent: string; pin: string; name: string; state: Num; t: number }[];
  host: { agent: string; cpuPct: Num; tempC: Num; memPct: Num; diskPct: Num; throttled: Num; t: number }[];
  delivery: { agent: string; backlog: Num; oldestUnsentAgeS: Num; completenessPct: Num; latePoints: Num; livePoints: Num; t: number | null }[];
  alerts: { active: AlertView[]; resolved: AlertView[] };
  /** Parts that could not be read (InfluxDB away, a timeout): shown as missing, not as empty. */
  missing: { part: SitePart; error: string }[];
  /** Parts whose bound was reached (more series existed than are shown). */
  capped: string[];
}

const seriesSchema = z.object({
  name: z.string(),
  tags: z.record(z.string(), z.string()).optional(),
  columns: z.array(z.string()),
  values: z.array(z.array(z.unknown())).optional(),
});
const rawSchema = z.object({ results: z.array(z.object({ series: z.array(seriesSchema).optional(), error: z.string().optional() })) });
type Series = z.infer<typeof seriesSchema>;

/** A slug or tag value inside single quotes (the slug is from the registry; quoted anyway). */
function quoted(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The row's columns by name: numbers and strings kept, nulls dropped. */
function rowOf(s: Series, values: readonly unknown[]): Map<string, number | string> {
  const row = new Map<string, number | string>();
  s.columns.forEach((c, i) => {
    const v = values[i];
    if (typeof v === 'number' || typeof v === 'string') row.set(c, v);
    else if (typeof v === 'boolean') row.set(c, v ? 1 : 0);
  });
  return row;
}

const num = (row: Map<string, number | string>, k: string): Num => {
  const v = row.get(k);
  return typeof v === 'number' ? v : null;
};
const str = (row: Map<string, number | string>, k: string): string | null => {
  const v = row.get(k);
  return typeof v === 'string' ? v : null;
};

/** Midnight of today in Vietnam (UTC+7), epoch ms. */
export function vnDayStart(now: number): number {
  return Math.floor((now + VN_OFFSET_MS) / 86_400_000) * 86_400_000 - VN_OFFSET_MS;
}

export class SiteDetailReader {
  readonly queryFailures = new Counter('ioc_hub_site_detail_query_failures_total', 'InfluxDB reads of /api/sites/:slug that failed (the part is answered as missing)', 'part');
  readonly capped = new Counter('ioc_hub_site_detail_capped_total', 'Reads of /api/sites/:slug that reached their series bound (more series than shown)', 'part');
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly deps: SiteDetailDeps) {
    this.log = deps.logger.child({ component: 'site-detail' });
    this.now = deps.now ?? Date.now;
    deps.metrics.addCounter(this.queryFailures);
    deps.metrics.addCounter(this.capped);
  }

  /** undefined: no such site in the registry. */
  async read(slug: string): Promise<SiteDetail | undefined> {
    const { deps } = this;
    if (deps.registry.getSite(slug) === undefined) return undefined;
    const now = this.now();
    const site = siteViews({ ...deps, registry: { listSites: () => deps.registry.listSites().filter((s) => s.slug === slug), listAgents: () => deps.registry.listAgents().filter((a) => a.site === slug) } }, now)[0];
    if (site === undefined) return undefined;
    const from = now - SITE_WINDOW_MS;
    const dayFrom = vnDayStart(now);
    const detail: SiteDetail = {
      site,
      asOf: now,
      window: { from, to: now, dayFrom, bucket: SITE_BUCKET },
      agents: site.agents.map((a) => ({ ...a, configRev: deps.agentState.get(slug, a.agent)?.configRev ?? null })),
      uplinks: [],
      probes: [],
      probeSeries: [],
      counters: [],
      queueSeries: [],
      displays: [],
      equipment: [],
      gpio: [],
      host: [],
      delivery: [],
      alerts: this.alerts(slug),
      missing: [],
      capped: [],
    };
    const where = `"site" = ${quoted(slug)}`;
    const latest = `SELECT * FROM /^(${LATEST_MEASUREMENTS.join('|')})$/ WHERE ${where} AND time > ${from}ms AND time <= ${now}ms GROUP BY * ORDER BY time DESC LIMIT 1 SLIMIT ${SITE_MAX_LATEST_SERIES}`;
    const probes = `SELECT mean("rtt_ms") AS "rtt_ms", mean("loss_pct") AS "loss_pct" FROM "net_probe" WHERE ${where} AND time > ${from}ms AND time <= ${now}ms GROUP BY time(${SITE_BUCKET}), "target" fill(none) LIMIT ${MAX_CHART_ROWS} SLIMIT ${SITE_MAX_CHART_SERIES + 1}`;
    const queue = `SELECT max("waiting") AS "waiting" FROM "queue" WHERE ${where} AND time >= ${dayFrom}ms AND time <= ${now}ms GROUP BY time(${SITE_BUCKET}), "counter" fill(none) LIMIT ${MAX_CHART_ROWS} SLIMIT ${SITE_MAX_CHART_SERIES + 1}`;
    const [l, p, q] = await Promise.all([this.query('latest', latest, detail), this.query('probeSeries', probes, detail), this.query('queueSeries', queue, detail)]);
    if (l !== undefined) this.applyLatest(l, detail);
    if (p !== undefined) {
      for (const s of this.cappedSeries('probeSeries', p, detail)) {
        const rows = (s.values ?? []).map((v) => rowOf(s, v));
        detail.probeSeries.push({ target: s.tags?.target ?? '', t: rows.map((r) => num(r, 'time') ?? 0), rttMs: rows.map((r) => num(r, 'rtt_ms')), lossPct: rows.map((r) => num(r, 'loss_pct')) });
      }
    }
    if (q !== undefined) {
      for (const s of this.cappedSeries('queueSeries', q, detail)) {
        const rows = (s.values ?? []).map((v) => rowOf(s, v));
        detail.queueSeries.push({ counter: s.tags?.counter ?? '', t: rows.map((r) => num(r, 'time') ?? 0), waiting: rows.map((r) => num(r, 'waiting')) });
      }
    }
    // Delivery: the hub's own view of each agent (memory), with today's late/live points from its last `delivery` point.
    for (const a of detail.agents) {
      if (detail.delivery.some((d) => d.agent === a.agent)) continue;
      detail.delivery.push({ agent: a.agent, backlog: a.backlog, oldestUnsentAgeS: a.oldestUnsentAgeS, completenessPct: a.completenessPct, latePoints: null, livePoints: null, t: null });
    }
    return detail;
  }

  private alerts(slug: string): SiteDetail['alerts'] {
    const all = this.deps.alerts(slug);
    const active = all.filter((a) => a.state !== 'resolved');
    const resolved = all.filter((a) => a.state === 'resolved').sort((x, y) => y.updatedAt - x.updatedAt);
    return { active: active.slice(0, SITE_MAX_ACTIVE_ALERTS), resolved: resolved.slice(0, SITE_MAX_RESOLVED_ALERTS) };
  }

  /** The series of one chart query, at most SITE_MAX_CHART_SERIES (one more was asked for, to know). */
  private cappedSeries(part: SitePart, series: Series[], detail: SiteDetail): Series[] {
    if (series.length <= SITE_MAX_CHART_SERIES) return series;
    this.capped.inc(1, part);
    detail.capped.push(part);
    return series.slice(0, SITE_MAX_CHART_SERIES);
  }

  private async query(part: SitePart, influxql: string, detail: SiteDetail): Promise<Series[] | undefined> {
    try {
      const raw: unknown = await withTimeout(this.deps.influx.queryRaw(influxql, { database: this.deps.database, precision: 'ms' }), this.deps.queryTimeoutMs);
      const parsed = rawSchema.parse(raw);
      const error = parsed.results.find((r) => r.error !== undefined)?.error;
      if (error !== undefined) throw new Error(`InfluxDB: ${error}`);
      return parsed.results.flatMap((r) => r.series ?? []);
    } catch (err: unknown) {
      this.queryFailures.inc(1, part);
      this.log.warn({ part, err: errorMessage(err) }, 'site detail query failed');
      detail.missing.push({ part, error: errorMessage(err) });
      return undefined;
    }
  }

  private applyLatest(series: Series[], detail: SiteDetail): void {
    if (series.length >= SITE_MAX_LATEST_SERIES) {
      this.capped.inc(1, 'latest');
      detail.capped.push('latest');
    }
    for (const s of series) {
      const first = s.values?.[0];
      if (first === undefined) continue;
      const r = rowOf(s, first);
      const tags = s.tags ?? {};
      const agent = tags.agent ?? '';
      const t = num(r, 'time') ?? 0;
      switch (s.name) {
        case 'uplink':
          detail.uplinks.push({ agent, uplink: str(r, 'uplink'), iface: str(r, 'iface'), since: num(r, 'uplink_since'), on4g: num(r, 'on_4g') === 1 || str(r, 'uplink') === '4g', t });
          break;
        case 'net_probe':
          detail.probes.push({ agent, target: tags.target ?? '', method: tags.method ?? '', up: num(r, 'up'), rttMs: num(r, 'rtt_ms'), lossPct: num(r, 'loss_pct'), result: str(r, 'result'), t });
          break;
        case 'queue':
          detail.counters.push({ agent, counter: tags.counter ?? '', currentNumber: num(r, 'current_number'), waiting: num(r, 'waiting'), servedTotal: num(r, 'served_total'), issuedTotal: num(r, 'issued_total'), avgWaitS: num(r, 'avg_wait_s'), t });
          break;
        case 'display':
          detail.displays.push({ agent, display: tags.display ?? '', alive: num(r, 'alive'), frozen: num(r, 'frozen'), lastSeenS: num(r, 'last_seen_s'), shownNumber: num(r, 'shown_number'), expectedNumber: num(r, 'expected_number'), t });
          break;
        case 'equipment': {
          const fields: Record<string, number | string> = {};
          for (const [k, v] of r) if (k !== 'time') fields[k] = v;
          detail.equipment.push({ agent, device: tags.device ?? '', kind: tags.kind ?? '', fields, t });
          break;
        }
        case 'gpio':
          detail.gpio.push({ agent, pin: tags.pin ?? '', name: tags.name ?? '', state: num(r, 'state'), t });
          break;
        case 'host':
          detail.host.push({ agent, cpuPct: num(r, 'cpu_pct'), tempC: num(r, 'temp_c'), memPct: num(r, 'mem_pct'), diskPct: num(r, 'disk_pct'), throttled: num(r, 'throttled'), t });
          break;
        case 'delivery': {
          const a = detail.agents.find((x) => x.agent === agent);
          detail.delivery.push({
            agent,
            backlog: a?.backlog ?? num(r, 'backlog_depth'),
            oldestUnsentAgeS: a?.oldestUnsentAgeS ?? num(r, 'oldest_unsent_age_s'),
            completenessPct: a?.completenessPct ?? completeness(num(r, 'received_batches'), num(r, 'expected_batches')),
            latePoints: num(r, 'late_points'),
            livePoints: num(r, 'live_points'),
            t,
          });
          break;
        }
        default:
          break;
      }
    }
    const byKey = <T>(key: (x: T) => string) => (x: T, y: T): number => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0);
    detail.probes.sort(byKey((p) => `${p.target}\u0000${p.method}\u0000${p.agent}`));
    detail.counters.sort(byKey((c) => `${c.counter === 'all' ? '\uffff' : c.counter.padStart(8, '0')}\u0000${c.agent}`));
    detail.equipment.sort(byKey((e) => `${e.kind}\u0000${e.device}`));
  }
}

function completeness(received: Num, expected: Num): Num {
  if (received === null || expected === null) return null;
  return expected === 0 ? 100 : Math.round((1000 * received) / expected) / 10;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from InfluxDB within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The route: `sites:read` (a service token or a console session). */
export function siteRoutes(reader: SiteDetailReader, auth: ApiAuth): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { slug: string } }>('/api/sites/:slug', async (req, reply) => {
      if ((await auth.require(req, reply, 'sites:read')) === undefined) return reply;
      const slug = req.params.slug;
      const detail = /^[a-z0-9-]{1,64}$/.test(slug) ? await reader.read(slug) : undefined;
      if (detail === undefined) return reply.code(404).send({ code: 'E_SITE_NOT_FOUND', error: `no site "${slug.slice(0, 64)}" in the registry` });
      return detail;
    });
  };
}

/** The reader and its route as the hub wires them: its own InfluxDB client, each query bounded by 5 s at most. */
export function siteDetailRoutes(opts: Omit<SiteDetailDeps, 'influx' | 'database' | 'queryTimeoutMs'> & { influxConn: InfluxConnection; auth: ApiAuth }): FastifyPluginAsync {
  const { influxConn, auth, ...deps } = opts;
  const reader = new SiteDetailReader({ ...deps, influx: influxClient(influxConn), database: influxConn.database, queryTimeoutMs: Math.min(influxConn.timeoutMs, 5000) });
  return siteRoutes(reader, auth);
}
