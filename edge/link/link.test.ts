import mqtt from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { batchSchema, cmdResultTopic, cmdTopic, statusSchema, statusTopic, telemetryTopic } from '../../protocol/index.ts';
import { MqttLink, type MqttLinkOptions } from './link.ts';
import { MemoryOutbox, type OutboxEntry } from '../outbox.ts';
import { TestBroker } from '../../testkit/test-broker.ts';
import { waitUntil } from '../../testkit/wait.ts';

const SITE = 'xa-test';
const AGENT = 'pi-1';
const IDENTITY = `${SITE}/${AGENT}`;
const TOKEN = 'secret-token';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});
afterAll(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function entry(seq: number): OutboxEntry {
  return { seq, payload: JSON.stringify([{ m: 'agent_report', t: 1_700_000_000_000 + seq, fields: { uptime_s: seq } }]), points: 1 };
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  await waitUntil(what, cond, timeoutMs, 10);
}

async function startBroker(opts: { port?: number; pubackDelayMs?: number } = {}): Promise<TestBroker> {
  const b = await TestBroker.start({ ...opts, tokens: new Map([[IDENTITY, TOKEN], ['watcher', 'w'], ['hub', 'h']]) });
  return b;
}

function makeLink(url: string, outbox: MemoryOutbox, extra: Partial<MqttLinkOptions> = {}): MqttLink {
  const link = new MqttLink({
    url,
    site: SITE,
    agent: AGENT,
    token: TOKEN,
    outbox,
    reconnectMinMs: 50,
    reconnectMaxMs: 400,
    connectTimeoutMs: 2000,
    keepaliveS: 5,
    clockSynced: true,
    ...extra,
  });
  link.on('error', () => undefined);
  cleanups.push(async () => link.stop({ drainTimeoutMs: 200 }));
  return link;
}

function telemetrySeqs(b: TestBroker): number[] {
  return b.received.filter((r) => r.topic === telemetryTopic(SITE, AGENT)).map((r) => batchSchema.parse(JSON.parse(r.payload)).seq);
}

describe('MqttLink', () => {
  it('publishes the outbox with QoS 1 and acks only on PUBACK; retained online status on connect', async () => {
    const broker = await startBroker({ pubackDelayMs: 30 });
    cleanups.push(() => broker.stop());
    const outbox = new MemoryOutbox({ maxBatches: 100 });
    for (let s = 1; s <= 20; s += 1) await outbox.append(entry(s));
    const link = makeLink(broker.url, outbox, { maxInflight: 4, configRev: 'abc', inventory: () => ({ kernel: '6.6.51+rpt-rpi-v8', usb: [{ vendorId: '0764', productId: '0501' }] }) });
    let maxSeenInflight = 0;
    const timer = setInterval(() => (maxSeenInflight = Math.max(maxSeenInflight, link.stats().leased)), 1);
    link.start();
    await waitFor(() => outbox.depth === 0, 10_000, 'outbox drained');
    clearInterval(timer);
    expect(maxSeenInflight).toBeLessThanOrEqual(4);
    expect(telemetrySeqs(broker)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(link.stats()).toMatchObject({ connected: true, batchesAcked: 20, pointsAcked: 20 });
    const status = broker.received.find((r) => r.topic === statusTopic(SITE, AGENT));
    expect(status?.retain).toBe(true);
    expect(status?.clientId).toBe(IDENTITY);
    const parsed = statusSchema.parse(JSON.parse(status?.payload ?? '{}'));
    expect(parsed).toMatchObject({ online: true, configRev: 'abc', clockSynced: true, inventory: { kernel: '6.6.51+rpt-rpi-v8', usb: [{ vendorId: '0764', productId: '0501' }] } });
  });

  it('sends the online status again with the inventory as it is now when asked while connected', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.stop());
    let uptimeS = 100;
    const link = makeLink(broker.url, new MemoryOutbox({ maxBatches: 10 }), { inventory: () => ({ uptimeS, diskFreeBytes: 1000 + uptimeS }) });
    const statuses = () => broker.received.filter((r) => r.topic === statusTopic(SITE, AGENT)).map((r) => ({ retain: r.retain, status: statusSchema.parse(JSON.parse(r.payload)) }));
    link.refreshStatus(); // not connected yet: nothing
    link.start();
    cleanups.push(() => link.stop({ drainTimeoutMs: 100 }));
    await waitFor(() => statuses().length === 1, 10_000, 'first online status');
    uptimeS = 700;
    link.refreshStatus();
    await waitFor(() => statuses().length === 2, 10_000, 'status sent again');
    expect(statuses().map((s) => [s.retain, s.status.online, s.status.inventory?.uptimeS, s.status.inventory?.diskFreeBytes])).toEqual([
      [true, true, 100, 1100],
      [true, true, 700, 1700],
    ]);
  });

  it('reconnects with back-off after a broker restart on the same port: nothing lost, order kept', async () => {
    let broker = await startBroker({ pubackDelayMs: 40 });
    const port = broker.port;
    const first = broker;
    const outbox = new MemoryOutbox({ maxBatches: 1000 });
    const link = makeLink(broker.url, outbox, { maxInflight: 4 });
    let closes = 0;
    let connects = 0;
    link.on('close', () => (closes += 1));
    link.on('connect', () => (connects += 1));
    link.start();
    let seq = 1;
    const producer = setInterval(() => {
      void outbox.append(entry(seq)).then(() => link.kick());
      seq += 1;
    }, 5);
    await waitFor(() => link.stats().batchesAcked >= 10, 10_000, 'first acks');
    await waitFor(() => link.stats().leased > 0, 5000, 'batches in flight');
    await first.stop(); // in-flight publishes die with the broker
    await new Promise((r) => setTimeout(r, 300)); // refused connects meanwhile
    broker = await startBroker({ port, pubackDelayMs: 40 });
    cleanups.push(() => broker.stop());
    await waitFor(() => connects >= 2, 10_000, 'reconnect');
    clearInterval(producer);
    const last = seq - 1;
    await waitFor(() => outbox.depth === 0, 15_000, 'outbox drained after restart');
    expect(closes).toBeGreaterThanOrEqual(1);
    const seen = [...telemetrySeqs(first), ...telemetrySeqs(broker)];
    const firstSeen: number[] = [];
    const set = new Set<number>();
    for (const s of seen) {
      if (!set.has(s)) {
        set.add(s);
        firstSeen.push(s);
      }
    }
    // Every batch arrives; after the reconnect the backlog (marked late) is replayed in seq order
    // while batches appended since the reconnect go first in the live lane.
    expect([...firstSeen].sort((x, y) => x - y)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    const late = broker.received.filter((r) => r.topic === telemetryTopic(SITE, AGENT)).map((r) => batchSchema.parse(JSON.parse(r.payload))).filter((b) => b.late === true).map((b) => b.seq);
    expect(late).toEqual([...late].sort((x, y) => x - y));
    // only what was in flight when the broker died may come twice
    expect(seen.length - firstSeen.length).toBeLessThanOrEqual(4);
  });

  it('after an outage: fresh batches are acknowledged at once while a backlog of thousands is replayed in order, rate-limited', async () => {
    const broker = await startBroker({ pubackDelayMs: 15 });
    cleanups.push(() => broker.stop());
    const outbox = new MemoryOutbox({ maxBatches: 100_000 });
    const BACKLOG = 3000;
    const RATE = 500;
    for (let s = 1; s <= BACKLOG; s += 1) await outbox.append(entry(s));
    const link = makeLink(broker.url, outbox, { maxInflight: 8, replayBatchesPerS: RATE });
    const appendedAt = new Map<number, number>();
    const latency: number[] = [];
    link.on('ack', (a) => {
      const at = appendedAt.get(a.seq);
      if (at !== undefined) latency.push(Date.now() - at);
    });
    let maxInflight = 0;
    const sampler = setInterval(() => (maxInflight = Math.max(maxInflight, link.stats().leased)), 1);
    const started = Date.now();
    link.start();
    await waitFor(() => link.connected, 5000, 'connect');
    let seq = BACKLOG + 1;
    const producer = setInterval(() => {
      const s = seq;
      seq += 1;
      appendedAt.set(s, Date.now());
      void outbox.append(entry(s)).then(() => link.kick());
    }, 50);
    await waitFor(() => link.stats().backlog === 0, 20_000, 'backlog replayed');
    const drainMs = Date.now() - started;
    clearInterval(producer);
    await waitFor(() => outbox.depth === 0, 5000, 'outbox empty');
    await outbox.append(entry(seq)); // sent once the backlog is gone: neither late nor backlog
    link.kick();
    await waitFor(() => outbox.depth === 0, 5000, 'outbox empty');
    clearInterval(sampler);
    // fresh batches did not wait behind the backlog
    expect(latency.length).toBeGreaterThan(20);
    const sorted = [...latency].sort((x, y) => x - y);
    expect(sorted[Math.floor(sorted.length * 0.95)]).toBeLessThan(500);
    // the replay was rate-limited (a burst of RATE, then RATE a second) and stayed within maxInflight
    expect(drainMs).toBeGreaterThanOrEqual(((BACKLOG - RATE) / RATE) * 1000 * 0.9);
    expect(maxInflight).toBeLessThanOrEqual(8);
    const batches = broker.received.filter((r) => r.topic === telemetryTopic(SITE, AGENT)).map((r) => batchSchema.parse(JSON.parse(r.payload)));
    const late = batches.filter((b) => b.late === true).map((b) => b.seq);
    expect(late).toEqual(Array.from({ length: BACKLOG }, (_, i) => i + 1));
    // live batches carry no late mark; while the backlog lasted they carried its depth and age
    const live = batches.filter((b) => b.late !== true);
    expect(live.every((b) => b.seq > BACKLOG)).toBe(true);
    expect(live.some((b) => b.backlog !== undefined && b.backlog.depth > 0)).toBe(true);
    expect(batches[0]?.backlog?.depth).toBe(BACKLOG);
    expect(batches.at(-1)?.backlog).toBeUndefined();
    expect(link.stats().batchesReplayed).toBe(BACKLOG);
  }, 30_000);

  it('leaves a retained online:false last will when the socket dies', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.stop());
    const outbox = new MemoryOutbox({ maxBatches: 10 });
    const link = makeLink(broker.url, outbox, { reconnectMinMs: 5000, reconnectMaxMs: 5000, inventory: () => ({ kernel: '6.6' }) });
    link.start();
    await waitFor(() => link.connected, 5000, 'connect');
    broker.dropClients();
    await waitFor(() => !link.connected, 5000, 'close');
    // a fresh subscriber sees the retained will
    const watcher = await mqtt.connectAsync(broker.url, { clientId: 'watcher', username: 'watcher', password: 'w', reconnectPeriod: 0 });
    cleanups.push(async () => void (await watcher.endAsync(true)));
    const got = new Promise<{ payload: string; retain: boolean }>((resolve) => {
      watcher.on('message', (_t, payload, packet) => resolve({ payload: payload.toString(), retain: packet.retain }));
    });
    await watcher.subscribeAsync(statusTopic(SITE, AGENT), { qos: 1 });
    const msg = await got;
    expect(msg.retain).toBe(true);
    expect(statusSchema.parse(JSON.parse(msg.payload)).online).toBe(false);
    expect(statusSchema.parse(JSON.parse(msg.payload)).inventory).toBeUndefined(); // the will stays small: no inventory
  });

  it('keeps retrying with capped back-off when the hub refuses the token', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.stop());
    const outbox = new MemoryOutbox({ maxBatches: 10 });
    await outbox.append(entry(1));
    const errors: Error[] = [];
    const link = makeLink(broker.url, outbox, { token: 'wrong', reconnectMinMs: 20, reconnectMaxMs: 80 });
    link.on('error', (e) => errors.push(e));
    link.start();
    await waitFor(() => broker.refused.length >= 3, 5000, 'three refusals');
    expect(link.connected).toBe(false);
    expect(outbox.depth).toBe(1);
    expect(errors.some((e) => /refused/i.test(e.message))).toBe(true);
  });

  it('answers commands on cmd-result and publishes online:false on stop', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.stop());
    const outbox = new MemoryOutbox({ maxBatches: 10 });
    const link = makeLink(broker.url, outbox);
    link.handleCommand('probe-now', async () => ({ collectors: 3 }));
    link.start();
    await waitFor(() => link.connected, 5000, 'connect');
    const hub = await mqtt.connectAsync(broker.url, { clientId: 'hub', username: 'hub', password: 'h', reconnectPeriod: 0 });
    cleanups.push(async () => void (await hub.endAsync(true)));
    const results: string[] = [];
    hub.on('message', (_t, payload) => results.push(payload.toString()));
    await hub.subscribeAsync(cmdResultTopic(SITE, AGENT, 'c1').replace(/c1$/, '+'), { qos: 1 });
    await new Promise((r) => setTimeout(r, 100)); // the agent's subscription
    await hub.publishAsync(cmdTopic(SITE, AGENT, 'probe-now'), JSON.stringify({ id: 'c1', name: 'probe-now', issuedAt: Date.now() }), { qos: 1 });
    await hub.publishAsync(cmdTopic(SITE, AGENT, 'reboot'), JSON.stringify({ id: 'c2', name: 'reboot', issuedAt: Date.now() }), { qos: 1 });
    await waitFor(() => results.length >= 2, 5000, 'command results');
    const byId = new Map(results.map((r) => [JSON.parse(r).id as string, JSON.parse(r) as { ok: boolean; result?: unknown; error?: string }]));
    expect(byId.get('c1')).toMatchObject({ ok: true, result: { collectors: 3 } });
    expect(byId.get('c2')).toMatchObject({ ok: false, error: 'unknown command: reboot' });
    await link.stop();
    await link.stop();
    const statuses = broker.received.filter((r) => r.topic === statusTopic(SITE, AGENT)).map((r) => statusSchema.parse(JSON.parse(r.payload)).online);
    expect(statuses.at(-1)).toBe(false);
  });
});
