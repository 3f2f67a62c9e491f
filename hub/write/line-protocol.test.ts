// The hub's own line protocol against node-influx's writePoints (the serialiser it replaces) on generated points,
// and against the line-protocol reference's escaping rules. node-influx is the oracle, its request never sent.
import { InfluxDB, type IPoint } from 'influx';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../testkit/fuzz-gen.ts';
import { BatchPoint, encodeTags, escapeMeasurement, escapeTag, hubTagSet, integer, lineProtocol, pointLine, stringField } from './line-protocol.ts';
import type { HubPoint } from './sink.ts';

/** What node-influx would POST for these points (writePoints with ms precision), captured instead of sent. */
function nodeInfluxBody(points: readonly HubPoint[]): string {
  const influx = new InfluxDB({ host: '127.0.0.1', port: 1, database: 'ioc' });
  let body = '';
  const pool = (influx as unknown as { _pool: { discard: (o: { body: string }) => Promise<void> } })._pool;
  pool.discard = (o) => {
    body = o.body;
    return Promise.resolve();
  };
  const lines: IPoint[] = points.map((p) => ({ measurement: p.measurement, tags: { ...p.tags }, fields: { ...p.fields }, timestamp: p.timestamp }));
  void influx.writePoints(lines, { precision: 'ms', database: 'ioc' });
  return body;
}

// Characters that line protocol escapes, and others it must pass through (unicode, quotes, backslashes).
const PIECES = ['a', 'b', 'x1', ',', '=', ' ', '"', '\\', "'", 'Xã Tam Đảo', '😀', '\u00a0', 'é', 'tab\u00a0', '_', '-', '.', '{', '}', '#'];
const NUMBERS = [0, 1, -1, 0.5, -0.25, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, -(2 ** 63), 2 ** 53 + 2, 123456789.123, 42];

function text(r: Rng, min: number): string {
  let s = '';
  for (let i = r.int(min, 5); i > 0; i--) s += r.pick(PIECES);
  // node-influx turns the first `\'` of a string into `\\'` (it changes the value): the oracle differs there.
  while (s.includes("\\'")) s = s.replaceAll("\\'", "'");
  return s;
}

function name(r: Rng): string {
  return r.pick(['net_probe', 'host', 'queue', 'equipment', 'agent', 'delivery', 'x', 'a_b_1']);
}

function fieldsOf(r: Rng): Record<string, number | boolean | string> {
  const fields: Record<string, number | boolean | string> = {};
  for (let i = r.int(1, 6); i > 0; i--) {
    const key = r.chance(0.8) ? r.pick(['up', 'rtt_ms', 'zeta', 'alpha', 'b', 'state', 'result']) : text(r, 1);
    const kind = r.int(0, 3);
    fields[key] = kind === 0 ? r.pick(NUMBERS) : kind === 1 ? r.chance(0.5) : kind === 2 ? text(r, 0) : r.int(-1000, 1000) / 8;
  }
  return fields;
}

function tagsOf(r: Rng, n: number): Record<string, string> {
  const tags: Record<string, string> = {};
  for (let i = n; i > 0; i--) tags[r.chance(0.7) ? r.pick(['target', 'method', 'counter', 'kind']) : text(r, 1)] = text(r, 1);
  return tags;
}

describe('line protocol', () => {
  it('escapes as the 1.x reference says: measurement , and space; tags and field keys , = space; strings " and \\', () => {
    expect(escapeMeasurement('a b,c=d')).toBe('a\\ b\\,c=d');
    expect(escapeTag('a b,c=d"\\')).toBe('a\\ b\\,c\\=d"\\');
    expect(stringField('say "hi" \\ bye, a=b')).toBe('"say \\"hi\\" \\\\ bye, a=b"');
    expect(stringField("it's \\'quoted\\'")).toBe('"it\'s \\\\\'quoted\\\\\'"');
    expect(integer(42)).toBe('42i');
    expect(integer(-(2n ** 63n))).toBe('-9223372036854775808i');
    expect(() => integer(0.5)).toThrow(RangeError);
    const p: HubPoint = { measurement: 'my m,x', tags: { 'k ey': 'v=1', site: 'xa-a' }, fields: { up: true, rtt: 1.5, n: 2, s: 'a "b"', 'f,k': false }, timestamp: 1_800_000_000_123 };
    expect(pointLine(p)).toBe('my\\ m\\,x,k\\ ey=v\\=1,site=xa-a f\\,k=false,n=2,rtt=1.5,s="a \\"b\\"",up=true 1800000000123');
  });

  it('writes what node-influx writes for the same points (10^4 generated points with hostile characters)', () => {
    const r = new Rng(13_2026);
    const points: HubPoint[] = [];
    for (let i = 0; i < 10_000; i++) points.push({ measurement: name(r), tags: tagsOf(r, r.int(0, 6)), fields: fieldsOf(r), timestamp: 1_700_000_000_000 + r.int(0, 1e9) });
    const ours = lineProtocol(points);
    const theirs = nodeInfluxBody(points);
    const a = ours.split('\n');
    const b = theirs.split('\n');
    expect(a).toHaveLength(points.length);
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) expect({ i, point: points[i], line: a[i] }).toEqual({ i, point: points[i], line: b[i] });
    expect(ours).toBe(theirs);
  });

  it('builds a batch point (agent tags + the hub tags encoded once) exactly as the plain point it stands for', () => {
    const r = new Rng(7);
    const hub = hubTagSet({ site: 'xa-tam-dao', agent: 'pi-1', province: 'vinh phuc', area: 'tam,dao' });
    const batch: HubPoint[] = [];
    const plain: HubPoint[] = [];
    for (let i = 0; i < 2000; i++) {
      const own = r.chance(0.2) ? undefined : tagsOf(r, r.int(0, 3));
      const fields = fieldsOf(r);
      const t = 1_700_000_000_000 + i;
      const bp = new BatchPoint('net_probe', own, hub, fields, t);
      batch.push(bp);
      plain.push({ measurement: 'net_probe', tags: { ...own, ...hub.tags }, fields, timestamp: t });
      // The same shape to every reader: spread, JSON (the spool), equality.
      expect(bp).toEqual(plain[i]);
      expect(JSON.parse(JSON.stringify(bp))).toEqual(JSON.parse(JSON.stringify(plain[i])));
      expect({ ...bp }).toEqual(plain[i]);
      expect(Object.keys(bp)).toEqual(['measurement', 'tags', 'fields', 'timestamp']);
    }
    expect(lineProtocol(batch)).toBe(lineProtocol(plain));
    expect(lineProtocol(batch)).toBe(nodeInfluxBody(plain));
    // Without tags of its own a point shares the hub's tag object rather than copying it.
    expect(new BatchPoint('host', undefined, hub, { cpu_pct: 1 }, 1).tags).toBe(hub.tags);
    expect(new BatchPoint('host', {}, hub, { cpu_pct: 1 }, 1).tags).toBe(hub.tags);
    expect(encodeTags(hub.tags)).toBe(hub.encoded);
  });
});
