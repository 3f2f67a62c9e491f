import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import { RecordingAccumulator } from '../../testkit/recording-accumulator.ts';
import { dnsConfigSchema, dnsPlugin } from './dns.ts';

// A tiny authoritative server: `ok.test` → 10.0.0.7, `silent.test` → no answer, anything else → NXDOMAIN.
let server: Socket;
let port = 0;

function questionEnd(msg: Buffer): number {
  let i = 12;
  while (i < msg.length && msg[i] !== 0) i += (msg[i] ?? 0) + 1;
  return i + 5; // zero byte, qtype, qclass
}

function qname(msg: Buffer): string {
  const labels: string[] = [];
  let i = 12;
  while (i < msg.length && msg[i] !== 0) {
    const len = msg[i] ?? 0;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString());
    i += len + 1;
  }
  return labels.join('.');
}

beforeAll(async () => {
  server = createSocket('udp4');
  server.on('message', (msg, rinfo) => {
    const name = qname(msg);
    if (name === 'silent.test') return;
    const question = msg.subarray(12, questionEnd(msg));
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    const found = name === 'ok.test';
    header.writeUInt16BE(found ? 0x8180 : 0x8183, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(found ? 1 : 0, 6);
    const answer = found ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 7]) : Buffer.alloc(0);
    server.send(Buffer.concat([header, question, answer]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
  port = server.address().port;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

async function gather(cfg: Record<string, unknown>) {
  const acc = new RecordingAccumulator();
  await dnsPlugin.create(dnsConfigSchema.parse({ type: 'dns', server: `127.0.0.1:${port}`, ...cfg }), { logger: silentLogger() }).gather(acc, new AbortController().signal);
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
