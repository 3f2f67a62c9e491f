// The office collectors of a real agent process through the real pipeline: the queue endpoint fed by HTTP events,
// a display read back over HTTP, a Modbus UPS and sensor (jsmodbus, a server we did not write), interfaces and
// uplink from a /proc tree we control → MQTT → the hub process → a real influxd.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import jsmodbus from 'jsmodbus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedProcess } from '../testkit/child-process.ts';
import { freePort } from '../testkit/free-port.ts';
import { startAgentProcess } from '../testkit/agent-process.ts';
import { startStack, type AgentCredentials, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

let stack: Stack;
let me: AgentCredentials;
let agentProc: ManagedProcess | undefined;
let modbusServer: Server | undefined;
let displayServer: HttpServer | undefined;
let queueUrl = '';
let procDir = '';
/** The number the fake display shows (it never moves on by itself). */
const shownNumber = 101;

/** Epoch ms of the first queue event; the others follow at known offsets. */
const T0 = Date.now() - 120_000;

const DEV_HEADER = 'Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
const PROC_NET_DEV = `${DEV_HEADER}    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0\n  eth0: 981234112 10 2 3 0 0 0 0 88123411 10 1 4 0 0 0 0\n wwan0: 5000 10 0 0 0 0 0 0 7000 10 0 0 0 0 0 0\n`;
const ROUTE_HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n';
const routeVia = (iface: string): string => `${ROUTE_HEADER}${iface}\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n${iface}\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n`;

/** Replaces a file in one step, so a gather never reads it half written. */
function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** UPS (generic-ups input registers + discrete input) and a temperature/humidity sensor (holding registers). */
function modbusMemory(): { holding: Buffer; input: Buffer; coils: Buffer; discrete: Buffer } {
  const holding = Buffer.alloc(200);
  const input = Buffer.alloc(200);
  const put = (buf: Buffer, address: number, words: number[]): void => words.forEach((w, i) => buf.writeUInt16BE(w, (address + i) * 2));
  put(input, 0, [2205, 2300, 87, 42, 35, 315]);
  put(holding, 0, [655, 287]);
  const discrete = Buffer.alloc(4);
  discrete.writeUInt8(0b1, 0); // on battery
  return { holding, input, coils: Buffer.alloc(4), discrete };
}

async function listenLoopback(server: Server | HttpServer): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  if (typeof a !== 'object' || a === null) throw new Error('no port');
  return a.port;
}

async function rows(q: string): Promise<unknown[][]> {
  const body = await stack.influx.query(q, 'ioc');
  const r = body.results[0];
  if (r?.error !== undefined) throw new Error(r.error);
  return r?.series?.flatMap((s) => s.values ?? []) ?? [];
}

/** `SELECT last(f) … GROUP BY tag` as {tagValue: value} for one site. */
async function lastBy(measurement: string, field: string, tag: string, extraWhere = ''): Promise<Record<string, unknown>> {
  const body = await stack.influx.query(`SELECT last("${field}") FROM "${measurement}" WHERE "site" = '${me.site}'${extraWhere} GROUP BY "${tag}"`, 'ioc');
  const out: Record<string, unknown> = {};
  for (const s of body.results[0]?.series ?? []) out[s.tags?.[tag] ?? ''] = s.values?.[0]?.[1];
  return out;
}

async function postQueue(body: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${queueUrl}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5000) });
  return { status: res.status, json: (await res.json()) as unknown };
}

