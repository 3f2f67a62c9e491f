import { describe, expect, it } from 'vitest';
import { decodeBatch, decodeStatus } from './decode.ts';
import { LIMITS } from './schemas.ts';

const T = 1_763_900_000_000;
const goodBatch = {
  seq: 7,
  sentAt: T + 5,
  points: [
    { m: 'net_probe', t: T, tags: { target: 'portal', method: 'http' }, fields: { up: true, rtt_ms: 42.5, status: 200 } },
    { m: 'host', t: T, fields: { cpu_pct: 12 } },
  ],
};

function codeOf(payload: string | Uint8Array): string | undefined {
  const r = decodeBatch(payload);
  return r.ok ? undefined : r.error.code;
}

describe('decodeBatch', () => {
  it('accepts a well-formed batch from bytes and from a string', () => {
    const json = JSON.stringify(goodBatch);
    const fromString = decodeBatch(json);
    const fromBytes = decodeBatch(new TextEncoder().encode(json));
    expect(fromString).toEqual({ ok: true, value: goodBatch });
    expect(fromBytes).toEqual(fromString);
  });

  it('accepts the optional backfill fields and still accepts batches without them', () => {
    const late = { ...goodBatch, late: true, backlog: { depth: 1234, oldestT: T - 86_400_000 } };
    expect(decodeBatch(JSON.stringify(late))).toEqual({ ok: true, value: late });
    const liveDuringReplay = { ...goodBatch, backlog: { depth: 0, oldestT: T } };
    expect(decodeBatch(JSON.stringify(liveDuringReplay))).toEqual({ ok: true, value: liveDuringReplay });
    expect(decodeBatch(JSON.stringify(goodBatch))).toEqual({ ok: true, value: goodBatch });
  });

  it('rejects malformed backfill fields', () => {
    expect(codeOf(JSON.stringify({ ...goodBatch, late: false }))).toBe('E_SCHEMA');
    expect(codeOf(JSON.stringify({ ...goodBatch, late: 'yes' }))).toBe('E_SCHEMA');
    expect(codeOf(JSON.stringify({ ...goodBatch, backlog: { depth: -1, oldestT: T } }))).toBe('E_SCHEMA');
    expect(codeOf(JSON.stringify({ ...goodBatch, backlog: { depth: 3, oldestT: 1_700_000 } }))).toBe('E_SCHEMA');
    expect(codeOf(JSON.stringify({ ...goodBatch, backlog: { depth: 3 } }))).toBe('E_SCHEMA');
    expect(codeOf(JSON.stringify({ ...goodBatch, backlog: { depth: 3, oldestT: T, extra: 1 } }))).toBe('E_SCHEMA');
  });

  it('rejects bad JSON', () => {
    expect(codeOf('{"seq": 1,')).toBe('E_BAD_JSON');
    expect(codeOf(new Uint8Array([0xff, 0xfe, 0x00]))).toBe('E_BAD_JSON');
  });

  it('rejects oversized payloads before parsing them', () => {
    const big = JSON.stringify({ ...goodBatch, pad: 'x'.repeat(LIMITS.maxPayloadBytes) });
    expect(codeOf(big)).toBe('E_PAYLOAD_TOO_LARGE');
  });

  it('rejects too many points', () => {
    const p = { m: 'host', t: T, fields: { cpu_pct: 1 } };
    const points = Array.from({ length: LIMITS.maxPointsPerBatch + 1 }, () => p);
    const r = decodeBatch(JSON.stringify({ seq: 1, sentAt: T, points }), 10 * 1024 * 1024);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('E_SCHEMA');
      expect(r.error.message).toMatch(/points/);
    }
  });

  it.each([
    ['string number', { ...goodBatch, seq: '7' }, /seq/],
    ['negative seq', { ...goodBatch, seq: -1 }, /seq/],
    ['fractional seq', { ...goodBatch, seq: 1.5 }, /seq/],
    ['seconds instead of ms', { ...goodBatch, sentAt: 1_763_900_000 }, /sentAt/],
    ['no points', { ...goodBatch, points: [] }, /points/],
    ['unknown key', { ...goodBatch, extra: 1 }, /extra|Unrecognized/i],
    ['null field', { ...goodBatch, points: [{ m: 'host', t: T, fields: { cpu_pct: null } }] }, /points\.0\.fields\.cpu_pct/],
    ['no fields', { ...goodBatch, points: [{ m: 'host', t: T, fields: {} }] }, /points\.0\.fields/],
    ['bad measurement', { ...goodBatch, points: [{ m: 'Host Name', t: T, fields: { a: 1 } }] }, /points\.0\.m/],
    ['site tag', { ...goodBatch, points: [{ m: 'host', t: T, tags: { site: 'other' }, fields: { a: 1 } }] }, /points\.0\.tags/],
    ['province tag', { ...goodBatch, points: [{ m: 'host', t: T, tags: { province: 'x' }, fields: { a: 1 } }] }, /points\.0\.tags/],
    ['empty tag value', { ...goodBatch, points: [{ m: 'host', t: T, tags: { target: '' }, fields: { a: 1 } }] }, /points\.0\.tags\.target/],
    ['object field', { ...goodBatch, points: [{ m: 'host', t: T, fields: { a: { b: 1 } } }] }, /points\.0\.fields\.a/],
  ])('rejects %s with its path', (_name, batch, path) => {
    const r = decodeBatch(JSON.stringify(batch));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('E_SCHEMA');
      expect(r.error.message).toMatch(path);
    }
  });

  it('rejects non-finite numbers, which JSON can only smuggle as overflow', () => {
    // 1e999 parses to Infinity
    const r = decodeBatch(`{"seq":1,"sentAt":${T},"points":[{"m":"host","t":${T},"fields":{"cpu_pct":1e999}}]}`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/cpu_pct/);
  });

  it('accepts Vietnamese tag values', () => {
    const b = { seq: 1, sentAt: T, points: [{ m: 'queue', t: T, tags: { counter: 'Quầy 1 – Tư pháp' }, fields: { waiting: 3 } }] };
    expect(decodeBatch(JSON.stringify(b)).ok).toBe(true);
  });
});

describe('decodeStatus', () => {
  it('accepts a status and rejects a wrong type', () => {
    const s = { online: true, ts: T, version: '0.1.0', bootId: 'b', configRev: 3, clockSynced: false };
    expect(decodeStatus(JSON.stringify(s))).toEqual({ ok: true, value: s });
    const bad = decodeStatus(JSON.stringify({ ...s, online: 'yes' }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toMatch(/online/);
  });
});

describe('decodeBatch and __proto__', () => {
  it('refuses a __proto__ key anywhere in a batch, also when escaped', () => {
    const t = 1_800_000_000_000;
    for (const bad of [
      `{"seq":1,"sentAt":${t},"points":[{"m":"host","t":${t},"fields":{"cpu_pct":1,"__proto__":{"online":false}}}]}`,
      `{"seq":1,"sentAt":${t},"points":[{"m":"host","t":${t},"tags":{"\\u005f_proto__":"x"},"fields":{"cpu_pct":1}}]}`,
      `{"seq":1,"sentAt":${t},"__proto__":{},"points":[{"m":"host","t":${t},"fields":{"cpu_pct":1}}]}`,
    ]) {
      const r = decodeBatch(bad);
      expect(r.ok).toBe(false);
    }
  });
});
