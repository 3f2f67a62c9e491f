import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from './logger.ts';

function capture(): { dest: Writable; lines: string[] } {
  const lines: string[] = [];
  const dest = new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(chunk.toString()), cb()) });
  return { dest, lines };
}

describe('createLogger', () => {
  it('redacts passwords and tokens at every depth the hub and the agent log them', () => {
    const { dest, lines } = capture();
    const log = createLogger('ioc-test', 'info', dest).child({ component: 'test' });
    log.info(
      { password: 'p1', token: 't0', influx: { password: 'p2' }, hub: { url: 'mqtt://h', token: 't1' }, agent: { token: 't2' }, a: { b: { password: 'p3' } }, headers: { authorization: 'Bearer b1' } },
      'secrets',
    );
    const text = lines.join('');
    for (const secret of ['p1', 'p2', 'p3', 't0', 't1', 't2', 'Bearer b1']) expect(text).not.toContain(`"${secret}"`);
    expect(text).toContain('"component":"test"');
    expect(text).toContain('mqtt://h');
  });

  it('names the program, the pid and an ISO time on every line', () => {
    const { dest, lines } = capture();
    createLogger('ioc-edge', 'info', dest).info('hello');
    const line = JSON.parse(lines[0] ?? '{}') as { name?: string; pid?: number; time?: string; msg?: string };
    expect(line).toMatchObject({ name: 'ioc-edge', pid: process.pid, msg: 'hello' });
    expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('honours the level', () => {
    const { dest, lines } = capture();
    const log = createLogger('ioc-test', 'warn', dest);
    log.info('hidden');
    log.warn('shown');
    expect(lines.join('')).not.toContain('hidden');
    expect(lines.join('')).toContain('shown');
  });
});

describe('silentLogger', () => {
  it('writes nothing', () => {
    expect(silentLogger().isLevelEnabled('fatal')).toBe(false);
  });
});
