// The measurement catalogue (protocol/measurements.ts) is the one list of what is written to InfluxDB: the hub's
// contract is derived from it, every collector plugin declares its `writes` in its terms, and this test holds
// the rest to it: what every collector really writes (each run against local servers and recorded system files),
// the fields the dashboards' queries read, and the measurement tables of README.md and edge/README.md
// (generated from the catalogue: `UPDATE_DOCS=1 npx vitest run test/measurements-catalogue.test.ts` rewrites them).
import { createSocket, type Socket } from 'node:dgram';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jsmodbus from 'jsmodbus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { GENERATED_DIR } from '../dashboards/generate.ts';
import { COLLECTOR_PLUGINS, type AnyMeasurementWrite } from '../edge/collectors/index.ts';
import { createDisplayCollector, displayConfigSchema } from '../edge/collectors/display.ts';
import { createGpioCollector, gpioConfigSchema } from '../edge/collectors/gpio/gpio.ts';
import { FakePinBoard, type PinOpener } from '../edge/collectors/gpio/pin.ts';
import { decodeThrottled } from '../edge/collectors/host.ts';
import { createQueueCollector, queueConfigSchema } from '../edge/collectors/queue/queue.ts';
import type { Collector } from '../edge/collectors/types.ts';
import { silentLogger } from '../edge/logger.ts';
import { RecordingAccumulator, type Reading } from '../testkit/recording-accumulator.ts';
import { fieldTypeOf, HUB_TAGS, MEASUREMENTS, type FieldType, type MeasurementSpec } from '../protocol/index.ts';
import { ROLLUP_MEASUREMENTS } from '../hub/storage/influx-schema.ts';
import { freePort } from '../testkit/free-port.ts';

const CATALOGUE: Readonly<Record<string, MeasurementSpec>> = MEASUREMENTS;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SYSTEM_FIXTURES = fileURLToPath(new URL('../edge/system/fixtures/', import.meta.url));
const logger = silentLogger();
const signal = (): AbortSignal => AbortSignal.timeout(15_000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Declared fields a run here cannot produce, and why; every other declared field must appear in the output. */
const NOT_EXERCISED: Readonly<Record<string, readonly string[]>> = {
  // https only (the servers here are plain http)
  http: ['net_probe.cert_days_left'],
  // vcgencmd exists on a Raspberry Pi only; decodeThrottled's names are checked against the declaration below
  host: ['host.throttled', 'host.under_voltage', 'host.freq_capped', 'host.throttled_now', 'host.soft_temp_limit', 'host.under_voltage_seen', 'host.throttled_seen'],
};

const outputs = new Map<string, Reading[]>();
const cleanups: (() => Promise<void> | void)[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'ioc-catalogue-'));