beforeAll(async () => {
  stack = await startStack({ agents: 1 });
  const first = stack.agents[0];
  if (first === undefined) throw new Error('no agent enrolled');
  me = first;

  modbusServer = createServer();
  new jsmodbus.server.TCP(modbusServer, modbusMemory());
  const modbusPort = await listenLoopback(modbusServer);
  const deadModbusPort = await freePort();

  displayServer = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ state: { number: shownNumber } })));
  const displayPort = await listenLoopback(displayServer);

  procDir = join(stack.dir, 'proc');
  mkdirSync(join(procDir, 'net'), { recursive: true });
  writeAtomic(join(procDir, 'net', 'dev'), PROC_NET_DEV);
  writeAtomic(join(procDir, 'net', 'route'), routeVia('eth0'));

  const queuePort = await freePort();
  queueUrl = `http://127.0.0.1:${queuePort}/v1/queue`;
  agentProc = startAgentProcess(stack, me, [
    `  - { type: queue, listen: { host: 127.0.0.1, port: ${queuePort} }, counters: [quay-1, quay-2, quay-3], intervalS: 1 }`,
    `  - { type: display, display: tv-sanh, url: "http://127.0.0.1:${displayPort}/status", numberField: state.number, queueUrl: "${queueUrl}", counter: quay-1, frozenAfterS: 1, intervalS: 1 }`,
    '  - type: modbus',
    '    name: lan',
    `    transport: { kind: tcp, host: 127.0.0.1, port: ${modbusPort} }`,
    '    devices:',
    '      - { name: ups-1, profile: generic-ups, unitId: 1 }',
    '      - { name: env-1, profile: temp-humidity, unitId: 3 }',
    '    intervalS: 1',
    '  - type: modbus',
    '    name: dead',
    `    transport: { kind: tcp, host: 127.0.0.1, port: ${deadModbusPort} }`,
    '    devices: [{ name: ups-9, profile: generic-ups, timeoutMs: 500, retries: 0 }]',
    '    intervalS: 1',
    `  - { type: net_iface, interfaces: [eth0, wwan0, ppp9], procDir: "${procDir}", intervalS: 1 }`,
    `  - { type: uplink, procDir: "${procDir}", intervalS: 1 }`,
  ]);
  await waitUntil('the queue endpoint of the agent', async () => (await fetch(`http://127.0.0.1:${queuePort}/healthz`, { signal: AbortSignal.timeout(1000) })).ok, 30_000);
}, 90_000);

afterAll(async () => {
  await agentProc?.stop();
  const servers = [modbusServer, displayServer].filter((s) => s !== undefined);
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  await stack?.stop();
});

