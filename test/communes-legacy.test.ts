// A registry imported from the older three-tier list (Vĩnh Phúc, 121 communes in 9 districts, with coordinates):
// the district is the `area` tag of every point, and what groups by district (the served-per-hour panel, the wall's
// list and map) still groups by district — the same code that groups Phú Thọ's 2025 list by province.
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATED_DIR } from '../dashboards/generate.ts';
import { interpolateInfluxQL } from '../dashboards/grafana-macros.ts';
import { agentIdentity, telemetryTopic, type Point } from '../protocol/index.ts';
import type { InfluxSeries } from '../testkit/influxd.ts';
import { connectAs, endClient, publishQos1 } from '../testkit/mqtt-client.ts';
import { LEGACY_COMMUNES, LEGACY_PROVINCE, startStack, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

interface Target {
  refId: string;
  query: string;
}
interface Panel {
  title: string;
  type: string;
  targets?: Target[];
}

let stack: Stack;
const clients: MqttClient[] = [];

async function rawQuery(q: string): Promise<InfluxSeries[]> {
  const body = await stack.influx.query(q, 'ioc');
  const r = body.results[0];
  if (body.error !== undefined || r?.error !== undefined) throw new Error(`${body.error ?? r?.error}\n  in: ${q}`);
  return r?.series ?? [];
}

function panel(dashboard: string, match: (p: Panel) => boolean): Panel {
  const d = JSON.parse(readFileSync(`${GENERATED_DIR}/${dashboard}.json`, 'utf8')) as { panels: Panel[] };
  const p = d.panels.find(match);
  if (p === undefined) throw new Error(`no such panel in ${dashboard}`);
  return p;
}

function targetQuery(p: Panel, refId: string, from = 'now-6h'): string {
  const t = p.targets?.find((x) => x.refId === refId);
  if (t === undefined) throw new Error(`no target ${refId} in ${p.title}`);
  return interpolateInfluxQL(t.query, { from, interval: '1h', vars: {} });
}

// served_total per agent at three hours: 10 served in the second hour, 15 in the third
const SERVED = [5, 15, 30];

beforeAll(async () => {
  // The first four sites by slug: three in Thành phố Vĩnh Yên, one in Thành phố Phúc Yên.
  stack = await startStack({ agents: 4, communes: LEGACY_COMMUNES });
  await waitUntil('site_info written', async () => ((await rawQuery('SELECT count("name") FROM "meta"."site_info"'))[0]?.values?.[0]?.[1] === LEGACY_PROVINCE.communes ? true : undefined), 30_000);
  const hour = 3_600_000;
  // Whole hours that lie entirely in the past (a GROUP BY time() query without an upper bound ends at now(): a
  // point a minute ahead, as :01 of the current hour is in its first minute, would be left out).
  const base = Math.floor((Date.now() - 5 * 60_000) / hour) * hour - 2 * hour + 60_000;
  for (const a of stack.agents) {
    const client = await connectAs(stack.mqttUrl, agentIdentity(a.site, a.agent), a.token);
    clients.push(client);
    const points: Point[] = SERVED.flatMap((served, i): Point[] => [
      { m: 'queue', t: base + i * hour, tags: { counter: '1' }, fields: { waiting: 1, issued_total: served + 1, served_total: served, current_number: served } },
      // The office point the queue collector writes beside its counters (one counter here: the same figures).
      { m: 'queue', t: base + i * hour, tags: { counter: 'all' }, fields: { waiting: 1, issued_total: served + 1, served_total: served, current_number: served } },
      { m: 'net_probe', t: base + i * hour, tags: { target: 'hub', method: 'tcp' }, fields: { up: 1, rtt_ms: 10 } },
    ]);
    const r = await publishQos1(client, telemetryTopic(a.site, a.agent), JSON.stringify({ seq: 1, sentAt: Date.now(), late: true, backlog: { depth: 1, oldestT: base }, points }));
    if (r !== 'acked') throw new Error(`batch of ${a.site} not acked: ${r}`);
  }
}, 120_000);

afterAll(async () => {
  for (const c of clients) await endClient(c);
  await stack?.stop();
});

describe('a registry with districts (data/vinh-phuc-communes.csv)', () => {
  it('tags every point with its district as area', async () => {
    const series = await rawQuery('SELECT count("rtt_ms") FROM "net_probe" WHERE time > now() - 6h GROUP BY "site", "area", "province"');
    const bySite = (rows: unknown[][]): unknown[][] => [...rows].sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    expect(bySite(series.map((s) => [s.tags?.site, s.tags?.area, s.tags?.province, s.values?.[0]?.[1]]))).toEqual(
      bySite(stack.agents.map((a) => [a.site, a.site === 'phuong-dong-xuan' ? 'phuc-yen' : 'vinh-yen', 'vinh-phuc', 3])),
    );
  });

  it('writes site_info for all 121 communes with their 9 districts and coordinates', async () => {
    const byArea = await rawQuery('SELECT count("name") FROM (SELECT last("name") AS "name" FROM "meta"."site_info" GROUP BY "site", "area") GROUP BY "area"');
    expect(byArea).toHaveLength(LEGACY_PROVINCE.districts);
    expect(byArea.every((s) => (s.tags?.area ?? '') !== '')).toBe(true);
    expect(byArea.reduce((n, s) => n + Number(s.values?.[0]?.[1] ?? 0), 0)).toBe(LEGACY_PROVINCE.communes);
    const map = await rawQuery(targetQuery(panel('wall', (p) => p.type === 'geomap'), 'SITES'));
    expect(map).toHaveLength(LEGACY_PROVINCE.communes);
    for (const s of map) expect(typeof s.values?.[0]?.[s.columns.indexOf('lat')]).toBe('number');
    const list = await rawQuery(targetQuery(panel('wall', (p) => p.type === 'table'), 'SITES'));
    expect(list).toHaveLength(LEGACY_PROVINCE.communes);
    expect(new Set(list.map((s) => s.values?.[0]?.[s.columns.indexOf('area_name')]))).toContain('Thành phố Vĩnh Yên');
  });

  it('the served-per-hour panel has one series per district', async () => {
    const q = targetQuery(panel('queues', (p) => p.title.includes('Served per hour')), 'A');
    const series = await rawQuery(q);
    const total = (s: InfluxSeries): number => (s.values ?? []).reduce((n, row) => n + Number(row[1] ?? 0), 0);
    expect(series.map((s) => [s.tags?.province, s.tags?.area, total(s)])).toEqual([
      ['vinh-phuc', 'phuc-yen', 25],
      ['vinh-phuc', 'vinh-yen', 3 * 25],
    ]);
  });
});
