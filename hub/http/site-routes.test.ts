import { fastify } from 'fastify';
import { describe, expect, it } from 'vitest';
import { generateToken, hashToken } from '../agents/token.ts';
import { AgentStateTable } from '../agents/agent-state.ts';
import { PointsToday } from '../agents/points-today.ts';
import type { Site } from '../agents/registry.ts';
import type { AlertView } from '../alerts/alert-queries.ts';
import { ApiAuth } from '../auth/api-auth.ts';
import { ServiceAccounts } from '../auth/service-accounts.ts';
import { silentLogger } from '../logger.ts';
import { HubMetrics } from '../metrics.ts';
import { SITE_MAX_CHART_SERIES, SITE_WINDOW_MS, SiteDetailReader, siteRoutes, vnDayStart } from './site-routes.ts';

const NOW = Date.parse('2026-12-01T20:00:00Z'); // 03:00 on 2 December in Vietnam
const SITE: Site = { slug: 'xa-a', name: 'Xã A', code: '1', province: 'phu-tho', provinceName: 'Phú Thọ', area: '', areaName: '' };
const LOW = { N: 1024, r: 8, p: 1 };

type Raw = { results: { series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]; error?: string }[] };

function reader(answer: (q: string) => Promise<Raw>, opts: { alerts?: AlertView[]; timeoutMs?: number } = {}) {
  const queries: string[] = [];
  const metrics = new HubMetrics();
  const agentState = new AgentStateTable();
  agentState.applyStatus('xa-a', 'pi-1', { online: true, ts: NOW, version: '1.2.3', bootId: 'b', configRev: 'r9', clockSynced: true }, NOW);
  const r = new SiteDetailReader({
    registry: { listSites: () => [SITE], getSite: (s) => (s === 'xa-a' ? SITE : undefined), listAgents: () => [{ site: 'xa-a', agent: 'pi-1', createdAt: new Date(NOW).toISOString() }] },
    agentState,
    pointsToday: new PointsToday(() => NOW),
    influx: {
      queryRaw: async (q) => {
        const text = Array.isArray(q) ? q.join(';') : q;
        queries.push(text);
        return answer(text);
      },
    },
    database: 'ioc',
    queryTimeoutMs: opts.timeoutMs ?? 1000,
    alerts: () => opts.alerts ?? [],
    metrics,
    logger: silentLogger(),
    now: () => NOW,
  });
  return { r, queries, metrics };
}

const latest: Raw = {
  results: [{
    series: [
      { name: 'uplink', tags: { agent: 'pi-1' }, columns: ['time', 'iface', 'on_4g', 'since_s', 'uplink', 'uplink_since'], values: [[NOW - 1000, 'wwan0', 1, 60, '4g', NOW - 3_600_000]] },
      { name: 'net_probe', tags: { agent: 'pi-1', target: 'portal', method: 'http' }, columns: ['time', 'loss_pct', 'result', 'rtt_ms', 'up'], values: [[NOW - 1000, 0, null, 23.7, 1]] },
      { name: 'queue', tags: { agent: 'pi-1', counter: 'all' }, columns: ['time', 'current_number', 'waiting'], values: [[NOW - 1000, 30, 9]] },
      { name: 'queue', tags: { agent: 'pi-1', counter: '10' }, columns: ['time', 'current_number', 'waiting'], values: [[NOW - 1000, 1010, 2]] },
      { name: 'queue', tags: { agent: 'pi-1', counter: '2' }, columns: ['time', 'current_number', 'waiting'], values: [[NOW - 1000, 2001, 7]] },
      { name: 'equipment', tags: { agent: 'pi-1', device: 'ups-1', kind: 'ups' }, columns: ['time', 'battery_pct', 'temp_c'], values: [[NOW - 1000, 97, null]] },
      { name: 'delivery', tags: { agent: 'pi-1' }, columns: ['time', 'late_points', 'live_points'], values: [[NOW - 1000, 5, 100]] },
    ],
  }],
};

const series = (tag: string, n: number): Raw => ({ results: [{ series: Array.from({ length: n }, (_, i) => ({ name: 'x', tags: { [tag]: `s${i}` }, columns: ['time', 'rtt_ms', 'loss_pct', 'waiting'], values: [[NOW - 600_000, 10, 0, 3]] })) }] });

