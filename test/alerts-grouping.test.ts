// Grouping and the hub self-check for real: hub (broker, ingest into a real influxd, alert engine) → MQTT → the
// Node-RED flows → SMTP sink, 120 raw MQTT agents in 4 areas, every message counted (no rate limit, no escalation):
// - an ISP outage of one area (30 agents, 25% of all) is exactly one notification, routed to that area;
// - 60% of all agents dropping at once is one "IOC link / hub" incident and no per-site or per-area notification;
// - the hub's uplink probe target made unreachable is one hub-link incident, resolved when it answers again.
import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AlertRecord } from '../protocol/index.ts';
import { AlertStack, type Mail } from '../testkit/alerts-stack.ts';
import { InfluxdProcess } from '../testkit/influxd.ts';
import { waitUntil } from '../testkit/wait.ts';

const AREAS = ['tam-dao', 'lap-thach', 'song-lo', 'binh-xuyen'];
const SITES = 120;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let influx: InfluxdProcess;
let s: AlertStack;
let portal: Server;
let portalPort = 0;

function listen(port: number): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const closeServer = (server: Server): Promise<void> => new Promise((r) => server.close(() => r()));

const rules = (port: number): string => `
rules:
  # for: 3s leaves the self-check headroom to see a mass drop before its members fire (production: 2m)
  - { name: site-offline, type: agent-offline, for: 3s, clearFor: 1s, groupBy: ['area|province'] }
storm:
  groupWait: 2s
  groupInterval: 1s
selfCheck:
  for: 1s
  clearFor: 3s
  massDrop: { share: 0.3, window: 5s, minAgents: 5, recovered: 0.8 }
  uplink:
    targets: [{ name: portal, host: 127.0.0.1, port: ${port} }]
    interval: 300ms
    timeout: 1s
    failures: 2
`;

beforeAll(async () => {
  portal = await listen(0);
  const addr = portal.address();
  portalPort = typeof addr === 'object' && addr !== null ? addr.port : 0;
  influx = await InfluxdProcess.start();
  s = await AlertStack.start({
    sites: SITES,
    areas: AREAS,
    rulesYaml: rules(portalPort),
    influxUrl: influx.url,
    notify: {
      routes: AREAS.map((a) => ({ areas: [a], email: [`${a}@ioc.test`] })),
      defaultRoute: { email: ['ops@ioc.test'] },
      escalation: { after: '1h', email: ['lead@ioc.test'] },
      limits: { max: 0 },
    },
  });
  for (let i = 0; i < SITES; i += 40) await Promise.all(s.sites.slice(i, i + 40).map((site) => s.online(site.slug)));
  await sleep(1500); // past the hub's startup grace
}, 120_000);

afterAll(async () => {
  await s?.stop();
  await influx?.stop();
  if (portal?.listening === true) await closeServer(portal);
});

async function alerts(query = ''): Promise<AlertRecord[]> {
  const res = await fetch(`${s.apiUrl}/api/alerts${query}`, { headers: { authorization: `Bearer ${s.apiToken}` } });
  return ((await res.json()) as { alerts: AlertRecord[] }).alerts;
}

const areaOf = (slug: string): string => s.sites.find((x) => x.slug === slug)?.area ?? '';
const summary = (mails: readonly Mail[]): string[] => mails.map((m) => `${m.kind} ${m.rule} ${m.site} → ${m.to}`);

/** Sites a test took offline and has not brought back. */
const down = new Set<string>();

function drop(sites: readonly string[]): void {
  for (const site of sites) {
    s.offline(site);
    down.add(site);
  }
}

async function allOnline(sites: readonly string[]): Promise<void> {
  for (let i = 0; i < sites.length; i += 40) await Promise.all(sites.slice(i, i + 40).map((site) => s.online(site)));
  for (const site of sites) down.delete(site);
}

// A test that failed half-way leaves the next one a clean hub: its agents back, every alert resolved.
afterEach(async () => {
  if (portal?.listening !== true) portal = await listen(portalPort);
  await allOnline([...down]);
  await waitUntil('every alert resolved', async () => (await alerts()).length === 0, 30_000, 100);
}, 40_000);

/** A metric of /metrics, summed over its labels; NaN when absent. */
async function metric(name: string): Promise<number> {
  const body = (await s.hub.http.inject({ method: 'GET', url: '/metrics' })).body;
  const lines = body.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return lines.length === 0 ? NaN : lines.reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
}

