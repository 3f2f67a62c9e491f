// Every target of every panel (and every annotation and variable) of the committed dashboards, run against a real
// influxd filled through the real pipeline (simulated offices → MQTT → hub → InfluxDB), with Grafana's macros
// substituted: no error, a non-empty result, and the columns/labels the panel relies on.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATED_DIR } from '../dashboards/generate.ts';
import { interpolateInfluxQL } from '../dashboards/grafana-macros.ts';
import { Simulator } from '../edge/simulator.ts';
import { SimOffice } from '../edge/sim-office.ts';
import { backfillRollups, influxClient } from '../hub/storage/influx-schema.ts';
import { eventTopic, telemetryTopic, type Point } from '../protocol/index.ts';
import { connectAs, endClient, publishQos1 } from '../testkit/mqtt-client.ts';
import { COMMUNES_CSV, PROVINCE, startStack, type AgentCredentials, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';
import { parseCsv } from '../hub/agents/csv.ts';
import type { InfluxSeries } from '../testkit/influxd.ts';
import { localDayStart } from '../common/local-day.ts';

const LIVE_AGENTS = 4;
const HISTORY_AGENTS = 2;
const HISTORY_MS = 3 * 3_600_000;
const HISTORY_STEP_MS = 60_000;

let stack: Stack;
let sim: Simulator | undefined;
const clients: MqttClient[] = [];

interface Target {
  refId: string;
  query: string;
  resultFormat: 'time_series' | 'table';
  alias?: string;
  textColumn?: string;
  tagsColumn?: string;
}
interface Panel {
  title: string;
  type: string;
  targets?: Target[];
  timeFrom?: string;
  interval?: string;
  links?: { url?: string }[];
  transformations?: { id: string; options: Record<string, unknown> }[];
  fieldConfig?: { defaults?: { links?: { url?: string }[] }; overrides?: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[] };
  options?: { layers?: { location?: { latitude?: string; longitude?: string }; config?: { style?: { color?: { field?: string } } } }[] };
}
interface Dashboard {
  uid: string;
  timezone?: string;
  title: string;
  time: { from: string };
  panels: Panel[];
  annotations?: { list: { name: string; target?: Target }[] };
  templating?: { list: { name: string; query: string }[] };
}

/** A Tuesday 10:00 in Vietnam: SimOffice readings of an open, busy office whatever the time the test runs. */
function officeHoursShift(now: number): number {
  const vnNow = now + 7 * 3_600_000;
  const d = new Date(vnNow);
  const target = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - ((d.getUTCDay() + 5) % 7), 10, 0, 0);
  return target - vnNow;
}

/**
 * Three hours of one office, published through MQTT as the agent would after a WAN outage; a mains cut in the middle.
 * Its events (queue_event, gpio_event: the door opening at 07:30…) go on the event topic, the mains cut's too.
 */
async function publishHistory(agent: AgentCredentials, now: number): Promise<number> {
  const office = new SimOffice(agent.site, 7);
  const shift = officeHoursShift(now);
  const client = await connectAs(stack.mqttUrl, `${agent.site}/${agent.agent}`, agent.token);
  clients.push(client);
  let batch: Point[] = [];
  let events: Point[] = [];
  let seq = 1;
  let sent = 0;
  const publish = async (topic: string, points: Point[]): Promise<void> => {
    if (points.length === 0) return;
    // Marked as a replay, as the agent's link does (the wall counts the site as backfilling).
    const r = await publishQos1(client, topic, JSON.stringify({ seq: seq++, sentAt: Date.now(), late: true, backlog: { depth: 1, oldestT: now - HISTORY_MS }, points }));
    if (r !== 'acked') throw new Error(`history batch not acked: ${r}`);
    sent += points.length;
  };
  const flush = async (): Promise<void> => {
    await publish(telemetryTopic(agent.site, agent.agent), batch);
    await publish(eventTopic(agent.site, agent.agent), events);
    batch = [];
    events = [];
  };
  let wasCut = false;
  for (let t = now - HISTORY_MS; t <= now; t += HISTORY_STEP_MS) {
    const mainsCut = t > now - HISTORY_MS / 2 && t < now - HISTORY_MS / 2 + 10 * HISTORY_STEP_MS;
    for (const p of office.tick(t + shift, HISTORY_STEP_MS, { uptime_s: Math.round((t - now + HISTORY_MS) / 1000), outbox_depth: 0, dropped_total: 0 })) {
      const point: Point = { ...p, t };
      if (mainsCut && p.m === 'equipment' && p.tags?.kind === 'ups') point.fields = { battery_pct: 70, on_battery: 1, input_v: 0, load_pct: 40 };
      batch.push(point);
    }
    // Events carry the office's (shifted) time: back to the real one.
    for (const e of office.takeEvents()) events.push({ ...e, t: e.t - shift });
    if (mainsCut !== wasCut) events.push({ m: 'gpio_event', t, tags: { pin: '27', name: 'mains' }, fields: { state: mainsCut ? 0 : 1 } });
    wasCut = mainsCut;
    if (batch.length >= 1000) await flush();
  }
  await flush();
  return sent;
}

