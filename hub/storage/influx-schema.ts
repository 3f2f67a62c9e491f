// InfluxDB schema beyond the database itself: rollup retention policies, the continuous queries that fill
// them, and the `site_info` measurement (registry names and coordinates) that the Grafana walls join on.
import { createHash } from 'node:crypto';
import { InfluxDB, type IPoint } from 'influx';
import type { Site } from '../agents/registry.ts';

/** Measurements whose numeric fields are downsampled (mean) into the rollup retention policies. */
export const ROLLUP_MEASUREMENTS = ['agent', 'net_probe', 'queue', 'equipment', 'host'] as const;

export interface RollupSpec {
  /** Retention policy the CQ writes into. */
  rp: string;
  duration: string;
  /** GROUP BY time() bucket. */
  every: string;
  /** RESAMPLE FOR: how far back each run recomputes, so points that arrive late (agent outbox drain) still count. */
  resampleFor: string;
}

export const ROLLUPS: readonly RollupSpec[] = [
  { rp: 'rollup_1m', duration: '400d', every: '1m', resampleFor: '15m' },
  { rp: 'rollup_1h', duration: '1825d', every: '1h', resampleFor: '3h' },
];

/** Retention policy of `site_info`: kept forever (one point per site, overwritten at each hub start). */
export const META_RETENTION_POLICY = 'meta';
export const SITE_INFO_MEASUREMENT = 'site_info';
/** Continuous queries we own start with this; others in the database are left alone. */
export const CQ_PREFIX = 'cq_rollup_';

export interface InfluxSchemaOptions {
  database: string;
  /** Retention policy the CQs read (the default `raw`). */
  sourceRp: string;
}

export interface ContinuousQuery {
  name: string;
  /** The CQ body (the SELECT ... INTO statement without time condition). */
  select: string;
  resampleFor: string;
}

function quoteIdent(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** `SELECT mean(*) INTO <rollup>.:MEASUREMENT FROM <raw>./^(m1|m2)$/ [WHERE] GROUP BY time(x), *` */
export function rollupSelect(spec: RollupSpec, opts: InfluxSchemaOptions, where = ''): string {
  const db = quoteIdent(opts.database);
  const from = `${db}.${quoteIdent(opts.sourceRp)}./^(${ROLLUP_MEASUREMENTS.join('|')})$/`;
  return `SELECT mean(*) INTO ${db}.${quoteIdent(spec.rp)}.:MEASUREMENT FROM ${from}${where === '' ? '' : ` WHERE ${where}`} GROUP BY time(${spec.every}), *`;
}

/**
 * The continuous queries wanted. The name carries a hash of the definition: InfluxDB refuses to create a CQ
 * whose name exists with another definition, so a changed definition gets a new name and the old one is dropped.
 */
export function continuousQueries(opts: InfluxSchemaOptions): ContinuousQuery[] {
  return ROLLUPS.map((spec) => {
    const select = rollupSelect(spec, opts);
    const hash = createHash('sha256').update(`${spec.resampleFor}\n${select}`).digest('hex').slice(0, 8);
    return { name: `${CQ_PREFIX}${spec.every}_${hash}`, select, resampleFor: spec.resampleFor };
  });
}

export interface SchemaReport {
  retentionPolicies: string[];
  created: string[];
  dropped: string[];
}

/**
 * Creates (or aligns) the rollup and meta retention policies and the rollup CQs. Idempotent: safe at every
 * hub start and with several hubs starting at once.
 */
export async function ensureInfluxSchema(influx: InfluxDB, opts: InfluxSchemaOptions): Promise<SchemaReport> {
  const { database } = opts;
  const existingRps = new Set((await influx.showRetentionPolicies(database)).map((rp) => rp.name));
  const rps = [...ROLLUPS.map((r) => ({ name: r.rp, duration: r.duration })), { name: META_RETENTION_POLICY, duration: 'INF' }];
  for (const { name, duration } of rps) {
    const rp = { database, duration, replication: 1, isDefault: false };
    if (existingRps.has(name)) {
      await influx.alterRetentionPolicy(name, rp);
      continue;
    }
    try {
      await influx.createRetentionPolicy(name, rp);
    } catch (err: unknown) {
      if (!/already exists/.test(String(err))) throw err;
      await influx.alterRetentionPolicy(name, rp);
    }
  }
  const wanted = continuousQueries(opts);
  const existing = (await influx.showContinousQueries(database)).map((cq) => cq.name);
  const dropped: string[] = [];
  for (const name of existing) {
    if (name.startsWith(CQ_PREFIX) && !wanted.some((w) => w.name === name)) {
      await influx.dropContinuousQuery(name, database);
      dropped.push(name);
    }
  }
  const created: string[] = [];
  for (const cq of wanted) {
    if (existing.includes(cq.name)) continue;
    try {
      await influx.createContinuousQuery(cq.name, cq.select, database, `RESAMPLE FOR ${cq.resampleFor}`);
      created.push(cq.name);
    } catch (err: unknown) {
      // Another hub created it between our SHOW and CREATE: same name means same definition.
      if (!/already exists/.test(String(err))) throw err;
    }
  }
  return { retentionPolicies: rps.map((r) => r.name), created, dropped };
}

/**
 * Runs the rollup SELECT ... INTO over a past range: after an import, or when data arrived later than the
 * CQs' RESAMPLE FOR window (an agent back after a day offline). Returns the points written per rollup.
 */
export async function backfillRollups(influx: InfluxDB, opts: InfluxSchemaOptions, since: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const spec of ROLLUPS) {
    const rows = await influx.query<{ written: number }>(rollupSelect(spec, opts, `time > now() - ${since}`), { database: opts.database });
    out[spec.rp] = rows.reduce((n, r) => n + (typeof r.written === 'number' ? r.written : 0), 0);
  }
  return out;
}