describe('office collectors of a real agent, through the hub into InfluxDB', () => {
  it('queue events posted to the agent become queue readings and queue_event points', async () => {
    const events = [
      { type: 'issued', counter: 'quay-1', number: 101, at: T0 },
      { type: 'issued', counter: 'quay-1', number: 102, at: T0 + 1000 },
      { type: 'issued', counter: 'quay-1', number: 103, at: T0 + 2000 },
      { type: 'issued', counter: 'quay-2', number: 201, at: T0 + 2500 },
      { type: 'called', counter: 'quay-1', at: T0 + 3000 }, // → 101, waited 3 s
      { type: 'served', counter: 'quay-1', at: T0 + 5000 }, // 101 served after 2 s
      { type: 'called', counter: 'quay-2', at: T0 + 6500 }, // → 201, waited 4 s
    ];
    const r = await postQueue(JSON.stringify({ events }));
    expect(r).toEqual({ status: 202, json: { accepted: 7, rejected: [] } });

    const expected = {
      'quay-1': { waiting: 2, issued_total: 3, served_total: 1, current_number: 101 },
      'quay-2': { waiting: 0, issued_total: 1, served_total: 0, current_number: 201 },
      'quay-3': { waiting: 0, issued_total: 0, served_total: 0 },
      all: { waiting: 2, issued_total: 4, served_total: 1, current_number: 201 },
    };
    await waitUntil('queue readings after the events', async () => (await lastBy('queue', 'issued_total', 'counter'))['all'] === 4, 20_000);
    for (const field of ['waiting', 'issued_total', 'served_total', 'current_number'] as const) {
      const got = await lastBy('queue', field, 'counter', ' AND time > now() - 1h');
      const want = Object.fromEntries(Object.entries(expected).flatMap(([c, v]) => (field in v ? [[c, (v as Record<string, number>)[field]]] : [])));
      expect(got, field).toEqual(want);
    }
    const wait = await lastBy('queue', 'avg_wait_s', 'counter', ' AND time > now() - 1h');
    expect(wait).toMatchObject({ 'quay-1': 3, 'quay-2': 4, all: 3.5 });

    // Every event is a point of its own at the time it happened, tagged with its counter and type.
    const stored = await waitUntil('the 7 queue events', async () => {
      const body = await stack.influx.query(`SELECT "number", "wait_s", "service_s" FROM "queue_event" WHERE "site" = '${me.site}' GROUP BY "counter", "type"`, 'ioc');
      const out = (body.results[0]?.series ?? []).flatMap((s) => (s.values ?? []).map((v) => ({ t: v[0], counter: s.tags?.counter, type: s.tags?.type, number: v[1], wait_s: v[2], service_s: v[3] })));
      return out.length >= 7 ? out : undefined;
    }, 20_000);
    const byTime = [...stored].sort((a, b) => Number(a.t) - Number(b.t));
    expect(byTime).toEqual([
      { t: T0, counter: 'quay-1', type: 'issued', number: 101, wait_s: null, service_s: null },
      { t: T0 + 1000, counter: 'quay-1', type: 'issued', number: 102, wait_s: null, service_s: null },
      { t: T0 + 2000, counter: 'quay-1', type: 'issued', number: 103, wait_s: null, service_s: null },
      { t: T0 + 2500, counter: 'quay-2', type: 'issued', number: 201, wait_s: null, service_s: null },
      { t: T0 + 3000, counter: 'quay-1', type: 'called', number: 101, wait_s: 3, service_s: null },
      { t: T0 + 5000, counter: 'quay-1', type: 'served', number: 101, wait_s: null, service_s: 2 },
      { t: T0 + 6500, counter: 'quay-2', type: 'called', number: 201, wait_s: 4, service_s: null },
    ]);
  });

  it('a bad POST gets 400 and the agent keeps running and accepting events', async () => {
    const badField = await postQueue(JSON.stringify({ type: 'issued', counter: 'quầy 1!', number: -5 }));
    expect(badField.status).toBe(400);
    expect(badField.json).toMatchObject({ error: { code: 'E_BAD_EVENT', issues: expect.arrayContaining([expect.stringMatching(/^counter: /), expect.stringMatching(/^number: /)]) } });
    const badJson = await postQueue('{"type": "issued", ');
    expect(badJson.status).toBe(400);
    expect(badJson.json).toMatchObject({ error: { code: 'E_BAD_REQUEST' } });
    const nothingCalled = await postQueue(JSON.stringify({ type: 'served', counter: 'quay-3' }));
    expect(nothingCalled).toMatchObject({ status: 409, json: { error: { code: 'E_NOTHING_CALLED' } } });

    await new Promise((r) => setTimeout(r, 1500)); // a gather or two after the bad requests
    expect(agentProc?.running).toBe(true);
    expect(await postQueue(JSON.stringify({ type: 'issued', counter: 'quay-3', number: 301 }))).toMatchObject({ status: 202, json: { accepted: 1 } });
    await waitUntil('the event after the bad requests', async () => (await lastBy('queue', 'issued_total', 'counter'))['quay-3'] === 1, 20_000);
    expect((await lastBy('queue', 'issued_total', 'counter'))['all']).toBe(4 + 1);
  });

  it('the display is alive, compared with the queue, and reported frozen when the queue moves on without it', async () => {
    await waitUntil('display reading showing 101 = expected', async () => {
      const r = await rows(`SELECT last("shown_number"), last("expected_number"), last("frozen"), last("alive"), last("result") FROM "display" WHERE "site" = '${me.site}' AND "display" = 'tv-sanh'`);
      return r[0]?.[1] === 101 && r[0][2] === 101 ? r : undefined;
    }, 20_000);
    const settled = await rows(`SELECT last("frozen"), last("alive"), last("result") FROM "display" WHERE "site" = '${me.site}'`);
    expect(settled[0]?.slice(1)).toEqual([0, 1, 'ok']);
    // quay-1 calls 102; the display stays on 101 for more than frozenAfterS (1 s)
    expect((await postQueue(JSON.stringify({ type: 'called', counter: 'quay-1' }))).status).toBe(202);
    const ev = await waitUntil('display_event frozen', async () => {
      const r = await rows(`SELECT "frozen", "shown_number" FROM "display_event" WHERE "site" = '${me.site}' AND "display" = 'tv-sanh' AND "type" = 'frozen'`);
      return r.length > 0 ? r : undefined;
    }, 20_000);
    expect(ev.map((r) => r.slice(1))).toEqual([[1, 101]]);
    const latest = await rows(`SELECT last("frozen"), last("expected_number") FROM "display" WHERE "site" = '${me.site}'`);
    expect(latest[0]?.slice(1)).toEqual([1, 102]);
  });

  it('Modbus equipment fields land per device, and a dead bus is a reading', async () => {
    await waitUntil('equipment of the three devices', async () => Object.keys(await lastBy('equipment', 'up', 'device')).length === 3, 20_000);
    expect(await lastBy('equipment', 'up', 'device')).toEqual({ 'ups-1': 1, 'env-1': 1, 'ups-9': 0 });
    expect(await lastBy('equipment', 'result', 'device')).toEqual({ 'ups-1': 'ok', 'env-1': 'ok', 'ups-9': 'refused' });
    const ups = await rows(`SELECT last("input_v"), last("output_v"), last("battery_pct"), last("load_pct"), last("runtime_min"), last("temp_c"), last("on_battery") FROM "equipment" WHERE "site" = '${me.site}' AND "device" = 'ups-1' AND "kind" = 'ups'`);
    expect(ups[0]?.slice(1)).toEqual([220.5, 230, 87, 42, 35, 31.5, 1]);
    const env = await rows(`SELECT last("humidity_pct"), last("temp_c") FROM "equipment" WHERE "site" = '${me.site}' AND "device" = 'env-1' AND "kind" = 'env'`);
    expect(env[0]?.slice(1)).toEqual([65.5, 28.7]);
  });

  it('interfaces and the uplink land, and an uplink change is an uplink_event', async () => {
    await waitUntil('net_iface rates (second gather on)', async () => (await lastBy('net_iface', 'rx_bps', 'iface'))['eth0'] !== undefined, 20_000);
    expect(await lastBy('net_iface', 'present', 'iface')).toEqual({ eth0: 1, wwan0: 1, ppp9: 0 });
    const eth0 = await rows(`SELECT last("rx_bytes"), last("tx_bytes"), last("errors"), last("drops"), last("rx_bps"), last("tx_bps") FROM "net_iface" WHERE "site" = '${me.site}' AND "iface" = 'eth0'`);
    expect(eth0[0]?.slice(1)).toEqual([981234112, 88123411, 3, 7, 0, 0]); // counters unchanged: 0 B/s

    const fibre = await rows(`SELECT last("uplink"), last("iface"), last("on_4g") FROM "uplink" WHERE "site" = '${me.site}'`);
    expect(fibre[0]?.slice(1)).toEqual(['fibre', 'eth0', 0]);
    writeAtomic(join(procDir, 'net', 'route'), routeVia('wwan0'));
    const ev = await waitUntil('uplink_event', async () => {
      const r = await rows(`SELECT "uplink", "iface", "previous", "previous_iface" FROM "uplink_event" WHERE "site" = '${me.site}'`);
      return r.length > 0 ? r : undefined;
    }, 20_000);
    expect(ev.map((r) => r.slice(1))).toEqual([['4g', 'wwan0', 'fibre', 'eth0']]);
    await waitUntil('uplink reading on 4G', async () => (await rows(`SELECT last("on_4g") FROM "uplink" WHERE "site" = '${me.site}'`))[0]?.[1] === 1, 20_000);
    const g4 = await rows(`SELECT last("uplink"), last("iface") FROM "uplink" WHERE "site" = '${me.site}'`);
    expect(g4[0]?.slice(1)).toEqual(['4g', 'wwan0']);
    expect(agentProc?.running).toBe(true);
  });
});