/** Alerts as hub/alerts writes them (its rules need hours of data to fire): one open per severity, one resolved. */
async function writeAlerts(sites: readonly string[], now: number): Promise<void> {
  const lines = ['critical', 'warning', 'info'].flatMap((severity, i) => {
    const site = sites[i % sites.length] ?? 'x';
    const state = severity === 'info' ? 'acknowledged' : 'firing';
    return [`alert,site=${site},rule=link_down,severity=${severity} state="${state}",value=0 ${now - 600_000 + i}`];
  });
  lines.push(`alert,site=${sites[0] ?? 'x'},rule=ups_on_battery,severity=warning state="firing",value=1 ${now - 1_200_000}`);
  lines.push(`alert,site=${sites[0] ?? 'x'},rule=ups_on_battery,severity=warning state="resolved",value=0 ${now - 900_000}`);
  const res = await fetch(`${stack.influx.url}/write?db=ioc&precision=ms`, { method: 'POST', body: lines.join('\n') });
  if (res.status !== 204) throw new Error(`alert write failed: ${res.status} ${await res.text()}`);
}

async function rawQuery(q: string, db = 'ioc'): Promise<InfluxSeries[]> {
  const body = await stack.influx.query(q, db);
  if (body.error !== undefined) throw new Error(`${body.error}\n  in: ${q}`);
  const r = body.results[0];
  if (r?.error !== undefined) throw new Error(`${r.error}\n  in: ${q}`);
  return r?.series ?? [];
}

function loadDashboards(): Dashboard[] {
  return readdirSync(GENERATED_DIR)
    .filter((f) => f.endsWith('.json') && f !== 'playlist.json')
    .map((f) => JSON.parse(readFileSync(join(GENERATED_DIR, f), 'utf8')) as Dashboard);
}

let site = '';

beforeAll(async () => {
  stack = await startStack({ agents: LIVE_AGENTS + HISTORY_AGENTS });
  const live = stack.agents.slice(0, LIVE_AGENTS);
  const history = stack.agents.slice(LIVE_AGENTS);
  site = history[0]?.site ?? '';
  const now = Date.now();
  sim = new Simulator({ hubUrl: stack.mqttUrl, agents: live, intervalMs: 500, seed: 3 });
  sim.start();
  // The hub sets up the schema and site_info in the background once InfluxDB answers.
  await waitUntil('site_info written', async () => (await rawQuery('SELECT count("name") FROM "meta"."site_info"')).length > 0, 30_000);
  for (const a of history) await publishHistory(a, now);
  await writeAlerts([site, ...live.map((a) => a.site)], now);
  await waitUntil('live points of every simulated office', async () => (await rawQuery('SELECT last("uptime_s") FROM "agent" WHERE time > now() - 1m GROUP BY "site"')).length >= LIVE_AGENTS, 30_000);
  // CQs only cover recent intervals; fill the rollups over the history as an operator would after an import.
  await backfillRollups(influxClient({ url: stack.influx.url, database: 'ioc', timeoutMs: 30_000 }), { database: 'ioc', sourceRp: 'raw' }, '4h');
}, 90_000);