/**
 * One point per registry site. A fixed timestamp (epoch 0) makes each hub start overwrite the same point
 * (a point is measurement + tags + time), so restarts add nothing; `meta` keeps it forever.
 */
export function siteInfoPoints(sites: readonly Site[]): IPoint[] {
  return sites.map((s) => ({
    measurement: SITE_INFO_MEASUREMENT,
    tags: { site: s.slug, province: s.province, ...(s.area === '' ? {} : { area: s.area }) },
    // `name` is always there (the wall's commune list counts it); lat/lon only when known (the map draws those).
    fields: { name: s.name, ...(s.lat === undefined || s.lon === undefined ? {} : { lat: s.lat, lon: s.lon }), area_name: s.areaName },
    timestamp: 0,
  }));
}

export interface InfluxConnection {
  url: string;
  database: string;
  username?: string | undefined;
  password?: string | undefined;
  timeoutMs: number;
}

/** A node-influx client without retries of its own (the caller decides: ingest, or the whole schema setup). */
export function influxClient(conn: InfluxConnection): InfluxDB {
  const url = new URL(conn.url);
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  return new InfluxDB({
    host: url.hostname,
    port: url.port === '' ? (protocol === 'https' ? 443 : 8086) : Number(url.port),
    protocol,
    path: url.pathname === '/' ? undefined : url.pathname,
    database: conn.database,
    username: conn.username,
    password: conn.password,
    pool: { maxRetries: 0, requestTimeout: conn.timeoutMs },
  });
}

/** `site_info,area=…,province=…,site=…` as InfluxDB lists it (tags sorted; our slugs need no escaping). */
function seriesKey(p: IPoint): string {
  const tags = Object.entries(p.tags ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return [p.measurement ?? '', ...tags.map(([k, v]) => `${k}=${v}`)].join(',');
}

/**
 * Drops the site_info series of registry sites whose tags changed (a district the 2025 list no longer has, a
 * province merged into another): its point would otherwise stay beside the new one, and the wall could show the
 * old name. Returns the number of sites whose series were dropped (they are written again right after).
 */
async function dropStaleSiteInfo(influx: InfluxDB, database: string, points: readonly IPoint[]): Promise<number> {
  const wanted = new Set(points.map(seriesKey));
  const slugs = new Set(points.map((p) => p.tags?.site ?? ''));
  const rows = await influx.query<{ key: string }>(`SHOW SERIES FROM "${SITE_INFO_MEASUREMENT}"`, { database });
  const stale = new Set<string>();
  for (const { key } of rows) {
    const site = /(?:^|,)site=([a-z0-9-]+)(?:,|$)/.exec(key)?.[1];
    if (site !== undefined && slugs.has(site) && !wanted.has(key)) stale.add(site);
  }
  for (const site of stale) await influx.query(`DROP SERIES FROM "${SITE_INFO_MEASUREMENT}" WHERE "site" = '${site}'`, { database });
  return stale.size;
}

/** Writes `site_info` for every registry site (called by the hub once the database is ready). */
export async function writeSiteInfo(conn: InfluxConnection, sites: readonly Site[]): Promise<number> {
  if (sites.length === 0) return 0;
  const influx = influxClient(conn);
  const points = siteInfoPoints(sites);
  await dropStaleSiteInfo(influx, conn.database, points);
  for (let i = 0; i < points.length; i += 5000) {
    await influx.writePoints(points.slice(i, i + 5000), { database: conn.database, retentionPolicy: META_RETENTION_POLICY, precision: 'ms' });
  }
  return points.length;
}
