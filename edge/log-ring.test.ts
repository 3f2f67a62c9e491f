import { describe, expect, it } from 'vitest';
import { LOG_LINE_MAX_BYTES, LogRing, teeToRing } from './log-ring.ts';

describe('LogRing', () => {
  it('keeps the newest lines in order, at most its capacity, and cuts long lines (counted)', () => {
    const ring = new LogRing(3);
    const out: string[] = [];
    const tee = teeToRing(ring, { write: (s: string) => out.push(s) });
    for (let i = 1; i <= 5; i++) tee.write(`{"n":${i}}\n`);
    expect(out).toHaveLength(5);
    expect(ring.tail(10)).toEqual(['{"n":3}', '{"n":4}', '{"n":5}']);
    expect(ring.tail(2)).toEqual(['{"n":4}', '{"n":5}']);
    expect(ring.total).toBe(5);
    ring.push('x'.repeat(LOG_LINE_MAX_BYTES + 10));
    expect(ring.cut).toBe(1);
    expect(ring.tail(1)[0]?.length).toBe(LOG_LINE_MAX_BYTES + 1);
    expect(ring.size).toBe(3);
  });
});