afterAll(async () => {
  await sim?.stop();
  for (const c of clients) await endClient(c);
  await stack?.stop();
});

/** Columns of a result as Grafana sees them: table format turns tags into columns. */
function columnsOf(series: readonly InfluxSeries[]): Set<string> {
  const cols = new Set<string>();
  for (const s of series) {
    for (const c of s.columns) cols.add(c);
    for (const k of Object.keys(s.tags ?? {})) cols.add(k);
  }
  return cols;
}

/** Field names the panel's links, overrides, transformations and map layers refer to. */
function fieldsUsedBy(panel: Panel): { columns: Set<string>; labels: Set<string> } {
  const columns = new Set<string>();
  const labels = new Set<string>();
  const json = JSON.stringify([panel.links, panel.fieldConfig]);
  for (const m of json.matchAll(/__data\.fields\.(\w+)/g)) if (m[1] !== undefined) columns.add(m[1]);
  for (const m of json.matchAll(/__field\.labels\.(\w+)/g)) if (m[1] !== undefined) labels.add(m[1]);
  for (const o of panel.fieldConfig?.overrides ?? []) if (o.matcher.id === 'byName' && o.matcher.options !== 'Time') columns.add(o.matcher.options);
  for (const t of panel.transformations ?? []) {
    if (t.id === 'joinByField' && typeof t.options.byField === 'string') columns.add(t.options.byField);
    const binary = t.options.binary as { left?: unknown; right?: unknown } | undefined;
    if (t.id === 'calculateField' && binary !== undefined) for (const side of [binary.left, binary.right]) if (typeof side === 'string') columns.add(side);
  }
  for (const layer of panel.options?.layers ?? []) {
    for (const f of [layer.location?.latitude, layer.location?.longitude, layer.config?.style?.color?.field]) if (f !== undefined) columns.add(f);
  }
  // Fields a transformation makes (groupBy's "field (sum)", calculateField's alias) come from no target.
  for (const t of panel.transformations ?? []) {
    if (t.id === 'calculateField' && typeof t.options.alias === 'string') columns.delete(t.options.alias);
    const grouped = t.id === 'groupBy' ? (t.options.fields as Record<string, { aggregations: string[] }> | undefined) : undefined;
    for (const [field, spec] of Object.entries(grouped ?? {})) for (const a of spec.aggregations) columns.delete(`${field} (${a})`);
  }
  return { columns, labels };
}

/** Labels a target's legend alias names (`$tag_site`): every series must carry them. */
function aliasLabels(t: Target): string[] {
  return [...(t.alias ?? '').matchAll(/\$tag_(\w+)/g)].flatMap((m) => (m[1] === undefined ? [] : [m[1]]));
}

function expectShaped(series: readonly InfluxSeries[], where: string): void {
  expect(series.length, `${where}: empty result`).toBeGreaterThan(0);
  for (const s of series) {
    expect(s.columns[0], `${where}: first column`).toBe('time');
    const values = s.values ?? [];
    expect(values.length, `${where}: series without rows`).toBeGreaterThan(0);
  }
  const someValue = series.some((s) => (s.values ?? []).some((row) => row.slice(1).some((v) => v !== null)));
  expect(someValue, `${where}: only nulls`).toBe(true);
}

