import { describe, expect, it } from 'vitest';
import { Backoff, fullJitterDelay } from './backoff.ts';

describe('fullJitterDelay', () => {
  it('grows exponentially and is capped', () => {
    const top = () => 0.999999;
    expect(fullJitterDelay(0, { minMs: 1000, maxMs: 60000, random: top })).toBe(999);
    expect(fullJitterDelay(3, { minMs: 1000, maxMs: 60000, random: top })).toBe(7999);
    expect(fullJitterDelay(40, { minMs: 1000, maxMs: 60000, random: top })).toBe(59999);
    expect(fullJitterDelay(5000, { minMs: 1000, maxMs: 60000, random: top })).toBe(59999);
  });

  it('treats a negative attempt as the first', () => {
    expect(fullJitterDelay(-3, { minMs: 500, maxMs: 30000, random: () => 0.5 })).toBe(250);
  });

  it('spreads delays over the whole range (full jitter)', () => {
    const delays = Array.from({ length: 2000 }, () => fullJitterDelay(6, { minMs: 1000, maxMs: 60000 }));
    expect(Math.min(...delays)).toBeLessThan(5000);
    expect(Math.max(...delays)).toBeGreaterThan(55000);
    expect(delays.every((d) => d >= 0 && d < 60000)).toBe(true);
  });

  it('draws from the injected random source', () => {
    expect(fullJitterDelay(2, { minMs: 100, maxMs: 10_000, random: () => 0 })).toBe(0);
    expect(fullJitterDelay(2, { minMs: 100, maxMs: 10_000, random: () => 0.25 })).toBe(100);
  });
});

describe('Backoff', () => {
  it('resets after success', () => {
    const b = new Backoff({ minMs: 10, maxMs: 1000, random: () => 0.5 });
    expect([b.next(), b.next(), b.next()]).toEqual([5, 10, 20]);
    expect(b.attempts).toBe(3);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(5);
  });
});
