// The whole alerting chain for real: hub (broker, ingest, alert engine) → MQTT → Node-RED flows → SMTP sink.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertStack } from '../testkit/alerts-stack.ts';
import { waitUntil } from '../testkit/wait.ts';

const RULES = `
rules:
  - { name: site-offline, type: agent-offline, for: 1500ms, clearFor: 1s }
  - { name: portal-down, type: threshold, measurement: net_probe, field: up, below: 0.5, group: province, select: { tags: { target: portal } } }
storm:
  groupMinSites: 10
  groupWait: 1500ms
`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let s: AlertStack;

beforeAll(async () => {
  s = await AlertStack.start({ sites: 300, rulesYaml: RULES });
  // 300 agents online, as many as the restart test needs
  for (let i = 0; i < 300; i += 50) await Promise.all(s.sites.slice(i, i + 50).map((site) => s.online(site.slug)));
  await sleep(1500); // past the hub's startup grace
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

const firing = (site: string) => (m: { site: string; kind: string }): boolean => m.kind === 'firing' && m.site === site;

describe('alert notifications through Node-RED', () => {
  it('a site going offline gives exactly one e-mail, its resolution one more', async () => {
    s.offline('xa-0');
    const [first] = await waitUntil('firing mail', async () => (s.mailsFor(firing('xa-0')).length > 0 ? s.mailsFor(firing('xa-0')) : undefined), 15_000, 50);
    expect(first?.to).toBe('tam-dao@ioc.test'); // routed by area
    expect(first?.rule).toBe('site-offline');
    await s.online('xa-0');
    await waitUntil('resolved mail', async () => s.mailsFor((m) => m.alertId === first?.alertId && m.kind === 'resolved').length > 0, 15_000, 50);
    await sleep(800);
    expect(s.mailsFor((m) => m.alertId === first?.alertId).map((m) => m.kind)).toEqual(['firing', 'resolved']);
    // the alert measurement got the transitions
    expect(s.sink.points.filter((p) => p.tags.site === 'xa-0').map((p) => p.fields.state)).toEqual(['firing', 'resolved']);
  });

  it('flapping within the damping window gives no e-mail', async () => {
    for (let i = 0; i < 3; i++) {
      s.offline('xa-1');
      await sleep(400);
      await s.online('xa-1');
      await sleep(200);
    }
    await sleep(2500);
    expect(s.mailsFor((m) => m.site === 'xa-1')).toEqual([]);
  });

  it('a silence suppresses', async () => {
    const res = await fetch(`${s.apiUrl}/api/silences`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${s.apiToken}` }, body: JSON.stringify({ sites: ['xa-2'], endsAt: Date.now() + 3_600_000, comment: 'thay modem' }) });
    expect(res.status).toBe(201);
    expect((await fetch(`${s.apiUrl}/api/silences`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(401);
    s.offline('xa-2');
    await sleep(3000);
    expect(s.mailsFor((m) => m.site === 'xa-2')).toEqual([]);
    expect((await fetch(`${s.apiUrl}/api/alerts?site=xa-2`)).status).toBe(401); // reads need a token too
    const list = (await (await fetch(`${s.apiUrl}/api/alerts?site=xa-2`, { headers: { authorization: `Bearer ${s.apiToken}` } })).json()) as { alerts: { state: string; suppressedBy?: string }[] };
    expect(list.alerts).toEqual([expect.objectContaining({ state: 'firing', suppressedBy: 'silence' })]);
    await s.online('xa-2');
  });

  it('acknowledging through the hub stops escalation; an unacknowledged alert escalates', async () => {
    s.offline('xa-4');
    s.offline('xa-6');
    const mails = await waitUntil('two firing mails', async () => {
      const m = [...s.mailsFor(firing('xa-4')), ...s.mailsFor(firing('xa-6'))];
      return m.length === 2 ? m : undefined;
    }, 15_000, 50);
    const acked = mails.find((m) => m.site === 'xa-4');
    // Technicians acknowledge in the hub's console (test/console.test.ts); Node-RED serves no page of its own now.
    expect((await fetch(`${s.nodeRed.url}/alerts`)).status).toBe(404);
    const res = await fetch(`${s.apiUrl}/api/alerts/${acked?.alertId}/ack`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${s.apiToken}` }, body: JSON.stringify({ by: 'ky-thuat-an' }) });
    expect(res.status).toBe(200);
    await waitUntil('escalation of the unacknowledged one', async () => s.mailsFor((m) => m.kind === 'escalation' && m.site === 'xa-6').length === 1, 15_000, 100);
    expect(s.mailsFor((m) => m.kind === 'escalation' && m.site === 'xa-4')).toEqual([]);
    expect(s.mailsFor((m) => m.kind === 'escalation')[0]?.to).toBe('lead@ioc.test');
    const view = (await (await fetch(`${s.apiUrl}/api/alerts/${acked?.alertId}`, { headers: { authorization: `Bearer ${s.apiToken}` } })).json()) as { state: string; ackedBy: string };
    expect(view).toMatchObject({ state: 'acknowledged', ackedBy: 'ky-thuat-an' });
    await Promise.all([s.online('xa-4'), s.online('xa-6')]);
    // Everybody paged hears of the resolution, one delivery per recipient: xa-6's escalation reached the lead too.
    const resolvedTo = (): string[] => s.mailsFor((m) => m.kind === 'resolved' && (m.site === 'xa-4' || m.site === 'xa-6')).map((m) => `${m.site} ${m.to}`).sort();
    await waitUntil('both resolved', async () => resolvedTo().length >= 3, 15_000, 100);
    await sleep(500);
    expect(resolvedTo()).toEqual(['xa-4 tam-dao@ioc.test', 'xa-6 lead@ioc.test', 'xa-6 tam-dao@ioc.test']);
  });

  it('50 sites losing the portal probe together give one incident', async () => {
    const before = s.mails.length;
    const sites = s.sites.slice(100, 150).map((x) => x.slug);
    const probe = (up: boolean) => [{ m: 'net_probe', t: Date.now(), tags: { target: 'portal', method: 'http' }, fields: { up: up ? 1 : 0 } }];
    await Promise.all(sites.map((site) => s.telemetry(site, probe(false))));
    await waitUntil('incident mail', async () => s.mails.length > before, 15_000, 50);
    await sleep(2500);
    const mails = s.mails.slice(before);
    expect(mails.map((m) => m.kind)).toEqual(['firing']);
    expect(mails[0]).toMatchObject({ rule: 'incident-portal-down', site: 'vinh-phuc' });
    await Promise.all(sites.map((site) => s.telemetry(site, probe(true))));
    // 50 members clear, then the incident: room for a loaded machine; any extra mail still fails the equality below.
    await waitUntil('incident resolved', async () => s.mails.slice(before).length >= 2, 30_000, 50);
    await sleep(500);
    expect(s.mails.slice(before).map((m) => m.kind)).toEqual(['firing', 'resolved']);
  });

  it('a hub restart with 300 agents gives no notification', async () => {
    await sleep(1500);
    const before = s.mails.length;
    for (const site of s.sites) s.agents.get(site.slug)?.end(true);
    s.agents.clear();
    await s.restartHub();
    for (let i = 0; i < 300; i += 50) await Promise.all(s.sites.slice(i, i + 50).map((site) => s.online(site.slug)));
    await waitUntil('Node-RED back', async () => s.hub.broker.connectedClients >= 301, 15_000, 100);
    await sleep(4000); // past grace + `for`
    expect(s.mails.slice(before)).toEqual([]);
    // and the silence survived the restart
    const sil = (await (await fetch(`${s.apiUrl}/api/silences`, { headers: { authorization: `Bearer ${s.apiToken}` } })).json()) as { silences: unknown[] };
    expect(sil.silences).toHaveLength(1);
  });
});
