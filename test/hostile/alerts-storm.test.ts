// Hostile agent vs alerts and notifications: one batch of 4,000 would-be critical series at one site. The
// engine opens at most the cap plus one too-many-series alert; through the real Node-RED flows, the SMTP sink
// and a webhook receiver, each recipient gets at most the per-recipient limit plus one digest; a bystander
// agent at another site keeps landing every point.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxdProcess } from '../../testkit/influxd.ts';
import { AlertStack } from '../../testkit/alerts-stack.ts';
import { bystanderProblems, startBystander } from '../../testkit/bystander.ts';
import { waitUntil } from '../../testkit/wait.ts';

const CAP = 20;
const LIMIT = 5;
const RULES = `
rules:
  - { name: probe-down, type: threshold, measurement: net_probe, field: up, below: 0.5, severity: critical, maxSeriesPerSite: 5000 }
`;

interface Hook {
  kind: string;
  digest?: { count: number };
}

let influx: InfluxdProcess;
let s: AlertStack;
let hookServer: Server;
const hooks: Hook[] = [];

beforeAll(async () => {
  influx = await InfluxdProcess.start();
  hookServer = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (raw += d));
    req.on('end', () => {
      hooks.push(JSON.parse(raw) as Hook);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', () => r()));
  const addr = hookServer.address();
  const hookPort = typeof addr === 'object' && addr !== null ? addr.port : 0;
  s = await AlertStack.start({
    sites: 2,
    rulesYaml: RULES,
    influxUrl: influx.url,
    hubAlerts: { maxAlertsPerRuleSite: CAP, tooManySeriesClear: '2s' },
    // 4,000 series from one agent are past the default series budget (2,000 a day, test/hostile/budget-series):
    // lifted here so that the alert engine's own cap is what this test meets.
    budgets: { seriesPerDay: 10_000 },
    notify: {
      routes: [],
      defaultRoute: { email: ['ops@ioc.test'], webhook: true },
      webhook: { url: `http://127.0.0.1:${hookPort}/hook` },
      limits: { max: LIMIT, window: '10m', digestAfter: '2s' },
    },
  });
  await s.online('xa-0');
  await new Promise((r) => setTimeout(r, 1200)); // past the startup grace
}, 90_000);

afterAll(async () => {
  await s?.stop();
  await new Promise<void>((r) => (hookServer === undefined ? r() : hookServer.close(() => r())));
  await influx?.stop();
});

describe('one batch of 4,000 critical series', () => {
  it('opens at most the cap + 1 alerts and notifies each recipient at most the limit + one digest', async () => {
    const bystander = await startBystander({ mqttUrl: s.mqttUrl, influx, agent: s.credentials('xa-1') });
    const t = Date.now();
    await s.telemetry('xa-0', Array.from({ length: 4000 }, (_, i) => ({ m: 'net_probe', t, tags: { target: `t-${i}`, method: 'tcp' }, fields: { up: 0 } })));
    await waitUntil('the digest mail', async () => s.mails.some((m) => m.kind === 'digest'), 20_000, 100);
    await waitUntil('the digest post', async () => hooks.some((h) => h.kind === 'digest'), 10_000, 100);
    await new Promise((r) => setTimeout(r, 2500)); // nothing more comes
    const r = await bystander.finish();
    if (process.env.IOC_ATTACK_REPORT !== undefined) {
      const m = (await s.hub.http.inject({ method: 'GET', url: '/metrics' })).body;
      console.log('[storm bystander]', JSON.stringify(r), m.split('\n').filter((l) => /loop_delay|slice_max/.test(l) && !l.startsWith('#')).join(' '));
    }
    // Hub, Node-RED, SMTP sink and the test share one process here, and decoding the 4,000-point batch itself
    // holds it 100-500 ms on this loaded 2-core machine (ingest, before the alert engine): a bound with headroom.
    expect(bystanderProblems(r, 3000)).toEqual([]);

    const open = s.hub.alerts.list({ site: 'xa-0' });
    expect(open.length).toBeLessThanOrEqual(CAP + 1);
    expect(open.filter((a) => a.rule === 'too-many-series')).toHaveLength(1);
    expect(s.hub.alerts.stats().capped.get('probe-down')).toBe(4000 - CAP);
    const metrics = (await s.hub.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(`ioc_hub_alerts_capped_total{rule="probe-down"} ${4000 - CAP}`);
    expect(metrics).toContain('ioc_hub_alerts_over_cap 1');

    const mails = s.mailsFor((m) => m.to === 'ops@ioc.test');
    expect(mails.filter((m) => m.kind === 'firing')).toHaveLength(LIMIT);
    expect(mails.filter((m) => m.kind === 'digest')).toHaveLength(1);
    expect(mails).toHaveLength(LIMIT + 1);
    expect(mails.find((m) => m.kind === 'digest')?.subject).toMatch(/DIGEST/);
    expect(hooks.filter((h) => h.kind === 'firing')).toHaveLength(LIMIT);
    expect(hooks.filter((h) => h.kind === 'digest').map((h) => h.digest?.count)).toEqual([CAP + 1 - LIMIT]);
    expect(s.nodeRed.context.limited.digests).toBe(2);

    // Back under: the series clear, the too-many-series alert clears after its quiet window.
    await s.telemetry('xa-0', Array.from({ length: 4000 }, (_, i) => ({ m: 'net_probe', t: t + 1000, tags: { target: `t-${i}`, method: 'tcp' }, fields: { up: 1 } })));
    await waitUntil('no alert left at xa-0', async () => s.hub.alerts.list({ site: 'xa-0' }).length === 0, 15_000, 100);
    expect(s.hub.alerts.stats().overCap).toBe(0);
  }, 90_000);
});