describe('one cause, one notification', () => {
  it('an ISP outage of one area (30 communes) is one incident notification for that area; other areas untouched', async () => {
    const before = s.mails.length;
    const songLo = s.sites.filter((x) => x.area === 'song-lo').map((x) => x.slug);
    expect(songLo).toHaveLength(30);
    drop(songLo);
    await waitUntil('the incident mail', async () => s.mails.length > before, 20_000, 50);
    await sleep(4000); // past for + group wait of every member: nothing more comes
    const mails = s.mails.slice(before);
    console.log(`[grouping] ISP outage of ${songLo.length} communes of one area: ${mails.length} notification(s): ${summary(mails).join('; ')}`);
    expect(summary(mails)).toEqual(['firing incident-site-offline song-lo → song-lo@ioc.test']);
    const incident = (await alerts('?site=song-lo')).find((a) => a.rule === 'incident-site-offline');
    expect(incident).toMatchObject({ state: 'firing', value: 30, labels: { area: 'song-lo', scope: 'area', sites: '30', province: 'vinh-phuc' } });
    expect(incident?.parts?.map((p) => p.site).sort()).toEqual([...songLo].sort());
    const members = (await alerts()).filter((a) => a.rule === 'site-offline') as (AlertRecord & { suppressedBy?: string })[];
    expect(members).toHaveLength(30);
    expect(members.every((a) => a.suppressedBy === 'grouped' && areaOf(a.site) === 'song-lo')).toBe(true);
    await allOnline(songLo);
    await waitUntil('the incident resolved', async () => s.mails.slice(before).length === 2, 20_000, 50);
    await sleep(2000);
    expect(summary(s.mails.slice(before))).toEqual(['firing incident-site-offline song-lo → song-lo@ioc.test', 'resolved incident-site-offline song-lo → song-lo@ioc.test']);
    expect(s.mails.slice(before).map((m) => m.alertId)).toEqual([incident?.id, incident?.id]);
  }, 60_000);

  it('60% of all agents dropping at once is one IOC link / hub incident and no per-site notification', async () => {
    const before = s.mails.length;
    const dropped = s.sites.slice(0, 72).map((x) => x.slug); // every area
    drop(dropped);
    await waitUntil('the hub-link mail', async () => s.mails.length > before, 20_000, 50);
    await sleep(6000); // past for + group wait of every member (5 s after the drop): nothing more comes
    const mails = s.mails.slice(before);
    console.log(`[grouping] ${dropped.length} of ${SITES} agents dropping at once: ${mails.length} notification(s): ${summary(mails).join('; ')}`);
    expect(summary(mails)).toEqual(['firing hub-link ioc-hub → ops@ioc.test']);
    const hub = (await alerts('?site=ioc-hub'))[0];
    expect(hub).toMatchObject({ rule: 'hub-link', state: 'firing', value: 72, labels: { cause: 'agents-dropped', scope: 'hub' } });
    expect(hub?.summary.en).toContain('IOC link / hub incident: 72 of 120 agents dropped at once');
    expect(hub?.summary.vi).toContain('Sự cố kết nối IOC / hub');
    expect(hub?.parts?.map((p) => p.site).sort()).toEqual([...dropped].sort());
    const members = (await alerts()).filter((a) => a.rule === 'site-offline') as (AlertRecord & { suppressedBy?: string })[];
    expect(members).toHaveLength(72);
    expect(members.every((a) => a.suppressedBy === 'hub-link')).toBe(true);
    expect(await metric('ioc_hub_selfcheck_mass_drops_total')).toBe(1);
    await allOnline(dropped);
    await waitUntil('the hub-link incident resolved', async () => s.mails.slice(before).length === 2, 20_000, 50);
    await sleep(3000); // the members resolve after their clearFor, muted as its parts
    expect(summary(s.mails.slice(before))).toEqual(['firing hub-link ioc-hub → ops@ioc.test', 'resolved hub-link ioc-hub → ops@ioc.test']);
    expect((await alerts()).filter((a) => a.rule === 'site-offline')).toEqual([]);
  }, 60_000);

  it("the hub's uplink probe target unreachable is one hub-link incident, resolved when it answers again", async () => {
    const before = s.mails.length;
    expect(await metric('ioc_hub_selfcheck_uplink_up')).toBe(1);
    await closeServer(portal);
    await waitUntil('the uplink mail', async () => s.mails.length > before, 20_000, 50);
    await sleep(2000);
    const mails = s.mails.slice(before);
    console.log(`[grouping] uplink probe target unreachable: ${mails.length} notification(s): ${summary(mails).join('; ')}`);
    expect(summary(mails)).toEqual(['firing hub-link ioc-hub → ops@ioc.test']);
    const hub = (await alerts('?site=ioc-hub'))[0];
    expect(hub).toMatchObject({ rule: 'hub-link', state: 'firing', labels: { cause: 'uplink', unreachable: 'portal' } });
    expect(hub?.summary.en).toBe("IOC link / hub incident: the hub's uplink is down (unreachable: portal)");
    expect(await metric('ioc_hub_selfcheck_uplink_up')).toBe(0);
    expect(await metric('ioc_hub_selfcheck_uplink_failures_total')).toBeGreaterThanOrEqual(2);
    portal = await listen(portalPort);
    await waitUntil('the uplink resolved', async () => s.mails.slice(before).length === 2, 20_000, 50);
    expect(summary(s.mails.slice(before))).toEqual(['firing hub-link ioc-hub → ops@ioc.test', 'resolved hub-link ioc-hub → ops@ioc.test']);
    expect(await metric('ioc_hub_selfcheck_uplink_downs_total')).toBe(1);
    expect(await metric('ioc_hub_alert_incidents_total')).toBeGreaterThanOrEqual(3);
  }, 60_000);
});