async function listenHttp(handler: Parameters<typeof createHttpServer>[1]): Promise<{ url: string; server: HttpServer }> {
  const server = createHttpServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const a = server.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`, server };
}

async function listenTcp(server: TcpServer): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const a = server.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
}

/** A DNS server answering A queries for `found.test` with 10.0.0.7, NXDOMAIN for every other name. */
async function dnsServer(): Promise<number> {
  const server: Socket = createSocket('udp4');
  server.on('message', (msg, rinfo) => {
    let i = 12;
    const labels: string[] = [];
    while (i < msg.length && msg[i] !== 0) {
      const len = msg[i] ?? 0;
      labels.push(msg.subarray(i + 1, i + 1 + len).toString());
      i += len + 1;
    }
    const found = labels.join('.') === 'found.test';
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    header.writeUInt16BE(found ? 0x8180 : 0x8183, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(found ? 1 : 0, 6);
    const answer = found ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 7]) : Buffer.alloc(0);
    server.send(Buffer.concat([header, msg.subarray(12, i + 5), answer]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return server.address().port;
}

async function runPlugin(type: string, entries: Record<string, unknown>[], gathers = 1): Promise<void> {
  const plugin = COLLECTOR_PLUGINS.find((p) => p.type === type);
  if (plugin === undefined) throw new Error(`no plugin ${type}`);
  const acc = new RecordingAccumulator();
  for (const entry of entries) {
    const config = plugin.configSchema.parse({ type, ...entry });
    // The plugin list's own factory, erased the way the agent calls it.
    const c = (plugin.create as (config: unknown, ctx: { logger: typeof logger }) => Collector)(config, { logger });
    try {
      for (let g = 0; g < gathers; g += 1) {
        if (g > 0) await sleep(30);
        await c.gather(acc, signal());
      }
    } finally {
      await c.close?.();
    }
  }
  outputs.set(type, [...(outputs.get(type) ?? []), ...acc.readings]);
}

function record(type: string, acc: RecordingAccumulator): void {
  outputs.set(type, [...(outputs.get(type) ?? []), ...acc.readings]);
}

beforeAll(async () => {
  // tcp: a listener and a closed port
  const tcpPort = await listenTcp(createTcpServer((s) => s.end()));
  const closed = await freePort();
  await runPlugin('tcp', [{ host: '127.0.0.1', port: tcpPort }, { host: '127.0.0.1', port: closed }]);

  // http: 200 with the expected text, and a status that is not up
  const web = await listenHttp((req, res) => {
    if (req.url === '/missing') res.writeHead(404).end('no');
    else res.writeHead(200, { 'content-type': 'text/plain' }).end('Dịch vụ công');
  });
  await runPlugin('http', [{ url: `${web.url}/`, expectText: 'Dịch vụ công' }, { url: `${web.url}/missing` }, { url: `http://127.0.0.1:${closed}/` }]);

  // dns: an answer and NXDOMAIN
  const dnsPort = await dnsServer();
  await runPlugin('dns', [
    { query: 'found.test', server: `127.0.0.1:${dnsPort}` },
    { query: 'missing.test', server: `127.0.0.1:${dnsPort}` },
  ]);

  // icmp: the real ping to loopback (iputils-ping, scripts/os-packages.json), and one without a ping binary
  await runPlugin('icmp', [{ host: '127.0.0.1', count: 2 }, { host: '127.0.0.1', pingPath: join(tmp, 'no-such-ping') }]);

  // host: the recorded /proc files (two gathers: cpu_pct needs a baseline), a Pi's thermal zone
  const proc = join(tmp, 'proc');
  mkdirSync(join(proc, 'net'), { recursive: true });
  for (const f of ['stat', 'meminfo', 'uptime']) copyFileSync(join(SYSTEM_FIXTURES, `proc-${f}.txt`), join(proc, f));
  writeFileSync(join(tmp, 'temp'), '48312\n');
  {
    const plugin = COLLECTOR_PLUGINS.find((p) => p.type === 'host');
    if (plugin === undefined) throw new Error('no host plugin');
    const c = (plugin.create as (config: unknown, ctx: { logger: typeof logger }) => Collector)(plugin.configSchema.parse({ type: 'host', procDir: proc, thermalFile: join(tmp, 'temp'), diskPath: tmp }), { logger });
    const acc = new RecordingAccumulator();
    await c.gather(acc, signal());
    // one more second of CPU time: the second gather has a cpu_pct
    writeFileSync(join(proc, 'stat'), readFileSync(join(proc, 'stat'), 'utf8').replace(/^cpu {2}(\d+)/, (_m, user: string) => `cpu  ${Number(user) + 100}`));
    await c.gather(acc, signal());
    record('host', acc);
  }

  // net_iface: the recorded /proc/net/dev, then the same with more bytes; an interface that is not there
  copyFileSync(join(SYSTEM_FIXTURES, 'proc-net-dev.txt'), join(proc, 'net', 'dev'));
  {
    const plugin = COLLECTOR_PLUGINS.find((p) => p.type === 'net_iface');
    if (plugin === undefined) throw new Error('no net_iface plugin');
    const c = (plugin.create as (config: unknown, ctx: { logger: typeof logger }) => Collector)(plugin.configSchema.parse({ type: 'net_iface', procDir: proc, interfaces: ['eth0', 'wwan0'] }), { logger });
    const acc = new RecordingAccumulator();
    await c.gather(acc, signal());
    await sleep(30);
    writeFileSync(join(proc, 'net', 'dev'), readFileSync(join(proc, 'net', 'dev'), 'utf8').replace('eth0: 722663721', 'eth0: 722763721'));
    await c.gather(acc, signal());
    record('net_iface', acc);
  }

  // uplink: the recorded route table, then a 4G modem taking the default route
  copyFileSync(join(SYSTEM_FIXTURES, 'proc-net-route.txt'), join(proc, 'net', 'route'));
  {
    const plugin = COLLECTOR_PLUGINS.find((p) => p.type === 'uplink');
    if (plugin === undefined) throw new Error('no uplink plugin');
    const c = (plugin.create as (config: unknown, ctx: { logger: typeof logger }) => Collector)(plugin.configSchema.parse({ type: 'uplink', procDir: proc }), { logger });
    const acc = new RecordingAccumulator();
    await c.gather(acc, signal());
    writeFileSync(join(proc, 'net', 'route'), 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\nwwan0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n');
    await c.gather(acc, signal());
    record('uplink', acc);
  }

  // queue: events through its HTTP endpoint, then a gather
  const queuePort = await freePort();
  const queue = createQueueCollector(queueConfigSchema.parse({ type: 'queue', listen: { port: queuePort }, counters: ['c1'] }), { logger });
  cleanups.push(() => queue.close?.());
  {
    const acc = new RecordingAccumulator();
    await queue.start?.(acc);
    const post = async (events: unknown[]): Promise<void> => {
      const res = await fetch(`http://127.0.0.1:${queuePort}/v1/queue/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
      expect(res.status).toBe(202);
    };
    await post([
      { type: 'issued', counter: 'c1', number: 1 },
      { type: 'issued', counter: 'c1', number: 2 },
      { type: 'issued', counter: 'c1', number: 3 },
    ]);
    await sleep(20);
    await post([{ type: 'called', counter: 'c1' }]);
    await sleep(20);
    await post([{ type: 'served', counter: 'c1' }, { type: 'called', counter: 'c1' }, { type: 'skipped', counter: 'c1' }, { type: 'called', counter: 'c1' }]);
    await queue.gather(acc, signal());
    record('queue', acc);
  }

  // display: alive with the queue's number, frozen past the threshold, lost, back
  let shown = 3;
  let up = true;
  const screen = await listenHttp((_req, res) => {
    if (up) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ number: shown }));
    else res.writeHead(503).end();
  });
  {
    let t = Date.now();
    const c = createDisplayCollector(displayConfigSchema.parse({ type: 'display', display: 'tv-1', url: screen.url, queueUrl: `http://127.0.0.1:${queuePort}/v1/queue`, counter: 'c1', frozenAfterS: 60 }), { logger }, { now: () => t });
    const acc = new RecordingAccumulator();
    shown = 2; // the queue is at 3: a mismatch
    await c.gather(acc, signal());
    t += 61_000;
    await c.gather(acc, signal());
    up = false;
    t += 15_000;
    await c.gather(acc, signal());
    up = true;
    shown = 3;
    await c.gather(acc, signal());
    record('display', acc);
  }

  // modbus: every built-in profile and a custom register on a jsmodbus server, and a dead endpoint
  const mem = { holding: Buffer.alloc(400), input: Buffer.alloc(400), coils: Buffer.alloc(8), discrete: Buffer.alloc(8) };
  const modbusServer = createTcpServer();
  new jsmodbus.server.TCP(modbusServer, mem);
  const modbusPort = await listenTcp(modbusServer);
  await runPlugin('modbus', [
    {
      transport: { kind: 'tcp', host: '127.0.0.1', port: modbusPort },
      devices: [
        { name: 'ups-1', profile: 'generic-ups' },
        { name: 'meter-1', profile: 'power-meter' },
        { name: 'env-1', profile: 'temp-humidity' },
        { name: 'printer-1', kind: 'printer', registers: [{ field: 'pages', address: 10, type: 'uint32' }] },
      ],
    },
    { transport: { kind: 'tcp', host: '127.0.0.1', port: closed }, devices: [{ name: 'ups-9', profile: 'generic-ups' }] },
  ]);

  // gpio: a door that opens (an edge), and a line that cannot be opened
  {
    const board = new FakePinBoard();
    const open: PinOpener = async (spec, opts) => {
      if (spec.line === 'GPIO6') throw new Error('line busy');
      return await board.open(spec, opts);
    };
    const c = createGpioCollector(gpioConfigSchema.parse({ type: 'gpio', debounceMs: 0, inputs: [{ line: 'GPIO5', name: 'door' }, { line: 'GPIO6', name: 'mains' }] }), { logger }, { openPin: open });
    cleanups.push(() => c.close?.());
    const acc = new RecordingAccumulator();
    await c.start?.(acc);
    board.get('GPIO5').set(1);
    await sleep(30);
    await c.gather(acc, signal());
    record('gpio', acc);
  }
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(tmp, { recursive: true, force: true });
});

function declared(w: AnyMeasurementWrite): { tags: readonly string[]; fields: readonly string[] } {
  return { tags: w.tags, fields: w.fields };
}

describe('collector plugins write what they declare, in the catalogue', () => {
  it('every declaration names an agent measurement of the catalogue, its tags and fields', () => {
    const hubTags = new Set<string>(HUB_TAGS);
    for (const plugin of COLLECTOR_PLUGINS) {
      for (const w of plugin.writes) {
        const spec = CATALOGUE[w.measurement];
        const where = `${plugin.type} → ${w.measurement}`;
        expect(spec, where).toBeDefined();
        if (spec === undefined) continue;
        expect(spec.owner, where).toBe('agent');
        const { tags, fields } = declared(w);
        for (const t of tags) {
          expect(spec.tags, where).toContain(t);
          expect(hubTags.has(t), `${where}: ${t} is the hub's`).toBe(false);
        }
        for (const f of fields) expect(Object.keys(spec.fields), where).toContain(f);
        if (w.otherFields === true) expect(spec.otherFields, where).toBeDefined();
        expect(w.event === true, `${where}: events are the *_event measurements`).toBe(w.measurement.endsWith('_event'));
      }
    }
    // host: the names decodeThrottled gives are declared (vcgencmd runs on a Pi only)
    const host = COLLECTOR_PLUGINS.find((p) => p.type === 'host')?.writes[0];
    expect(host?.fields).toEqual(expect.arrayContaining(['throttled', ...Object.keys(decodeThrottled(0x50005))]));
  });

  for (const plugin of COLLECTOR_PLUGINS) {
    it(`${plugin.type}: its real output only holds declared measurements, tags and fields of the catalogue's type, and every declared field`, () => {
      const readings = outputs.get(plugin.type) ?? [];
      expect(readings.length, `${plugin.type} wrote nothing`).toBeGreaterThan(0);
      const byMeasurement = new Map(plugin.writes.map((w) => [w.measurement as string, w]));
      const seen = new Set<string>();
      for (const r of readings) {
        const w = byMeasurement.get(r.m);
        const what = `${plugin.type} wrote ${r.m} ${JSON.stringify({ tags: r.tags, fields: r.fields })}`;
        expect(w, what).toBeDefined();
        const spec = CATALOGUE[r.m];
        if (w === undefined || spec === undefined) continue;
        expect(r.channel, what).toBe(w.event === true ? 'event' : 'telemetry');
        const { tags, fields } = declared(w);
        for (const t of Object.keys(r.tags ?? {})) expect(tags, what).toContain(t);
        for (const [f, v] of Object.entries(r.fields)) {
          const known = Object.hasOwn(spec.fields, f);
          if (known) expect(fields, what).toContain(f);
          else expect(w.otherFields === true, `${what}: ${f} is neither declared nor an other field`).toBe(true);
          expect(fieldTypeOf(v), `${what}: ${f}`).toBe(known ? spec.fields[f] : spec.otherFields);
          if (known) seen.add(`${r.m}.${f}`);
        }
        seen.add(r.m);
      }
      const expected = plugin.writes.flatMap((w) => [w.measurement, ...w.fields.map((f) => `${w.measurement}.${f}`)]).filter((k) => !(NOT_EXERCISED[plugin.type] ?? []).includes(k));
      expect([...seen].sort()).toEqual([...new Set(expected)].sort());
    });
  }
});

// ---- the dashboards' queries -------------------------------------------------------------------------------

/** Every InfluxQL string of the generated dashboards (panel targets, annotations, variables). */
function dashboardQueries(): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'query' && typeof x === 'string') out.push(x);
        else walk(x);
      }
    }
  };
  for (const f of readdirSync(GENERATED_DIR).filter((n) => n.endsWith('.json'))) walk(JSON.parse(readFileSync(join(GENERATED_DIR, f), 'utf8')));
  return out;
}

