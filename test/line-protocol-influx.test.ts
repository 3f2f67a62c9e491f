// The hub's own line protocol and /write through a real influxd: hostile characters in every part of a point are
// stored as sent (write, query back, equal), refusals come back as the outcomes expect (parseRejection), and the
// request is the one the sink means to send (path, query, basic auth), seen by a local HTTP server.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../hub/logger.ts';
import { InfluxSink } from '../hub/write/influx-sink.ts';
import { BatchPoint, hubTagSet } from '../hub/write/line-protocol.ts';
import { SinkError, type HubPoint } from '../hub/write/sink.ts';
import { checkAgentPoint, TAG_ESCAPE } from '../protocol/index.ts';
import { Rng } from '../testkit/fuzz-gen.ts';
import { InfluxdProcess } from '../testkit/influxd.ts';

let influx: InfluxdProcess;
beforeAll(async () => {
  influx = await InfluxdProcess.start();
}, 60_000);
afterAll(async () => {
  await influx?.stop();
});

const sinkFor = (url: string, database: string, extra: Partial<ConstructorParameters<typeof InfluxSink>[0]> = {}): InfluxSink =>
  new InfluxSink({ url, database, retention: 'INF', timeoutMs: 10_000, logger: silentLogger(), ...extra });

// Everything line protocol escapes or must pass through, but control characters (the contract refuses them) and
// lone surrogates (not text: UTF-8 cannot carry them).
const PIECES = ['a', 'Z', '0', ',', '=', ' ', '"', '\\', "'", "\\'", 'Xã Tam Đảo', '😀', '\u00a0', '#', '{', '}', '.', '-', '_', '*', '/'];
function text(r: Rng, min: number): string {
  let s = '';
  for (let i = r.int(min, 6); i > 0; i--) s += r.pick(PIECES);
  return s;
}
/** A tag value the contract lets through: not ending in a backslash (the test below). */
function tagText(r: Rng): string {
  let s = text(r, 1);
  while (TAG_ESCAPE.test(s)) s = s.slice(0, -1);
  return s === '' ? 'x' : s;
}
/**
 * A hostile tag key, beyond what agents may send (their keys are `[a-z][a-z0-9_]*`): no backslash before , = or
 * space either, as 1.x splits lines before it parses them and reads `\\` there as an escape pair.
 */
function keyText(r: Rng): string {
  let s = tagText(r);
  while (/\\(?:[,= ]|$)/.test(s)) s = s.replace(/\\+(?=[,= ]|$)/g, '');
  return s === '' ? 'x' : s;
}

const tagsKey = (tags: Readonly<Record<string, string>>): string => JSON.stringify(Object.entries(tags).filter(([, v]) => v !== '').sort(([a], [b]) => (a < b ? -1 : 1)));

