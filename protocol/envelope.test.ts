import { describe, expect, it } from 'vitest';
import { decodeBatch } from './decode.ts';
import { encodeBatch, MAX_BACKLOG_DEPTH, MAX_ENVELOPE_BYTES, MAX_EPOCH_MS, MAX_SEQ, maxPointsBytes, MIN_EPOCH_MS, type BatchEnvelope } from './envelope.ts';
import { fastBatch } from './fast-batch.ts';
import { LIMITS, type Point } from './schemas.ts';

const T = 1_763_900_000_000;
const WIDEST: BatchEnvelope = { seq: MAX_SEQ, sentAt: MAX_EPOCH_MS, late: true, backlog: { depth: MAX_BACKLOG_DEPTH, oldestT: MAX_EPOCH_MS } };

/** Points whose JSON array is exactly `bytes` long (string fields of at most maxStringFieldLength). */
function pointsOfSize(bytes: number, t = T): Point[] {
  const point = (k: number): Point => ({ m: 'host', t, fields: { s: 'x'.repeat(k) } });
  const overhead = JSON.stringify(point(0)).length;
  const max = LIMITS.maxStringFieldLength;
  const n = Math.ceil((bytes - 1) / (overhead + 1 + max));
  let rest = bytes - 1 - n * (overhead + 1);
  if (n < 1 || rest < 0) throw new RangeError(`no points of exactly ${bytes} bytes`);
  const out: Point[] = [];
  for (let i = 0; i < n; i += 1) {
    const k = Math.min(max, rest);
    rest -= k;
    out.push(point(k));
  }
  return out;
}

describe('batch envelope', () => {
  it('is the JSON of the same batch, keys in the schema order', () => {
    const points = [{ m: 'host', t: T, fields: { cpu_pct: 3 } }];
    const cases: BatchEnvelope[] = [
      { seq: 7, sentAt: T },
      { seq: 7, sentAt: T, late: true },
      { seq: 7, sentAt: T, backlog: { depth: 12, oldestT: T - 1000 } },
      { seq: 0, sentAt: T, late: true, backlog: { depth: 1, oldestT: T } },
    ];
    for (const env of cases) {
      const text = encodeBatch(env, JSON.stringify(points));
      expect(text).toBe(JSON.stringify({ ...env, points }));
      expect(decodeBatch(text)).toEqual({ ok: true, value: { ...env, points } });
    }
  });

  it('leaves out an empty backlog or one whose oldestT is no plausible epoch ms, and rounds oldestT', () => {
    expect(encodeBatch({ seq: 1, sentAt: T, late: false, backlog: { depth: 0, oldestT: T } }, '[]')).toBe(`{"seq":1,"sentAt":${T},"points":[]}`);
    expect(encodeBatch({ seq: 1, sentAt: T, backlog: { depth: 3, oldestT: 1_763_900 } }, '[]')).toBe(`{"seq":1,"sentAt":${T},"points":[]}`);
    expect(encodeBatch({ seq: 1, sentAt: T, backlog: { depth: 3, oldestT: MAX_EPOCH_MS + 1 } }, '[]')).toBe(`{"seq":1,"sentAt":${T},"points":[]}`);
    expect(encodeBatch({ seq: 1, sentAt: T, backlog: { depth: 3, oldestT: MIN_EPOCH_MS - 0.4 } }, '[]')).toBe(`{"seq":1,"sentAt":${T},"backlog":{"depth":3,"oldestT":${MIN_EPOCH_MS}},"points":[]}`);
  });

  it('MAX_ENVELOPE_BYTES is the widest envelope the schema accepts, and no envelope within the bounds is wider', () => {
    expect(MAX_ENVELOPE_BYTES).toBe(Buffer.byteLength(encodeBatch(WIDEST, '')));
    // the 64 bytes the batcher used to reserve were too few
    expect(MAX_ENVELOPE_BYTES).toBeGreaterThan(64);
    let seed = 1;
    const rnd = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let i = 0; i < 2000; i += 1) {
      const int = (max: number): number => Math.floor(rnd() ** 4 * max);
      const env: BatchEnvelope = { seq: int(MAX_SEQ), sentAt: MIN_EPOCH_MS + int(MAX_EPOCH_MS - MIN_EPOCH_MS), late: rnd() < 0.5, backlog: { depth: int(MAX_BACKLOG_DEPTH), oldestT: MIN_EPOCH_MS + int(MAX_EPOCH_MS - MIN_EPOCH_MS) } };
      expect(Buffer.byteLength(encodeBatch(env, ''))).toBeLessThanOrEqual(MAX_ENVELOPE_BYTES);
    }
  });

  it('the widest envelope around the largest points array allowed decodes under the payload limit, through the fast path', () => {
    const points = pointsOfSize(maxPointsBytes(LIMITS.maxPayloadBytes));
    expect(points.length).toBeLessThanOrEqual(LIMITS.maxPointsPerBatch);
    const text = encodeBatch(WIDEST, JSON.stringify(points));
    expect(Buffer.byteLength(text)).toBe(LIMITS.maxPayloadBytes);
    expect(decodeBatch(text)).toEqual({ ok: true, value: { ...WIDEST, points } });
    expect(fastBatch(JSON.parse(text))).toBeDefined();
    // the bound is tight: one byte more is over the limit
    const over = encodeBatch(WIDEST, JSON.stringify(pointsOfSize(maxPointsBytes(LIMITS.maxPayloadBytes) + 1)));
    const r = decodeBatch(over);
    expect(r.ok ? 'accepted' : r.error.code).toBe('E_PAYLOAD_TOO_LARGE');
  });

  it('refuses what lies beyond the bounds (so no accepted envelope is wider than MAX_ENVELOPE_BYTES)', () => {
    const points = '[{"m":"host","t":1763900000000,"fields":{"x":1}}]';
    const codeOf = (env: BatchEnvelope): string | undefined => {
      const r = decodeBatch(encodeBatch(env, points));
      return r.ok ? undefined : r.error.code;
    };
    expect(codeOf({ ...WIDEST, seq: MAX_SEQ + 2 })).toBe('E_SCHEMA');
    expect(codeOf({ ...WIDEST, sentAt: MAX_EPOCH_MS + 1 })).toBe('E_SCHEMA');
    expect(codeOf({ ...WIDEST, backlog: { depth: MAX_BACKLOG_DEPTH + 2, oldestT: T } })).toBe('E_SCHEMA');
    expect(codeOf(WIDEST)).toBeUndefined();
  });
});
