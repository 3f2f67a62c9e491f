// A replayed outage against the real hub and influxd: an agent back after two hours sends its backlog as late
// batches over MQTT with a UPS on battery inside it. Nothing is announced (no active alert in the API, nothing on
// ioc/v1/alerts/#, which is all Node-RED notifies from); the episode is a history row with its original window,
// late=true, in the API and the `alert` measurement; a live reading afterwards alerts as always.
// IOC_REPLAY_SNAPSHOT=<file> writes the API's sites and alerts before and after the replay there.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_ALERTS_FILTER, statusTopic, telemetryTopic, type AlertRecord, type Status } from '../protocol/index.ts';
import { runProgram } from '../testkit/child-process.ts';
import { connectAs, endClient } from '../testkit/mqtt-client.ts';
import { startStack, type AgentCredentials, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

const RULES = `
rules:
  - name: ups-on-battery
    type: threshold
    severity: critical
    measurement: equipment
    field: on_battery
    above: 0.5
    select: { tags: { kind: ups } }
    summary: { vi: "UPS tại {site} đang chạy bằng pin", en: "UPS on battery at {site}" }
`;
const SERVICE = 'ops';
const H = 3_600_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let rulesDir = '';
let stack: Stack;
let serviceToken = '';
const clients: MqttClient[] = [];

interface AlertRow extends AlertRecord {
  announced: boolean;
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${stack.httpUrl}${path}`, { headers: { authorization: stack.readAuth }, signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}
const alerts = async (query: string): Promise<AlertRow[]> => (await api<{ alerts: AlertRow[] }>(`/api/alerts${query}`)).alerts;
const siteView = async (site: string): Promise<unknown> => (await api<{ sites: { slug: string }[] }>('/api/sites')).sites.find((s) => s.slug === site);

async function influxRows(q: string): Promise<unknown[][]> {
  const body = await stack.influx.query(q, 'ioc');
  const r = body.results[0];
  if (r?.error !== undefined) throw new Error(r.error);
  return r?.series?.flatMap((s) => s.values ?? []) ?? [];
}

function statusPayload(online: boolean): string {
  return JSON.stringify({ online, ts: Date.now(), version: 'test', bootId: 'b', configRev: 1, clockSynced: true } satisfies Status);
}

const upsPoint = (onBattery: number, t: number) => ({ m: 'equipment', t, tags: { device: 'ups-1', kind: 'ups' }, fields: { on_battery: onBattery } });

beforeAll(async () => {
  const printed = await runProgram('ioc-hub', ['services', 'token', '--name', SERVICE]);
  if (printed.code !== 0) throw new Error(`services token failed: ${printed.stderr}`);
  serviceToken = /^token: (\S+)$/m.exec(printed.stdout)?.[1] ?? '';
  const servicesYaml = printed.stdout.slice(printed.stdout.indexOf('services:'));
  rulesDir = mkdtempSync(join(tmpdir(), 'ioc-replay-rules-'));
  const rulesFile = join(rulesDir, 'alerts.yaml');
  writeFileSync(rulesFile, RULES);
  stack = await startStack({ agents: 1, hubYaml: ['alerts:', `  rulesFile: ${rulesFile}`, '  startupGrace: 1s', '  evaluateIntervalMs: 100', '  replayIdle: 2s', servicesYaml].join('\n') });
}, 120_000);

afterAll(async () => {
  for (const c of clients) await endClient(c);
  await stack?.stop();
  if (rulesDir !== '') rmSync(rulesDir, { recursive: true, force: true });
});

describe('a replayed outage', () => {
  it('is recorded as history with its original window, pages nobody, and live readings alert as always', async () => {
    const a: AgentCredentials | undefined = stack.agents[0];
    if (a === undefined) throw new Error('no agent');
    // What Node-RED would see: every alert topic, as a service account.
    const watcher = await connectAs(stack.mqttUrl, `service:${SERVICE}`, serviceToken, { clientId: `service:${SERVICE}-watch` });
    clients.push(watcher);
    const seen: { topic: string; payload: string }[] = [];
    watcher.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString('utf8') }));
    await watcher.subscribeAsync(ALL_ALERTS_FILTER, { qos: 1 });

    const agent = await connectAs(stack.mqttUrl, `${a.site}/${a.agent}`, a.token);
    clients.push(agent);
    await agent.publishAsync(statusTopic(a.site, a.agent), statusPayload(true), { qos: 1, retain: true });
    await sleep(1200); // past the startup grace
    const now = Date.now();
    // Live first (the link's live lane goes ahead of the backlog): mains are back.
    await agent.publishAsync(telemetryTopic(a.site, a.agent), JSON.stringify({ seq: 5, sentAt: now, points: [upsPoint(0, now)] }), { qos: 1 });
    const before = { sites: await siteView(a.site), alerts: await alerts('?resolved=true') };

    // The backlog: on battery from two hours ago for an hour, replayed in seq order as late batches.
    const start = now - 2 * H;
    const readings = [];
    for (let t = start; t < start + H; t += 60_000) readings.push(upsPoint(1, t));
    readings.push(upsPoint(0, start + H));
    const batches = Math.ceil(readings.length / 20);
    for (let i = 0; i < batches; i++) {
      const depth = batches - i - 1;
      const batch = { seq: 1 + i, sentAt: Date.now(), late: true, ...(depth > 0 ? { backlog: { depth, oldestT: start } } : {}), points: readings.slice(i * 20, i * 20 + 20) };
      await agent.publishAsync(telemetryTopic(a.site, a.agent), JSON.stringify(batch), { qos: 1 });
    }

    const [row] = await waitUntil('the replayed episode in the history', async () => {
      const rows = (await alerts('?resolved=true')).filter((r) => r.late === true);
      return rows.length > 0 ? rows : undefined;
    }, 15_000, 100);
    expect(row).toMatchObject({ site: a.site, rule: 'ups-on-battery', severity: 'critical', state: 'resolved', since: start, endsAt: start + H, late: true, announced: false });
    await sleep(1500); // every batch evaluated, the replay session ended (replayIdle 2 s from its last reading)
    expect(await alerts('')).toEqual([]);
    expect(seen).toEqual([]);
    const stored = await waitUntil('the episode in the alert measurement', async () => {
      const rows = await influxRows(`SELECT "state", "late" FROM "alert" WHERE "site" = '${a.site}' AND "rule" = 'ups-on-battery'`);
      return rows.length >= 2 ? rows : undefined;
    }, 10_000, 100);
    expect(stored.map((r) => [r[0], r[1], r[2]])).toEqual([
      [start, 'firing', true],
      [start + H, 'resolved', true],
    ]);
    // The readings themselves are stored as sent, without any trace of the flag.
    const raw = await influxRows(`SELECT * FROM "equipment" WHERE "site" = '${a.site}' AND time >= ${start}ms AND time < ${start + H}ms`);
    expect(raw).toHaveLength(60);
    const keys = await influxRows('SHOW FIELD KEYS FROM "equipment"');
    expect(keys.map((k) => k[0])).toEqual(['on_battery']);
    const after = { sites: await siteView(a.site), alerts: await alerts('?resolved=true') };
    const m = await stack.metrics();
    expect([m.get('ioc_hub_alert_replayed_points_total'), m.get('ioc_hub_alert_replay_episodes_total'), m.get('ioc_hub_alert_replay_refused_total')]).toEqual([61, 1, 0]);

    // Live after the replay: the UPS goes on battery now, and that is announced as always.
    const t = Date.now();
    await agent.publishAsync(telemetryTopic(a.site, a.agent), JSON.stringify({ seq: 6, sentAt: t, points: [upsPoint(1, t)] }), { qos: 1 });
    const firing = await waitUntil('a live firing alert', async () => (await alerts('')).find((r) => r.state === 'firing'), 10_000, 100);
    expect(firing).toMatchObject({ site: a.site, rule: 'ups-on-battery', announced: true });
    expect(firing.late).toBeUndefined();
    expect(firing.since).toBeGreaterThanOrEqual(t - 1000);
    const published = await waitUntil('the alert on MQTT', async () => seen.find((m) => m.payload !== ''), 5000, 50);
    expect(published.topic).toBe(`ioc/v1/alerts/${a.site}/${firing.id}`);
    const live = { sites: await siteView(a.site), alerts: await alerts('?resolved=true') };

    const file = process.env.IOC_REPLAY_SNAPSHOT;
    if (file !== undefined) writeFileSync(file, JSON.stringify({ beforeReplay: before, afterReplay: after, afterLiveReading: live }, null, 2));
  }, 60_000);
});
