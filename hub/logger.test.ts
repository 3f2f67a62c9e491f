import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

describe('createLogger', () => {
  it('redacts passwords and tokens', () => {
    const lines: string[] = [];
    const dest = new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(chunk.toString()), cb()) });
    const log = createLogger('info', dest).child({ component: 'test' });
    log.info({ password: 'p1', influx: { password: 'p2' }, hub: { token: 't1' }, agent: { token: 't2' } }, 'secrets');
    const text = lines.join('');
    for (const secret of ['p1', 'p2', 't1', 't2']) expect(text).not.toContain(`"${secret}"`);
    expect(text).toContain('"component":"test"');
  });
});