describe('generated dashboards against a real InfluxDB', () => {
  const dashboards = loadDashboards();

  it('has every dashboard and panel with at least one target', () => {
    expect(dashboards.map((d) => d.uid).sort()).toEqual(['ioc-alerts', 'ioc-connectivity', 'ioc-equipment', 'ioc-queues', 'ioc-site', 'ioc-wall']);
    for (const d of dashboards) for (const p of d.panels) expect(p.targets?.length ?? 0, `${d.title} / ${p.title}`).toBeGreaterThan(0);
  });

  for (const d of dashboards) {
    describe(d.title, () => {
      it('variables list real values', async () => {
        for (const v of d.templating?.list ?? []) {
          const series = await rawQuery(v.query);
          const values = series.flatMap((s) => (s.values ?? []).map((row) => row[1]));
          expect(values.length, `variable ${v.name}`).toBeGreaterThan(0);
          if (v.name === 'site') expect(values).toContain(site);
        }
      });

      it('every panel target runs and returns what the panel uses', async () => {
        const failures: string[] = [];
        for (const panel of d.panels) {
          const from = panel.timeFrom === undefined ? d.time.from : panel.timeFrom.startsWith('now') ? panel.timeFrom : `now-${panel.timeFrom}`;
          const ctx = { from, interval: panel.interval ?? '10s', vars: { site, target: 'hub' } };
          const used = fieldsUsedBy(panel);
          const seen = new Set<string>();
          for (const t of panel.targets ?? []) {
            const where = `${d.title} / ${panel.title} / ${t.refId}`;
            try {
              const series = await rawQuery(interpolateInfluxQL(t.query, ctx));
              expectShaped(series, where);
              for (const c of columnsOf(series)) seen.add(c);
              for (const label of [...used.labels, ...aliasLabels(t)]) for (const s of series) expect(s.tags?.[label], `${where}: label ${label}`).toBeDefined();
              if (t.resultFormat === 'table' && used.columns.has('site') && panel.type === 'table') expect(columnsOf(series).has('site'), `${where}: site column`).toBe(true);
            } catch (err: unknown) {
              failures.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
            }
          }
          for (const c of used.columns) if (!seen.has(c)) failures.push(`${d.title} / ${panel.title}: no target returns column ${c}`);
        }
        expect(failures).toEqual([]);
      });

      it('the alert annotation runs and has its text and tag columns', async () => {
        for (const a of d.annotations?.list ?? []) {
          const t = a.target;
          if (t === undefined) continue;
          const series = await rawQuery(interpolateInfluxQL(t.query, { from: d.time.from, interval: '10s', vars: { site } }));
          expectShaped(series, `${d.title} annotation`);
          const cols = columnsOf(series);
          for (const c of [t.textColumn, ...(t.tagsColumn ?? '').split(',')]) if (c !== undefined && c !== '') expect(cols.has(c), `annotation column ${c}`).toBe(true);
        }
      });
    });
  }

  it('the wall counts blind communes: registered minus seen', async () => {
    const registered = await rawQuery('SELECT count("name") FROM (SELECT last("name") AS "name" FROM "meta"."site_info" GROUP BY "site")');
    const total = registered[0]?.values?.[0]?.[1];
    expect(total).toBe(PROVINCE.communes);
    // the wall's own tile query says the same
    const wall = dashboards.find((d) => d.uid === 'ioc-wall');
    const tile = wall?.panels.find((p) => p.title.includes('Blind or backfilling'));
    const target = tile?.targets?.find((t) => t.refId === 'REGISTERED');
    expect(target).toBeDefined();
    const fromWall = await rawQuery(interpolateInfluxQL(target?.query ?? '', { from: 'now-6h', interval: '10s', vars: {} }));
    expect(fromWall[0]?.values?.[0]?.[1]).toBe(PROVINCE.communes);
  });

  it('the served-per-hour panel groups by province when the registry has no districts', async () => {
    const queues = dashboards.find((d) => d.uid === 'ioc-queues');
    const p = queues?.panels.find((x) => x.title.includes('Served per hour'));
    const series = await rawQuery(interpolateInfluxQL(p?.targets?.[0]?.query ?? '', { from: queues?.time.from ?? 'now-24h', interval: '1h', vars: {} }));
    expect(series.map((s) => s.tags)).toEqual([{ province: PROVINCE.slug, area: '' }]);
  });

  it("the wall lists all of Phú Thọ's 148 communes (none has coordinates), names exactly as in the 2025 file", async () => {
    const [header, ...rows] = parseCsv(readFileSync(COMMUNES_CSV, 'utf8'));
    const col = (name: string): number => header?.fields.indexOf(name) ?? -1;
    const expected = rows.filter((r) => r.fields[col('province_code')] === PROVINCE.code).map((r) => r.fields[col('commune_name')]);
    expect(expected).toHaveLength(PROVINCE.communes);
    const wall = dashboards.find((d) => d.uid === 'ioc-wall');
    const list = wall?.panels.find((p) => p.type === 'table' && p.title.includes('Every commune'));
    const target = list?.targets?.find((t) => t.refId === 'SITES');
    expect(target?.resultFormat).toBe('table');
    const series = await rawQuery(interpolateInfluxQL(target?.query ?? '', { from: 'now-6h', interval: '10s', vars: {} }));
    const names = series.map((s) => s.values?.[0]?.[s.columns.indexOf('name')]);
    expect(series).toHaveLength(PROVINCE.communes);
    expect(new Set(series.map((s) => s.tags?.site)).size).toBe(PROVINCE.communes);
    expect(names.sort()).toEqual(expected.sort());
    // the map's query has the same communes, with null coordinates: the geomap draws none of them, the list has them all
    const map = wall?.panels.find((p) => p.type === 'geomap');
    const mapSites = await rawQuery(interpolateInfluxQL(map?.targets?.find((t) => t.refId === 'SITES')?.query ?? '', { from: 'now-6h', interval: '10s', vars: {} }));
    expect(mapSites).toHaveLength(PROVINCE.communes);
    for (const s of mapSites) expect(s.values?.[0]?.[s.columns.indexOf('lat')]).toBeNull();
  });
});

