import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { RateLimitedLog } from './rate-limited-log.ts';

function setup(intervalMs = 60_000, maxKeys = 10_000) {
  const lines: { level: number; msg: string; suppressed: number; key?: string }[] = [];
  const dest = new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]), cb()) });
  let t = 1_000_000;
  const clock = { advance: (ms: number) => (t += ms) };
  const log = new RateLimitedLog(pino({ level: 'info' }, dest), intervalMs, maxKeys, () => t);
  return { lines, clock, log };
}

describe('RateLimitedLog', () => {
  it('logs a key once per interval and counts what it suppressed', () => {
    const { lines, clock, log } = setup();
    log.warn('a', { key: 'a' }, 'problem');
    log.warn('a', { key: 'a' }, 'problem');
    log.warn('a', { key: 'a' }, 'problem');
    log.warn('b', { key: 'b' }, 'problem');
    expect(lines.map((l) => [l.key, l.suppressed])).toEqual([['a', 0], ['b', 0]]);
    clock.advance(59_999);
    log.warn('a', { key: 'a' }, 'problem');
    expect(lines).toHaveLength(2);
    clock.advance(1);
    log.error('a', { key: 'a' }, 'problem');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ key: 'a', suppressed: 3, level: 50 });
    expect(lines[0]?.level).toBe(40);
  });

  it('due() tells the caller, and force makes a line due within the interval', () => {
    const { clock, log } = setup(1000);
    expect(log.due('x')).toBe(0);
    expect(log.due('x')).toBeUndefined();
    expect(log.due('x', true)).toBe(1);
    clock.advance(1000);
    expect(log.due('x')).toBe(0);
  });

  it('forgets every key past maxKeys instead of growing', () => {
    const { lines, log } = setup(60_000, 2);
    log.warn('a', {}, 'm');
    log.warn('b', {}, 'm');
    log.warn('c', {}, 'm');
    log.warn('a', {}, 'm');
    expect(lines).toHaveLength(4);
  });
});
