import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, LIMITS, MAX_BACKLOG_DEPTH, MAX_ENVELOPE_BYTES, MAX_EPOCH_MS, MAX_SEQ, type Point } from '../protocol/index.ts';
import { Batcher, splitBySize } from './batcher.ts';
import { MemoryOutbox, readOldest } from './outbox.ts';

const T = 1_763_900_000_000;

/** Readings whose points array serializes to exactly `bytes` (string fields of at most maxStringFieldLength). */
function readingsOfSize(bytes: number): Point[] {
  const point = (k: number): Point => ({ m: 'host', t: T, fields: { s: 'x'.repeat(k) } });
  const overhead = JSON.stringify(point(0)).length;
  const max = LIMITS.maxStringFieldLength;
  const n = Math.ceil((bytes - 1) / (overhead + 1 + max));
  let rest = bytes - 1 - n * (overhead + 1);
  const out: Point[] = [];
  for (let i = 0; i < n; i += 1) {
    const k = Math.min(max, rest);
    rest -= k;
    out.push(point(k));
  }
  expect(JSON.stringify(out).length).toBe(bytes);
  return out;
}

describe('Batcher and the batch envelope', () => {
  it('a batch it fills to its limit, sent with the widest envelope (max seq and sentAt, late, backlog), is accepted under the payload limit', async () => {
    // The batcher used to reserve 64 bytes for the envelope: a points array of limit − 64 bytes was
    // kept whole, and with late + backlog the hub answered E_PAYLOAD_TOO_LARGE and dropped it.
    for (const reserve of [1, 64, 100, MAX_ENVELOPE_BYTES, MAX_ENVELOPE_BYTES + 1, 1000]) {
      const outbox = new MemoryOutbox({ maxBatches: 100 });
      let seq = 0;
      const batcher = new Batcher({ outbox, maxPoints: LIMITS.maxPointsPerBatch, flushIntervalMs: 60_000, nextSeq: () => (seq += 1) });
      const readings = readingsOfSize(LIMITS.maxPayloadBytes - reserve);
      for (const p of readings) batcher.add(p.m, p.fields, undefined, p.t);
      await batcher.flush();
      const got = await readOldest(outbox, 1000);
      expect(got.reduce((n, e) => n + e.points, 0)).toBe(readings.length);
      for (const e of got) {
        const wire = encodeBatch({ seq: MAX_SEQ, sentAt: MAX_EPOCH_MS, late: true, backlog: { depth: MAX_BACKLOG_DEPTH, oldestT: MAX_EPOCH_MS } }, e.payload);
        const decoded = decodeBatch(wire);
        expect(decoded.ok ? 'accepted' : decoded.error.code, `reserve ${reserve}: batch ${e.seq} of ${Buffer.byteLength(wire)} bytes`).toBe('accepted');
      }
      // only as much splitting as needed: what fits with the widest envelope stays one batch
      expect(got.length).toBe(reserve >= MAX_ENVELOPE_BYTES ? 1 : 2);
    }
  });

  it('splitBySize keeps each part within the payload limit less the widest envelope', () => {
    const points = readingsOfSize(3 * LIMITS.maxPayloadBytes);
    const parts = splitBySize(points);
    expect(parts.flat()).toEqual(points);
    for (const part of parts) expect(Buffer.byteLength(JSON.stringify(part))).toBeLessThanOrEqual(LIMITS.maxPayloadBytes - MAX_ENVELOPE_BYTES);
  });
});