describe('line protocol into a real influxd', () => {
  it('stores hostile tags, field keys and string fields exactly as sent (2,000 points, plain and batch points)', async () => {
    const sink = sinkFor(influx.url, 'rt');
    await sink.ensureDatabase();
    const r = new Rng(20_261_201);
    const t0 = Date.now() - 3_600_000;
    const hub = hubTagSet({ site: 'xa-tam-dao', agent: 'pi-1', province: 'vinh-phuc', area: 'tam-dao' });
    const measurements = ['net_probe', 'm with space', 'm,comma', 'm=eq'];
    const points: HubPoint[] = [];
    for (let i = 0; i < 2000; i++) {
      const m = r.pick(measurements);
      const own: Record<string, string> = {};
      for (let k = r.int(0, 3); k > 0; k--) own[r.chance(0.5) ? r.pick(['target', 'method']) : `k${keyText(r)}`] = tagText(r);
      // One type per field key in the whole database: numbers, booleans and strings under their own keys.
      const fields: Record<string, number | boolean | string> = { num: r.pick([0, 1, -1, 0.5, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, -(2 ** 63), 2 ** 53 + 2, r.int(-1e6, 1e6) / 7]) };
      if (r.chance(0.6)) fields.flag = r.chance(0.5);
      if (r.chance(0.8)) fields.str = text(r, 0);
      if (r.chance(0.3)) fields[`f ${text(r, 1)}`.replaceAll('\\', '')] = 'odd key';
      const t = t0 + i;
      points.push(r.chance(0.5) ? new BatchPoint(m, own, hub, fields, t) : { measurement: m, tags: { ...own, ...hub.tags }, fields, timestamp: t });
    }
    for (let i = 0; i < points.length; i += 1000) await sink.write(points.slice(i, i + 1000));
    sink.close();

    const stored = new Map<string, Record<string, unknown>>();
    for (const m of measurements) {
      const res = await influx.query(`SELECT * FROM "${m.replaceAll('"', '\\"')}" GROUP BY *`, 'rt');
      expect(res.results[0]?.error).toBeUndefined();
      for (const s of res.results[0]?.series ?? []) {
        for (const row of s.values ?? []) {
          const fields: Record<string, unknown> = {};
          s.columns.forEach((c, j) => {
            if (c !== 'time' && row[j] !== null) fields[c] = row[j];
          });
          stored.set(`${s.name} ${tagsKey(s.tags ?? {})} ${String(row[0])}`, fields);
        }
      }
    }
    expect(stored.size).toBe(points.length);
    for (const p of points) expect(stored.get(`${p.measurement} ${tagsKey(p.tags)} ${p.timestamp}`), JSON.stringify(p)).toEqual(p.fields);
  }, 180_000); // influxd creates a series for nearly every point: ~15 s alone, 45 s seen on a loaded machine

  it('reports InfluxDB refusals (HTTP 400) as not retryable with the reason parsed, and an unreachable InfluxDB as retryable', async () => {
    const sink = sinkFor(influx.url, 'rej');
    await sink.ensureDatabase();
    const t = Date.now() - 60_000;
    await sink.write([{ measurement: 'host', tags: { site: 's', agent: 'a' }, fields: { cpu_pct: 1 }, timestamp: t }]);
    const conflict = [
      { measurement: 'host', tags: { site: 's', agent: 'a' }, fields: { cpu_pct: 'text' }, timestamp: t + 1 },
      { measurement: 'host', tags: { site: 's', agent: 'a' }, fields: { cpu_pct: 2 }, timestamp: t + 2 },
    ];
    const err = await sink.write(conflict).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SinkError);
    const e = err as SinkError;
    expect(e.retryable).toBe(false);
    expect(e.code).toBe('E_SINK_REJECTED');
    expect(e.rejection).toEqual({ reason: 'field_type_conflict', dropped: 1, measurement: 'host' });
    // The valid point of the batch was written (a partial write).
    const count = await influx.query('SELECT count(cpu_pct) FROM host', 'rej');
    expect(count.results[0]?.series?.[0]?.values?.[0]?.[1]).toBe(2);
    sink.close();

    const down = sinkFor('http://127.0.0.1:9', 'rej', { timeoutMs: 2000 });
    const unreachable = await down.write(conflict).then(() => undefined, (x: unknown) => x);
    expect(unreachable).toBeInstanceOf(SinkError);
    expect((unreachable as SinkError).retryable).toBe(true);
    down.close();
  }, 60_000);

  it('shows why the contract refuses a tag value ending in a backslash: 1.x cannot store it, and stores the others as sent', async () => {
    const sink = sinkFor(influx.url, 'bs');
    await sink.ensureDatabase();
    const t = Date.now() - 60_000;
    const targets = ['gw\\', 'a\\\\', '\\', ' \\', 'a\\,b', 'a\\=b', 'a\\ b', 'a\\\\,b', 'a\\ ', '\\x'];
    for (const [i, target] of targets.entries()) {
      const refused = checkAgentPoint({ m: 'net_probe', t, tags: { target }, fields: { up: 1 } });
      expect(refused === 'tag_escape', target).toBe(target.endsWith('\\'));
      // Written anyway (node-influx escaped it the same way): refused by InfluxDB after the ack, while the point beside it is stored.
      const err = await sink
        .write([
          new BatchPoint('net_probe', { target }, hubTagSet({ site: `xa-${i}`, agent: 'pi-1', province: 'p' }), { up: 1 }, t),
          new BatchPoint('net_probe', { target: 'gw' }, hubTagSet({ site: `xb-${i}`, agent: 'pi-1', province: 'p' }), { up: 1 }, t),
        ])
        .then(() => undefined, (e: unknown) => e);
      const res = await influx.query(`SELECT count(up) FROM net_probe WHERE site = 'xa-${i}' GROUP BY target`, 'bs');
      const stored = (res.results[0]?.series ?? []).map((s) => s.tags?.target);
      if (refused === 'tag_escape') {
        expect((err as SinkError | undefined)?.rejection?.reason, target).toBe('parse_error');
        expect(stored, target).toEqual([]);
      } else {
        expect(err, target).toBeUndefined();
        expect(stored, target).toEqual([target]);
      }
    }
    const beside = await influx.query("SELECT count(up) FROM net_probe WHERE target = 'gw' GROUP BY site", 'bs');
    expect((beside.results[0]?.series ?? []).map((s) => s.tags?.site).sort()).toEqual(targets.map((_, i) => `xb-${i}`).sort());
    sink.close();
  }, 60_000);

  it('POSTs /write with db, precision=ms, rp when set, basic auth, below the URL path; reads the refusal body', async () => {
    const seen: { url: string; auth: string | undefined; body: string; keepAlive: string | undefined }[] = [];
    const server: Server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', auth: req.headers.authorization, body, keepAlive: req.headers.connection });
        if (body.includes('bad')) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end('{"error":"partial write: field type conflict: input field \\"v\\" on measurement \\"gpio\\" is type string, already exists as type float dropped=1"}');
          return;
        }
        res.writeHead(204);
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const sink = sinkFor(`http://127.0.0.1:${port}/influx/`, 'ioc', { username: 'hub', password: 'p@ss:w', retentionPolicy: 'raw' });
      await sink.write([{ measurement: 'gpio', tags: { site: 's' }, fields: { state: 1 }, timestamp: 1_800_000_000_000 }]);
      await sink.write([{ measurement: 'gpio', tags: { site: 's' }, fields: { state: 2 }, timestamp: 1_800_000_000_001 }]);
      const err = await sink.write([{ measurement: 'gpio', tags: { site: 's' }, fields: { v: 'bad' }, timestamp: 1_800_000_000_002 }]).then(() => undefined, (e: unknown) => e);
      expect((err as SinkError).rejection).toEqual({ reason: 'field_type_conflict', dropped: 1, measurement: 'gpio' });
      sink.close();
      expect(seen.map((s) => s.url)).toEqual(Array.from({ length: 3 }, () => '/influx/write?db=ioc&precision=ms&rp=raw'));
      expect(seen[0]?.auth).toBe(`Basic ${Buffer.from('hub:p@ss:w').toString('base64')}`);
      expect(seen[0]?.body).toBe('gpio,site=s state=1 1800000000000');
      expect(seen[0]?.keepAlive).toBe('keep-alive');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
