import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createLogger } from './logger.ts';

it('redacts tokens and passwords', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const log = createLogger('info', sink).child({ component: 'test' });
  log.info({ hub: { url: 'mqtt://h', token: 'sekrit' }, password: 'pw' }, 'config loaded');
  expect(lines.join('')).not.toMatch(/sekrit|"pw"/);
  expect(lines.join('')).toMatch(/"component":"test"/);
});
