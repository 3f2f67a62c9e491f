import { describe, expect, it } from 'vitest';
import { IssuedCommands, SeriesBudget, TokenBucket, seriesKey } from './budgets.ts';

describe('TokenBucket', () => {
  it('lets a burst through, then holds for the debt, then refuses past the longest hold', () => {
    const b = new TokenBucket({ perS: 100, burst: 200 }, 0);
    expect(b.take(200, 0, 1000)).toEqual({ kind: 'ok', waitMs: 0 });
    expect(b.take(50, 0, 1000)).toEqual({ kind: 'ok', waitMs: 500 });
    const r = b.take(100, 0, 1000);
    expect(r.kind).toBe('refuse'); // 1.5 s behind
    expect(b.take(50, 0, 1000)).toEqual({ kind: 'ok', waitMs: 1000 }); // the refused one took nothing
    expect(b.take(10, 2000, 1000)).toEqual({ kind: 'ok', waitMs: 0 }); // refilled at 100/s
  });
});

describe('SeriesBudget', () => {
  it('counts distinct series per agent and day, refuses new ones past the limit, keeps known ones', () => {
    const s = new SeriesBudget(3);
    const day = 86_400_000 * 20_000;
    for (const t of ['a', 'b', 'c']) expect(s.admit('x/1', seriesKey('net_probe', { target: t }), day)).toBe(true);
    expect(s.admit('x/1', seriesKey('net_probe', { target: 'd' }), day)).toBe(false);
    expect(s.admit('x/1', seriesKey('net_probe', { target: 'a' }), day)).toBe(true);
    expect(s.admit('x/2', seriesKey('net_probe', { target: 'd' }), day)).toBe(true); // another agent's budget
    expect(s.count('x/1')).toBe(3);
    expect(s.admit('x/1', seriesKey('net_probe', { target: 'd' }), day + 86_400_000)).toBe(true); // next day
  });

  it('keys series by measurement and sorted tags', () => {
    expect(seriesKey('m', { b: '2', a: '1' })).toBe(seriesKey('m', { a: '1', b: '2' }));
    expect(seriesKey('m', undefined)).toBe('m');
  });
});

describe('IssuedCommands', () => {
  it('accepts a result once, only for an id issued to that agent, and stays bounded', () => {
    const c = new IssuedCommands(2, 1000);
    c.issued('s', 'a', 'id-1', 0);
    expect(c.take('s', 'b', 'id-1', 10)).toBe(false);
    expect(c.take('s', 'a', 'id-1', 10)).toBe(true);
    expect(c.take('s', 'a', 'id-1', 10)).toBe(false);
    c.issued('s', 'a', 'id-2', 0);
    c.issued('s', 'a', 'id-3', 0);
    c.issued('s', 'a', 'id-4', 0);
    expect(c.take('s', 'a', 'id-2', 10)).toBe(false); // forgotten: bounded to 2
    expect(c.take('s', 'a', 'id-4', 2000)).toBe(false); // too old
  });
});