interface QueryLevel {
  text: string;
  subs: QueryLevel[];
}

/** Splits a query into its levels: the text of each SELECT with its subqueries cut out (as `(SUB)`). */
function levelsOf(q: string): QueryLevel {
  const subs: QueryLevel[] = [];
  let text = '';
  for (let i = 0; i < q.length; i += 1) {
    if (q[i] === '(' && /^\(\s*SELECT\b/i.test(q.slice(i))) {
      let depth = 0;
      let j = i;
      for (; j < q.length; j += 1) {
        if (q[j] === '(') depth += 1;
        else if (q[j] === ')' && --depth === 0) break;
      }
      subs.push(levelsOf(q.slice(i + 1, j)));
      text += '(SUB)';
      i = j;
    } else text += q[i];
  }
  return { text, subs };
}

const REGISTRY_TAGS = ['province', 'area'];
const ROLLUP_RPS = new Set(['rollup_1m', 'rollup_1h']);

/** The names a level may use (tags, fields, aliases), and the problems of the names it uses. */
function checkLevel(level: QueryLevel, problems: string[], query: string): Set<string> {
  const inner = level.subs.map((s) => checkLevel(s, problems, query));
  // String and regex literals hold values, not names.
  const text = level.text.replace(/'[^']*'/g, "''").replace(/=~ \/[^/]*\//g, "=~ //");
  const aliases = [...text.matchAll(/\bAS\s+"([^"]+)"/gi)].map((m) => m[1] ?? '');
  const from = /\bFROM\s+(?:"([^"]+)"\.)?"([^"]+)"/i.exec(text);
  const allowed = new Set<string>(aliases);
  if (from !== null) {
    const [, rp, m = ''] = from;
    const spec = CATALOGUE[m];
    if (spec === undefined) problems.push(`${m}: not in the catalogue (${query})`);
    else {
      for (const t of [...spec.tags, ...REGISTRY_TAGS]) allowed.add(t);
      for (const [f, type] of Object.entries(spec.fields)) {
        allowed.add(f);
        // The rollups are `mean(*)` of the raw points (hub/influx-schema.ts): numbers only, as mean_<field>.
        if (rp !== undefined && ROLLUP_RPS.has(rp) && type === 'number') allowed.add(`mean_${f}`);
      }
    }
  } else for (const names of inner) for (const n of names) allowed.add(n);
  const used = [...text.replace(/\bFROM\s+(?:"[^"]+"\.)?"[^"]+"/gi, '').replace(/\bAS\s+"[^"]+"/gi, '').matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? '');
  for (const n of used) if (!allowed.has(n)) problems.push(`"${n}" is no tag, field or alias of ${from?.[2] ?? 'its subquery'} (${query})`);
  return allowed;
}

function queryProblems(query: string): string[] {
  const problems: string[] = [];
  const show = /^SHOW TAG VALUES FROM "([^"]+)" WITH KEY = "([^"]+)"/.exec(query);
  if (show !== null) {
    const spec = CATALOGUE[show[1] ?? ''];
    if (spec === undefined || !spec.tags.includes(show[2] ?? '')) problems.push(`${show[1]}.${show[2]}: no such tag (${query})`);
    return problems;
  }
  checkLevel(levelsOf(query), problems, query);
  return problems;
}

describe("the dashboards' queries read what the catalogue lists", () => {
  it('every measurement, tag and field of every generated query is in the catalogue', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(40);
    expect(queries.flatMap(queryProblems)).toEqual([]);
  });

  it('the check sees a field that is not there (it is not blind)', () => {
    expect(queryProblems('SELECT mean("jitter") AS "j" FROM "net_probe" WHERE $timeFilter GROUP BY "site"')).toHaveLength(1);
    expect(queryProblems('SELECT sum("x") FROM (SELECT last("cpu_pct") AS "cpu" FROM "host" GROUP BY "site") GROUP BY "site"')).toHaveLength(1);
    expect(queryProblems('SELECT mean("mean_result") FROM "rollup_1m"."net_probe"')).toHaveLength(1);
    expect(queryProblems('SHOW TAG VALUES FROM "net_probe" WITH KEY = "iface"')).toHaveLength(1);
  });
});

describe('the hub reads what the catalogue lists', () => {
  it('the rolled-up measurements and the sample alert rules name catalogue measurements, tags and fields', () => {
    for (const m of ROLLUP_MEASUREMENTS) expect(CATALOGUE[m], m).toBeDefined();
    const doc = parseYaml(readFileSync(join(ROOT, 'hub/alerts/samples/alerts.yaml'), 'utf8')) as { rules: { name: string; measurement?: string; field?: string; select?: { tags?: Record<string, string> } }[] };
    const withMeasurement = doc.rules.filter((r) => r.measurement !== undefined);
    expect(withMeasurement.length).toBeGreaterThan(5);
    for (const r of withMeasurement) {
      const spec = CATALOGUE[r.measurement ?? ''];
      expect(spec, r.name).toBeDefined();
      if (spec === undefined) continue;
      if (r.field !== undefined) expect(Object.keys(spec.fields), r.name).toContain(r.field);
      for (const t of Object.keys(r.select?.tags ?? {})) expect([...spec.tags, ...REGISTRY_TAGS], r.name).toContain(t);
    }
  });
});

// ---- the README tables ---------------------------------------------------------------------------------------

const TYPE_SUFFIX: Readonly<Record<FieldType, string>> = { number: '', boolean: ' (bool)', string: ' (string)' };

/** README.md's measurement table, from the catalogue. */
function measurementsTable(): string {
  const rows = Object.entries(CATALOGUE).map(([m, spec]) => {
    const fields = Object.entries(spec.fields).map(([f, t]) => `${f}${TYPE_SUFFIX[t]}`);
    if (spec.otherFields !== undefined) fields.push(`any other${TYPE_SUFFIX[spec.otherFields] || ' number'}`);
    return `| \`${m}\` | ${spec.owner} | ${spec.tags.join(', ')} | ${fields.join(', ')} | ${spec.note ?? ''} |`;
  });
  return ['| measurement | written by | tags | fields (numbers unless marked) | note |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** edge/README.md's collector table, from COLLECTOR_PLUGINS: options with their defaults, and what each writes. */
function collectorsTable(): string {
  const rows = COLLECTOR_PLUGINS.map((p) => {
    const js = z.toJSONSchema(p.configSchema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, { default?: unknown }>; required?: string[] };
    const props = js.properties ?? {};
    const options = Object.entries(props)
      .filter(([k]) => k !== 'type' && k !== 'name')
      .map(([k, v]) => (v.default !== undefined ? `\`${k}: ${JSON.stringify(v.default)}\`` : js.required?.includes(k) === true ? `\`${k}\`` : `\`${k}?\``));
    const out = p.writes.map((w) => `\`${w.measurement}${w.tags.length > 0 ? `{${w.tags.join(',')}}` : ''}\`${w.event === true ? ' (event)' : ''} ${w.fields.join(', ')}${w.otherFields === true ? ', any register field' : ''}`);
    return `| [\`${p.type}\`](collectors/README.md#${p.type}) | ${options.join(', ')} | ${out.join('; ')} |`;
  });
  return ['| type | options (defaults) | writes |', '|---|---|---|', ...rows].join('\n');
}

const BEGIN = (what: string): string => `<!-- ${what}: generated from ${what === 'collectors' ? 'COLLECTOR_PLUGINS (edge/collectors/index.ts)' : 'the catalogue (protocol/measurements.ts)'} by test/measurements-catalogue.test.ts; UPDATE_DOCS=1 rewrites it -->`;
const END = (what: string): string => `<!-- end of ${what} -->`;

/** The text between a file's markers, or rewrites it when UPDATE_DOCS=1. */
function generatedBlock(file: string, what: string, expected: string): string | undefined {
  const path = join(ROOT, file);
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(BEGIN(what));
  const end = text.indexOf(END(what));
  if (start < 0 || end < start) return undefined;
  const body = text.slice(start + BEGIN(what).length + 1, end - 1);
  if (process.env.UPDATE_DOCS === '1' && body !== expected) writeFileSync(path, text.slice(0, start + BEGIN(what).length + 1) + expected + text.slice(end - 1));
  return process.env.UPDATE_DOCS === '1' ? expected : body;
}

describe('the README tables are the catalogue', () => {
  it('README.md: the measurement table', () => {
    expect(generatedBlock('README.md', 'measurements', measurementsTable())).toBe(measurementsTable());
  });

  it('edge/README.md: the collector table, every plugin of the list', () => {
    expect(generatedBlock('edge/README.md', 'collectors', collectorsTable())).toBe(collectorsTable());
  });

  it('README.md and edge/collectors/README.md name every collector type', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const collectorsLine = readme.split('\n').find((l) => l.startsWith('Collectors: ')) ?? '';
    const docs = readFileSync(join(ROOT, 'edge/collectors/README.md'), 'utf8');
    for (const p of COLLECTOR_PLUGINS) {
      expect(collectorsLine, 'README.md').toContain(`\`${p.type}\``);
      expect(docs, 'edge/collectors/README.md').toContain(`| [${p.type}](#${p.type}) |`);
      expect(docs, 'edge/collectors/README.md').toContain(`\n## ${p.type}\n`);
    }
  });

  it("edge/collectors/README.md: each collector's section names every measurement, tag and field it declares", () => {
    const docs = readFileSync(join(ROOT, 'edge/collectors/README.md'), 'utf8');
    for (const p of COLLECTOR_PLUGINS) {
      const start = docs.indexOf(`\n## ${p.type}\n`);
      const next = docs.indexOf('\n## ', start + 1);
      const section = docs.slice(start, next < 0 ? undefined : next);
      const missing = p.writes.flatMap((w) => [w.measurement, ...w.tags, ...w.fields]).filter((name) => !new RegExp(`\\b${name}\\b`).test(section));
      expect(missing, `## ${p.type}`).toEqual([]);
    }
  });
});