/** A database of its own holding only the points a case writes: a panel's query then has one known answer. */
async function knownDatabase(db: string, lines: readonly string[], retentionPolicies: readonly string[] = []): Promise<void> {
  await rawQuery(`CREATE DATABASE "${db}"`, db);
  for (const rp of retentionPolicies) await rawQuery(`CREATE RETENTION POLICY "${rp}" ON "${db}" DURATION INF REPLICATION 1`, db);
  // Into the last policy created (the rollup the panel reads), else the default one.
  const rp = retentionPolicies.at(-1);
  const res = await fetch(`${stack.influx.url}/write?db=${db}&precision=ms${rp === undefined ? '' : `&rp=${rp}`}`, { method: 'POST', body: lines.join('\n') });
  if (res.status !== 204) throw new Error(`write to ${db} failed: ${res.status} ${await res.text()}`);
}

function panelQuery(dashboards: readonly Dashboard[], uid: string, title: string): { panel: Panel; query: string; dashboard: Dashboard } {
  const d = dashboards.find((x) => x.uid === uid);
  const panel = d?.panels.find((p) => p.title.includes(title));
  const query = panel?.targets?.[0]?.query;
  if (d === undefined || panel === undefined || query === undefined) throw new Error(`no panel "${title}" in ${uid}`);
  return { panel, query, dashboard: d };
}

const values = (series: readonly InfluxSeries[]): number[] => series.flatMap((s) => (s.values ?? []).flatMap((row) => row.slice(1).filter((v): v is number => typeof v === 'number')));

describe('queue figures are the office figures, not doubled by the office total (counter=all)', () => {
  const dashboards = loadDashboards();
  const db = 'known_queue';
  const now = Date.now();
  // Two counters and the office point (their sum), as the queue collector writes them; an earlier reading an hour before.
  const t0 = now - 65 * 60_000;
  const t1 = Math.max(localDayStart(now), now - 2 * 60_000);
  const point = (counter: string, t: number, waiting: number, issued: number, served: number): string =>
    `queue,site=known-xa,agent=pi-1,counter=${counter},province=known-tinh waiting=${waiting},issued_total=${issued},served_total=${served} ${t}`;
  const lines = [
    point('quay-1', t0, 1, 2, 1), point('quay-2', t0, 1, 1, 1), point('all', t0, 2, 3, 2),
    point('quay-1', t1, 2, 5, 4), point('quay-2', t1, 3, 4, 3), point('all', t1, 5, 9, 7),
  ];

  beforeAll(async () => {
    await knownDatabase(db, lines);
  });

  it('tickets today (wall) = the office issued_total: 9, not 18', async () => {
    const { query } = panelQuery(dashboards, 'ioc-wall', 'Tickets today');
    const series = await rawQuery(interpolateInfluxQL(query, { from: 'now/d', interval: '10s', vars: {} }), db);
    expect(values(series)).toEqual([9]);
  });

  it('people waiting per site (queues) = the office waiting: 5, not 10', async () => {
    const { query, dashboard } = panelQuery(dashboards, 'ioc-queues', 'People waiting per site');
    const series = await rawQuery(interpolateInfluxQL(query, { from: dashboard.time.from, interval: '1m', vars: {} }), db);
    expect(series.map((s) => s.tags?.site)).toEqual(['known-xa']);
    const v = values(series);
    expect(v.at(-1)).toBe(5);
    expect(Math.max(...v)).toBe(5);
  });

  it('served per hour (queues) = the office served_total increase: 5, not 10', async () => {
    const { query, dashboard } = panelQuery(dashboards, 'ioc-queues', 'Served per hour');
    const series = await rawQuery(interpolateInfluxQL(query, { from: dashboard.time.from, interval: '1h', vars: {} }), db);
    expect(series.map((s) => s.tags?.province)).toEqual(['known-tinh']);
    const v = values(series);
    expect(v.reduce((a, b) => a + b, 0)).toBe(5);
    expect(Math.max(...v)).toBe(5);
  });
});

