import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../testkit/free-port.ts';
import { silentLogger } from '../logger.ts';
import { RecordingAccumulator } from '../../testkit/recording-accumulator.ts';
import { tcpConfigSchema, tcpPlugin } from './tcp.ts';

let server: Server;
let port = 0;
beforeAll(async () => {
  server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  port = typeof a === 'object' && a !== null ? a.port : 0;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

async function gather(cfg: Record<string, unknown>, signal = new AbortController().signal) {
  const acc = new RecordingAccumulator();
  await tcpPlugin.create(tcpConfigSchema.parse({ type: 'tcp', ...cfg }), { logger: silentLogger() }).gather(acc, signal);
  return acc.only();
}

describe('tcp collector', () => {
  it('measures the connect time to a listening peer', async () => {
    const r = await gather({ name: 'peer', host: '127.0.0.1', port });
    expect(r.m).toBe('net_probe');
    expect(r.tags).toEqual({ target: 'peer', method: 'tcp' });
    expect(r.fields).toMatchObject({ up: 1, result: 'ok' });
    expect(r.fields.rtt_ms).toBeGreaterThanOrEqual(0);
  });

  it('reports a refused port as a reading', async () => {
    const closed = await freePort();
    const r = await gather({ host: '127.0.0.1', port: closed });
    expect(r.fields).toEqual({ up: 0, result: 'refused' });
    expect(r.tags?.target).toBe(`127.0.0.1:${closed}`);
  });

  it('reports an unresolvable host as dns_error', async () => {
    const r = await gather({ host: 'no-such-host.invalid', port: 80, timeoutMs: 3000 });
    expect(r.fields).toEqual({ up: 0, result: 'dns_error' });
  });

  it('reports an aborted probe as timeout', async () => {
    const r = await gather({ host: '127.0.0.1', port }, AbortSignal.abort());
    expect(r.fields).toEqual({ up: 0, result: 'timeout' });
  });

  it('applies defaults and rejects bad ports', () => {
    expect(tcpConfigSchema.parse({ type: 'tcp', host: 'h', port: 1 })).toMatchObject({ intervalS: 60, timeoutMs: 5000 });
    expect(tcpConfigSchema.safeParse({ type: 'tcp', host: 'h', port: 70000 }).success).toBe(false);
  });
});
