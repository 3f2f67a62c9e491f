// Hub against a real influxd and real mqtt.js clients over TCP.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxdProcess } from '../testkit/influxd.ts';
import { agentIdentity, cmdFilter, cmdResultTopic, cmdTopic, decodeCommand, parseTopic, statusTopic, telemetryTopic, type Batch } from '../protocol/index.ts';
import { waitUntil } from '../testkit/wait.ts';
import { parseHubConfig } from './config.ts';
import { Hub } from './hub.ts';
import type { Site } from './agents/registry.ts';
import { generateToken, hashToken } from './agents/token.ts';

const DB = 'ioc';
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000; // an hour ago, whole hour: inside the retention window
const sites: Site[] = ['xa-a', 'xa-b'].map((slug, i) => ({
  slug,
  name: `Xã ${i === 0 ? 'Ấ' : 'Bê'}`,
  code: `0000${i}`,
  province: 'vinh-phuc',
  provinceName: 'Tỉnh Vĩnh Phúc',
  area: 'tam-dao',
  areaName: 'Huyện Tam Đảo',
  lat: 21.4,
  lon: 105.6,
}));

let influxd: InfluxdProcess;
let hub: Hub;
/** `Authorization` of a service account allowed to read /api/sites. */
let reader = '';
const tokens = new Map<string, string>();
const clients: MqttClient[] = [];

function batch(seq: number, t: number, value = 1): Batch {
  return { seq, sentAt: Date.now() - 250, points: [{ m: 'net_probe', t, tags: { target: 'hub', method: 'icmp' }, fields: { up: 1, rtt_ms: value } }] };
}

async function connect(site: string, agent: string, over: Partial<IClientOptions> = {}): Promise<MqttClient> {
  const id = agentIdentity(site, agent);
  const client = await connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, {
    clientId: id,
    username: id,
    password: tokens.get(id) ?? 'x',
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...over,
  });
  clients.push(client);
  return client;
}

async function count(where: string, measurement = 'net_probe'): Promise<number> {
  const res = await influxd.query(`SELECT count(rtt_ms) FROM ${measurement} WHERE ${where}`, DB);
  const v = res.results[0]?.series?.[0]?.values?.[0]?.[1];
  return typeof v === 'number' ? v : 0;
}

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => (client.connected ? client.once('close', () => resolve()) : resolve()));
}

