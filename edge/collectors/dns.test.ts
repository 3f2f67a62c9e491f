import { startDnsServer, type TestDnsServer } from '../../testkit/dns-server.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import { RecordingAccumulator } from '../../testkit/recording-accumulator.ts';
import { dnsConfigSchema, dnsPlugin } from './dns.ts';

// A tiny authoritative server: `ok.test` → 10.0.0.7, `silent.test` → no answer, anything else → NXDOMAIN.
let server: TestDnsServer;

beforeAll(async () => {
  server = await startDnsServer({ 'ok.test': '10.0.0.7' }, ['silent.test']);
});

afterAll(async () => {
  await server.close();
});

async function gather(cfg: Record<string, unknown>) {
  const acc = new RecordingAccumulator();
  await dnsPlugin.create(dnsConfigSchema.parse({ type: 'dns', server: `127.0.0.1:${server.port}`, ...cfg }), { logger: silentLogger() }).gather(acc, new AbortController().signal);
  return acc.only();
}

describe('dns collector', () => {
  it('resolves through the configured server', async () => {
    const r = await gather({ name: 'local', query: 'ok.test' });
    expect(r.tags).toEqual({ target: 'local', method: 'dns' });
    expect(r.fields).toMatchObject({ up: 1, result: 'ok' });
    expect(typeof r.fields.rtt_ms).toBe('number');
  });

  it('reports NXDOMAIN and timeouts as readings', async () => {
    expect((await gather({ query: 'missing.test' })).fields).toEqual({ up: 0, result: 'nxdomain' });
    expect((await gather({ query: 'silent.test', timeoutMs: 200 })).fields).toEqual({ up: 0, result: 'timeout' });
  });
});