describe('uptime per month is per calendar month in UTC+7', () => {
  const dashboards = loadDashboards();
  const db = 'known_month';
  // 2026-10-31 23:30 +07 (up) and 2026-11-01 00:30 +07 (down): one hour apart, two local months (and one UTC day).
  const lastOfOctober = Date.UTC(2026, 9, 31, 16, 30);
  const firstOfNovember = Date.UTC(2026, 9, 31, 17, 30);
  const lines = [`net_probe,site=known-xa,target=hub mean_up=1 ${lastOfOctober}`, `net_probe,site=known-xa,target=hub mean_up=0.5 ${firstOfNovember}`];

  beforeAll(async () => {
    await knownDatabase(db, lines, ['rollup_1h']);
  });

  it('two readings either side of local midnight on 31 October land in October and November', async () => {
    const { panel, query, dashboard } = panelQuery(dashboards, 'ioc-connectivity', 'Uptime per calendar month');
    expect(Date.now() - lastOfOctober, 'the points lie inside the panel range (the last 365 days)').toBeLessThan(365 * 86_400_000);
    const series = await rawQuery(interpolateInfluxQL(query, { from: `now-${panel.timeFrom ?? ''}`, interval: '1h', vars: { target: 'hub' } }), db);
    // Day bins start at local midnight: the two readings are in two of them.
    const rows = series.flatMap((s) => (s.values ?? []).map((row) => ({ t: typeof row[0] === 'number' ? row[0] : Date.parse(String(row[0])), site: s.tags?.site, up: Number(row[1]), hours: Number(row[2]) })));
    expect(rows.map((r) => r.t)).toEqual([localDayStart(lastOfOctober), localDayStart(firstOfNovember)]);
    // What Grafana then does: the month of each day in the dashboard's zone (UTC+7), up-hours over hours.
    expect(dashboard).toMatchObject({ timezone: 'Asia/Ho_Chi_Minh' });
    expect(panel.transformations?.find((t) => t.id === 'formatTime')?.options).toEqual({ timeField: 'Time', outputFormat: 'YYYY-MM', useTimezone: true });
    const months = new Map<string, { up: number; hours: number }>();
    for (const r of rows) {
      const month = new Date(r.t + 7 * 3_600_000).toISOString().slice(0, 7);
      const m = months.get(month) ?? { up: 0, hours: 0 };
      months.set(month, { up: m.up + r.up, hours: m.hours + r.hours });
    }
    expect([...months].map(([month, m]) => [month, m.up / m.hours])).toEqual([
      ['2026-10', 1],
      ['2026-11', 0.5],
    ]);
  });
});