describe('SiteDetailReader', () => {
  it('reads each part with a bounded query and shapes the answer', async () => {
    const { r, queries } = reader(async (q) => (q.includes('GROUP BY *') ? latest : q.includes('"net_probe"') ? series('target', 2) : series('counter', 3)));
    const d = await r.read('xa-a');
    expect(d?.agents).toEqual([expect.objectContaining({ agent: 'pi-1', version: '1.2.3', configRev: 'r9', online: true })]);
    expect(d?.uplinks).toEqual([{ agent: 'pi-1', uplink: '4g', iface: 'wwan0', since: NOW - 3_600_000, on4g: true, t: NOW - 1000 }]);
    expect(d?.probes).toEqual([{ agent: 'pi-1', target: 'portal', method: 'http', up: 1, rttMs: 23.7, lossPct: 0, result: null, t: NOW - 1000 }]);
    // counters in number order, the whole office last
    expect(d?.counters.map((c) => c.counter)).toEqual(['2', '10', 'all']);
    expect(d?.equipment).toEqual([{ agent: 'pi-1', device: 'ups-1', kind: 'ups', fields: { battery_pct: 97 }, t: NOW - 1000 }]);
    expect(d?.delivery).toEqual([expect.objectContaining({ agent: 'pi-1', latePoints: 5, livePoints: 100 })]);
    expect(d?.probeSeries).toHaveLength(2);
    expect(d?.queueSeries.map((s) => s.counter)).toEqual(['s0', 's1', 's2']);
    expect(d?.window).toEqual({ from: NOW - SITE_WINDOW_MS, to: NOW, dayFrom: Date.parse('2026-12-01T17:00:00Z'), bucket: '10m' });
    expect(d?.missing).toEqual([]);
    expect(queries).toHaveLength(3);
    for (const q of queries) {
      expect(q).toContain(`"site" = 'xa-a'`);
      expect(q).toMatch(/time >=? \d+ms AND time <= \d+ms/);
      expect(q).toMatch(/ LIMIT \d+ SLIMIT \d+$/);
    }
  });

  it('caps the chart series and counts it', async () => {
    const { r, metrics } = reader(async (q) => (q.includes('GROUP BY *') ? { results: [{}] } : series('target', SITE_MAX_CHART_SERIES + 1)));
    const d = await r.read('xa-a');
    expect(d?.probeSeries).toHaveLength(SITE_MAX_CHART_SERIES);
    expect(d?.capped).toEqual(['probeSeries', 'queueSeries']);
    expect(metrics.render()).toContain('ioc_hub_site_detail_capped_total{part="probeSeries"} 1');
  });

  it('answers the other parts when one query hangs or fails, naming the missing ones', async () => {
    const { r, metrics } = reader(async (q) => {
      if (q.includes('GROUP BY *')) return new Promise<Raw>(() => undefined);
      if (q.includes('"queue"')) return { results: [{ error: 'partial: shard gone' }] };
      return series('target', 1);
    }, { timeoutMs: 50 });
    const t0 = Date.now();
    const d = await r.read('xa-a');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(d?.missing).toEqual(expect.arrayContaining([{ part: 'latest', error: 'no answer from InfluxDB within 50 ms' }, { part: 'queueSeries', error: 'InfluxDB: partial: shard gone' }]));
    expect(d?.missing).toHaveLength(2);
    expect(d?.probeSeries).toHaveLength(1);
    expect(d?.agents).toHaveLength(1);
    expect(d?.delivery).toEqual([expect.objectContaining({ agent: 'pi-1', latePoints: null })]);
    expect(metrics.render()).toContain('ioc_hub_site_detail_query_failures_total{part="latest"} 1');
  });

  it('keeps the open alerts and the 20 latest resolved', async () => {
    const alert = (i: number, state: AlertView['state']): AlertView => ({ id: `a${i}`, site: 'xa-a', rule: 'r', severity: 'warning', state, since: NOW - i, updatedAt: NOW - i, summary: { vi: 'x', en: 'x' }, labels: {}, announced: true });
    const { r } = reader(async () => ({ results: [{}] }), { alerts: [alert(1, 'firing'), ...Array.from({ length: 30 }, (_, i) => alert(100 - i, 'resolved'))] });
    const d = await r.read('xa-a');
    expect(d?.alerts.active.map((a) => a.id)).toEqual(['a1']);
    expect(d?.alerts.resolved).toHaveLength(20);
    expect(d?.alerts.resolved[0]?.id).toBe('a71');
  });

  it('an unknown site is undefined, without a query', async () => {
    const { r, queries } = reader(async () => ({ results: [{}] }));
    expect(await r.read('xa-b')).toBeUndefined();
    expect(queries).toEqual([]);
  });
});

describe('GET /api/sites/:slug', () => {
  it('needs sites:read; an unknown or malformed site is a 404 naming it', async () => {
    const token = generateToken();
    const auth = new ApiAuth(new ServiceAccounts([{ name: 'wall', tokenHash: await hashToken(token, LOW), subscribe: [], api: ['sites:read'] }]), LOW);
    const app = fastify();
    await app.register(siteRoutes(reader(async () => ({ results: [{}] })).r, auth));
    const headers = { authorization: `Bearer wall:${token}` };
    expect((await app.inject({ url: '/api/sites/xa-a' })).statusCode).toBe(401);
    const ok = await app.inject({ url: '/api/sites/xa-a', headers });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ site: { slug: 'xa-a', name: 'Xã A' }, missing: [] });
    const unknown = await app.inject({ url: '/api/sites/xa-b', headers });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ code: 'E_SITE_NOT_FOUND', error: 'no site "xa-b" in the registry' });
    expect((await app.inject({ url: `/api/sites/${encodeURIComponent("a' OR 1=1")}`, headers })).statusCode).toBe(404);
    await app.close();
  });

  it('vnDayStart is midnight in Vietnam', () => {
    expect(vnDayStart(NOW)).toBe(Date.parse('2026-12-01T17:00:00Z'));
    expect(vnDayStart(Date.parse('2026-12-01T16:59:59Z'))).toBe(Date.parse('2026-11-30T17:00:00Z'));
  });
});