beforeAll(async () => {
  influxd = await InfluxdProcess.start();
  const dir = mkdtempSync(join(tmpdir(), 'ioc-hub-test-'));
  const readToken = generateToken();
  reader = `Bearer wall:${readToken}`;
  const config = parseHubConfig({
    services: [{ name: 'wall', tokenHash: await hashToken(readToken, { N: 1024, r: 8, p: 1 }), api: ['sites:read'] }],
    // These tests reconnect identities whose earlier clients are still open: take those over at once.
    mqtt: { host: '127.0.0.1', port: 0, takeoverIdleMs: 0 },
    http: { host: '127.0.0.1', port: 0 },
    influx: { url: influxd.url, flushIntervalMs: 10, timeoutMs: 3000 },
    registry: { path: join(dir, 'registry.json') },
    limits: { maxPayloadBytes: 16 * 1024 },
    log: { level: 'silent' },
  });
  hub = new Hub(config, { registry: { scrypt: { N: 1024, r: 8, p: 1 } } });
  await hub.start();
  await hub.start(); // idempotent
  for (const s of sites) await hub.registry.upsertSite(s);
  for (const [site, agent] of [['xa-a', 'pi-1'], ['xa-a', 'pi-2'], ['xa-b', 'pi-1']] as const) {
    tokens.set(agentIdentity(site, agent), (await hub.registry.enroll(site, agent)).token);
  }
  // the database is created in the background at start
  for (let i = 0; i < 100; i++) {
    const res = await influxd.query('SHOW DATABASES');
    if (JSON.stringify(res).includes(`"${DB}"`)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await hub.stop();
  await hub.stop();
  await influxd.stop();
});

describe('hub ingest over MQTT', () => {
  it('acks a good batch only once it is queryable, with hub tags and exact ms time', async () => {
    const c = await connect('xa-a', 'pi-1');
    const t = T0 + 123;
    await c.publishAsync(telemetryTopic('xa-a', 'pi-1'), JSON.stringify(batch(1, t, 12.5)), { qos: 1 });
    const res = await influxd.query(`SELECT * FROM net_probe WHERE site='xa-a'`, DB);
    const series = res.results[0]?.series?.[0];
    expect(series?.values?.length).toBe(1);
    const row = Object.fromEntries((series?.columns ?? []).map((col, i) => [col, series?.values?.[0]?.[i]]));
    expect(row).toMatchObject({ time: t, site: 'xa-a', agent: 'pi-1', province: 'vinh-phuc', area: 'tam-dao', target: 'hub', method: 'icmp', rtt_ms: 12.5, up: 1 });
    expect(hub.agentState.get('xa-a', 'pi-1')?.clockOffsetMs).toBeGreaterThanOrEqual(250);
  });

  it('stores a batch published twice once', async () => {
    const c = await connect('xa-a', 'pi-2');
    const payload = JSON.stringify(batch(7, T0 + 5000, 3));
    await c.publishAsync(telemetryTopic('xa-a', 'pi-2'), payload, { qos: 1 });
    await c.publishAsync(telemetryTopic('xa-a', 'pi-2'), payload, { qos: 1 });
    expect(await count(`agent='pi-2' AND time = ${T0 + 5000}ms`)).toBe(1);
  });

  it('refuses a wrong token and a client id different from the username', async () => {
    const before = hub.stats().authFailures;
    await expect(connect('xa-a', 'pi-1', { password: 'wrong', clientId: 'xa-a/pi-1' })).rejects.toThrow(/Bad username or password/i);
    await expect(connect('xa-a', 'pi-1', { clientId: 'other-id' })).rejects.toThrow(/Not authorized/i);
    await expect(connect('xa-a', 'pi-9')).rejects.toThrow(/Bad username or password/i);
    expect(hub.stats().authFailures).toBe(before + 3);
  });

  it("closes the connection of an agent publishing on another site's topic, storing nothing", async () => {
    const c = await connect('xa-a', 'pi-1');
    const gone = closed(c);
    c.publish(telemetryTopic('xa-b', 'pi-1'), JSON.stringify(batch(1, T0 + 9000)), { qos: 1 });
    await gone;
    expect(hub.stats().publishDenied).toBeGreaterThanOrEqual(1);
    expect(await count(`site='xa-b'`)).toBe(0);
  });

  it("refuses subscriptions to another agent's commands", async () => {
    const c = await connect('xa-a', 'pi-1');
    for (const denied of [cmdFilter('xa-b', 'pi-1'), 'ioc/v1/#', cmdFilter('xa-a', 'pi-2'), 'ioc/v1/xa-a/pi-1/telemetry']) {
      await expect(c.subscribeAsync(denied, { qos: 1 })).rejects.toThrow(/Subscribe error/);
    }
    const granted = await c.subscribeAsync([cmdFilter('xa-a', 'pi-1'), cmdTopic('xa-a', 'pi-1', 'probe')], { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1, 1]);
    expect(c.connected).toBe(true);
  });

  it("sends a command to a connected agent and settles it with the agent's result; a result for an id it did not issue is dropped", async () => {
    const c = await connect('xa-b', 'pi-1');
    await c.subscribeAsync(cmdFilter('xa-b', 'pi-1'), { qos: 1 });
    const forged = cmdResultTopic('xa-b', 'pi-1', 'not-issued-1');
    // The agent's side, as edge/link/commands.ts answers: a forged result first (an id never issued), then the real one.
    c.on('message', (topic, payload) => {
      const parsed = parseTopic(topic);
      const cmd = decodeCommand(payload);
      if (parsed?.kind !== 'cmd' || !cmd.ok) return;
      const reply = parsed.name === 'echo' ? { id: cmd.value.id, ok: true, at: Date.now(), result: { echoed: cmd.value.args } } : { id: cmd.value.id, ok: false, at: Date.now(), error: `unknown command: ${parsed.name}` };
      void (async () => {
        await c.publishAsync(forged, JSON.stringify({ id: 'not-issued-1', ok: true, at: Date.now() }), { qos: 1 });
        await c.publishAsync(cmdResultTopic('xa-b', 'pi-1', cmd.value.id), JSON.stringify(reply), { qos: 1 });
      })();
    });
    await waitUntil('the agent connected', async () => hub.agentState.get('xa-b', 'pi-1')?.connected === true, 5000, 20);
    const refusedBefore = hub.metrics.cmdResultRefused.get();
    const ok = await hub.commands.send('xa-b', 'pi-1', 'echo', { n: 7 }, { timeoutMs: 5000 });
    expect(ok).toMatchObject({ ok: true, result: { echoed: { n: 7 } } });
    const unknown = await hub.commands.send('xa-b', 'pi-1', 'no-such-command', {}, { timeoutMs: 5000 });
    expect(unknown).toMatchObject({ ok: false, error: 'unknown command: no-such-command' });
    expect(hub.metrics.cmdResultRefused.get() - refusedBefore).toBe(2);
    await expect(hub.commands.send('xa-a', 'pi-9', 'echo')).rejects.toMatchObject({ code: 'E_AGENT_OFFLINE' });
    await expect(hub.commands.send('xa-b', 'pi-1', 'echo', {}, { timeoutMs: 1 })).rejects.toMatchObject({ code: 'E_COMMAND_TIMEOUT' });
    const metrics = (await fetch(`http://127.0.0.1:${hub.httpPort}/metrics`)).text();
    expect(await metrics).toMatch(/ioc_hub_command_outcomes_total\{outcome="offline"\} 1/);
    c.removeAllListeners('message');
  });

  it('acks, counts and drops malformed payloads while a good publisher keeps landing', async () => {
    const seen: string[] = [];
    await hub.broker.subscribe('ioc/v1/xa-a/pi-2/telemetry', (_topic, payload) => seen.push(String(payload)));
    const bad = await connect('xa-a', 'pi-2');
    const good = await connect('xa-b', 'pi-1');
    const topic = telemetryTopic('xa-a', 'pi-2');
    const ok = JSON.stringify(batch(1, T0 + 1));
    const payloads = [
      '{not json',
      ok.replace('"rtt_ms":1', '"rtt_ms":NaN'),
      ok.replace('"rtt_ms":1', '"rtt_ms":1e999'),
      JSON.stringify({ ...batch(2, T0 + 2), points: [{ m: 'net_probe', t: T0 + 2, tags: { 'Bad-Key': 'x' }, fields: { v: 1 } }] }),
      JSON.stringify({ ...batch(3, T0 + 3), points: [{ m: 'net_probe', t: T0 + 3, tags: { site: 'xa-b' }, fields: { v: 1 } }] }),
      JSON.stringify({ ...batch(4, T0 + 4), pad: 'x'.repeat(20 * 1024) }),
    ];
    for (let i = 0; i < payloads.length; i++) {
      await bad.publishAsync(topic, payloads[i] ?? '', { qos: 1 });
      await good.publishAsync(telemetryTopic('xa-b', 'pi-1'), JSON.stringify(batch(i, T0 + 20_000 + i)), { qos: 1 });
    }
    expect(bad.connected).toBe(true);
    expect(await count(`site='xa-b' AND time >= ${T0 + 20_000}ms`)).toBe(payloads.length);
    expect(await count(`agent='pi-2' AND time < ${T0 + 100}ms`)).toBe(0);
    expect(seen).toEqual([]);
    const m = hub.metrics.batchesRejected;
    expect([m.get('E_BAD_JSON'), m.get('E_SCHEMA'), m.get('E_PAYLOAD_TOO_LARGE')]).toEqual([2, 3, 1]);
  });

  it('tracks status and marks the agent offline through its last will', async () => {
    const status = (online: boolean): string => JSON.stringify({ online, ts: Date.now(), version: '0.1.0', bootId: 'b1', configRev: 1, clockSynced: true });
    const c = await connect('xa-b', 'pi-1', { will: { topic: statusTopic('xa-b', 'pi-1'), payload: Buffer.from(status(false)), qos: 1, retain: true } });
    await c.publishAsync(statusTopic('xa-b', 'pi-1'), status(true), { qos: 1, retain: true });
    await expect.poll(() => hub.agentState.get('xa-b', 'pi-1')?.online).toBe(true);
    expect(hub.stats().agentsOnline).toBeGreaterThanOrEqual(1);
    c.stream.destroy(); // unclean: the broker publishes the will
    await expect.poll(() => hub.agentState.get('xa-b', 'pi-1')?.online).toBe(false);
    await expect.poll(async () => (await influxd.query(`SELECT online FROM agent WHERE site='xa-b' AND online = false`, DB)).results[0]?.series?.length ?? 0).toBe(1);
  });

  it('serves /metrics, /api/sites and /healthz', async () => {
    const metrics = await hub.http.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    for (const name of ['ioc_hub_points_received_total', 'ioc_hub_points_written_total', 'ioc_hub_batches_rejected_total{code="E_BAD_JSON"} 2', 'ioc_hub_publish_denied_total', 'ioc_hub_auth_failures_total 3', 'ioc_hub_write_latency_seconds_bucket', 'ioc_hub_connected_clients', 'ioc_hub_agents_online', 'ioc_hub_pending_points']) {
      expect(metrics.body).toContain(name);
    }
    expect((await hub.http.inject({ method: 'GET', url: '/api/sites' })).statusCode).toBe(401);
    const sitesRes = await hub.http.inject({ method: 'GET', url: '/api/sites', headers: { authorization: reader } });
    const body = sitesRes.json<{ sites: { slug: string; name: string; pointsToday: number; agents: { agent: string }[]; online: boolean }[] }>();
    expect(body.sites.map((s) => s.slug)).toEqual(['xa-a', 'xa-b']);
    expect(body.sites[0]).toMatchObject({ name: 'Xã Ấ', area: 'tam-dao', lat: 21.4, lon: 105.6 });
    expect(body.sites[0]?.agents.map((a) => a.agent)).toEqual(['pi-1', 'pi-2']);
    expect(body.sites[1]?.pointsToday).toBeGreaterThanOrEqual(6);
    const health = await hub.http.inject({ method: 'GET', url: '/healthz' });
    expect(health.json()).toEqual({ ok: true, influx: true, broker: true });
  });

  it('tells live from late batches: backlog and completeness in /api/sites and the delivery measurement', async () => {
    tokens.set(agentIdentity('xa-a', 'pi-8'), (await hub.registry.enroll('xa-a', 'pi-8')).token);
    const c = await connect('xa-a', 'pi-8');
    const topic = telemetryTopic('xa-a', 'pi-8');
    const oldestT = Date.now() - 7_200_000;
    const send = (b: Batch): Promise<unknown> => c.publishAsync(topic, JSON.stringify(b), { qos: 1 });
    const agentView = async (): Promise<Record<string, unknown> | undefined> => {
      const res = await hub.http.inject({ method: 'GET', url: '/api/sites', headers: { authorization: reader } });
      return res.json<{ sites: { slug: string; agents: Record<string, unknown>[] }[] }>().sites.find((x) => x.slug === 'xa-a')?.agents.find((a) => a.agent === 'pi-8');
    };
    // reconnected after two hours: the live batch first, then the replay
    await send({ ...batch(100, T0 + 100_000), backlog: { depth: 2, oldestT } });
    expect(await agentView()).toMatchObject({ backlog: 2, completenessPct: 100 });
    expect((await agentView())?.oldestUnsentAgeS).toBeGreaterThanOrEqual(7199);
    await send({ ...batch(98, T0 + 98_000), late: true, backlog: { depth: 2, oldestT } });
    expect(await agentView()).toMatchObject({ backlog: 2, completenessPct: 66.7 }); // 99 still missing
    await send({ ...batch(99, T0 + 99_000), late: true, backlog: { depth: 1, oldestT: oldestT + 1000 } });
    await send(batch(101, T0 + 101_000));
    expect(await agentView()).toMatchObject({ backlog: 0, oldestUnsentAgeS: 0, completenessPct: 100 });
    // the points themselves carry nothing of it: the same point twice is stored once
    expect(await count(`agent='pi-8'`)).toBe(4);
    const q = `SELECT last("backlog_depth"), last("late_points"), last("live_points"), last("expected_batches"), last("received_batches") FROM "delivery" WHERE "agent"='pi-8'`;
    let row: unknown[] = [];
    for (let i = 0; i < 100 && row[1] !== 0; i += 1) {
      row = (await influxd.query(q, DB)).results[0]?.series?.[0]?.values?.[0] ?? [];
      if (row[1] !== 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(row.slice(1)).toEqual([0, 2, 2, 4, 4]);
  });

  it('acknowledges from the durable spool while InfluxDB is down, and keeps the connection', async () => {
    const c = await connect('xa-a', 'pi-1');
    await influxd.kill();
    const acked = await new Promise<boolean>((resolve) => {
      c.publish(telemetryTopic('xa-a', 'pi-1'), JSON.stringify(batch(9, T0 + 60_000)), { qos: 1 }, (err) => resolve(err === undefined || err === null));
    });
    expect(acked).toBe(true);
    expect(c.connected).toBe(true);
    expect(hub.metrics.render()).toMatch(/^ioc_hub_spool_depth [1-9]/m);
    const health = await hub.http.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(503);
  });
});