describe('display, uplink and interface panels show the known readings', () => {
  const dashboards = loadDashboards();
  const db = 'known_health';
  const now = Date.now();
  const t0 = now - 30 * 60_000;
  const tMid = now - 20 * 60_000;
  const t1 = now - 2 * 60_000;
  const since = now - 3 * 60_000;
  const tags = 'site=known-xa,agent=pi-1';
  const lines = [
    `display,${tags},display=lobby alive=1,frozen=1,last_seen_s=2,shown_number=5,expected_number=9 ${t0}`,
    `display,${tags},display=lobby alive=1,frozen=0,last_seen_s=3,shown_number=9,expected_number=9 ${t1}`,
    `display,${tags},display=hall alive=1,frozen=0,last_seen_s=1 ${t0}`,
    `display,${tags},display=hall alive=0,frozen=0,last_seen_s=900 ${t1}`,
    `uplink,${tags} uplink="fibre",iface="eth0",uplink_since=${t0 - 3_600_000},since_s=3600,on_4g=0 ${t0}`,
    `uplink,${tags} uplink="4g",iface="wwan0",uplink_since=${since},since_s=60,on_4g=1 ${t1}`,
    `net_iface,${tags},iface=eth0 errors=10,drops=1,rx_bps=1000 ${t0}`,
    `net_iface,${tags},iface=eth0 errors=13,drops=1,rx_bps=1000 ${tMid}`,
    `net_iface,${tags},iface=eth0 errors=20,drops=4,rx_bps=1000 ${t1}`,
  ];
  const rowsOf = (series: readonly InfluxSeries[]): Record<string, unknown>[] =>
    series.flatMap((s) => (s.values ?? []).map((row) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, row[i]])) })));

  beforeAll(async () => {
    await knownDatabase(db, lines);
  });

  it('connectivity: the active uplink per site is 4G on wwan0 since the switch', async () => {
    const { query, dashboard } = panelQuery(dashboards, 'ioc-connectivity', 'Active uplink per site');
    const rows = rowsOf(await rawQuery(interpolateInfluxQL(query, { from: dashboard.time.from, interval: '1m', vars: { target: 'hub' } }), db));
    expect(rows).toEqual([expect.objectContaining({ site: 'known-xa', agent: 'pi-1', uplink: '4g', iface: 'wwan0', uplink_since: since, on_4g: 1 })]);
  });

  it('connectivity: interface errors and drops are the counters’ increase over the range (10 and 3)', async () => {
    const { query, dashboard } = panelQuery(dashboards, 'ioc-connectivity', 'Interface errors and drops');
    const rows = rowsOf(await rawQuery(interpolateInfluxQL(query, { from: dashboard.time.from, interval: '1m', vars: { target: 'hub' } }), db));
    expect(rows).toEqual([expect.objectContaining({ site: 'known-xa', iface: 'eth0', errors: 10, drops: 3 })]);
  });

  it('site detail: displays show the hall down and the lobby on and no longer frozen', async () => {
    const { query, dashboard } = panelQuery(dashboards, 'ioc-site', 'Queue displays');
    const rows = rowsOf(await rawQuery(interpolateInfluxQL(query, { from: dashboard.time.from, interval: '1m', vars: { site: 'known-xa' } }), db));
    const byDisplay = Object.fromEntries(rows.map((r) => [String(r.display), r]));
    expect(byDisplay.hall).toMatchObject({ alive: 0, frozen: 0, last_seen_s: 900 });
    expect(byDisplay.lobby).toMatchObject({ alive: 1, frozen: 0, shown_number: 9, expected_number: 9 });
    expect(rows).toHaveLength(2);
  });

  it('site detail: the uplink is 4G and interface errors add up to 10 (drops 3) on eth0', async () => {
    const uplink = panelQuery(dashboards, 'ioc-site', 'Uplink');
    const rows = rowsOf(await rawQuery(interpolateInfluxQL(uplink.query, { from: uplink.dashboard.time.from, interval: '1m', vars: { site: 'known-xa' } }), db));
    expect(rows).toEqual([expect.objectContaining({ uplink: '4g', on_4g: 1, uplink_since: since })]);
    const iface = panelQuery(dashboards, 'ioc-site', 'Interface errors and drops');
    const series = await rawQuery(interpolateInfluxQL(iface.query, { from: iface.dashboard.time.from, interval: '1m', vars: { site: 'known-xa' } }), db);
    expect(series.map((s) => s.tags?.iface)).toEqual(['eth0']);
    const sum = (col: string): number => series.flatMap((s) => (s.values ?? []).map((row) => Number(row[s.columns.indexOf(col)] ?? 0))).reduce((a, b) => a + b, 0);
    expect(sum('errors')).toBe(10);
    expect(sum('drops')).toBe(3);
  });
});
