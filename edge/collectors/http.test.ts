import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../testkit/free-port.ts';
import { silentLogger } from '../logger.ts';
import { RecordingAccumulator } from '../../testkit/recording-accumulator.ts';
import { httpConfigSchema, httpPlugin } from './http.ts';

let server: Server;
let base = '';
let tlsServer: HttpsServer | undefined;
let tlsBase = '';
let tlsSkipReason = '';
const certDir = mkdtempSync(join(tmpdir(), 'ioc-http-'));

function portOf(s: Server | HttpsServer): number {
  const a = s.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/fail') {
      res.writeHead(503).end('down');
      return;
    }
    if (req.url === '/slow') {
      setTimeout(() => res.end('late'), 2000);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Cổng dịch vụ công</html>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${portOf(server)}`;
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem')], { stdio: 'ignore' });
    tlsServer = createHttpsServer({ key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => tlsServer?.listen(0, '127.0.0.1', () => r()));
    tlsBase = `https://127.0.0.1:${portOf(tlsServer)}`;
  } catch (err: unknown) {
    tlsSkipReason = `openssl not available, https test skipped: ${String(err)}`;
  }
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  if (tlsServer) await new Promise<void>((r) => tlsServer?.close(() => r()));
  rmSync(certDir, { recursive: true, force: true });
});

async function gather(cfg: Record<string, unknown>) {
  const acc = new RecordingAccumulator();
  await httpPlugin.create(httpConfigSchema.parse({ type: 'http', ...cfg }), { logger: silentLogger() }).gather(acc, new AbortController().signal);
  return acc.only();
}

describe('http collector', () => {
  it('reports status, rtt and up, with the expected text', async () => {
    const r = await gather({ name: 'portal', url: `${base}/`, expectText: 'dịch vụ công' });
    expect(r.tags).toEqual({ target: 'portal', method: 'http' });
    expect(r.fields).toMatchObject({ up: 1, status: 200, result: 'ok' });
    expect(typeof r.fields.rtt_ms).toBe('number');
  });

  it('is down on an unexpected status or missing text', async () => {
    expect((await gather({ url: `${base}/fail` })).fields).toMatchObject({ up: 0, status: 503, result: 'bad_status' });
    expect((await gather({ url: `${base}/`, expectText: 'not there' })).fields).toMatchObject({ up: 0, status: 200, result: 'text_mismatch' });
    expect((await gather({ url: `${base}/fail`, expectStatus: [503] })).fields).toMatchObject({ up: 1 });
  });

  it('reports refused and timeout as readings', async () => {
    const closed = await freePort();
    expect((await gather({ url: `http://127.0.0.1:${closed}/` })).fields).toEqual({ up: 0, result: 'refused' });
    expect((await gather({ url: `${base}/slow`, timeoutMs: 200 })).fields).toEqual({ up: 0, result: 'timeout' });
  });

  it('reports certificate days left over https (self-signed)', async (ctx) => {
    if (tlsServer === undefined) {
      console.warn(tlsSkipReason);
      ctx.skip();
      return;
    }
    const r = await gather({ url: `${tlsBase}/`, rejectUnauthorized: false });
    expect(r.fields).toMatchObject({ up: 1, status: 200, result: 'ok' });
    expect(r.fields.cert_days_left).toBeGreaterThan(29);
    expect(r.fields.cert_days_left).toBeLessThanOrEqual(30);
    expect((await gather({ url: `${tlsBase}/` })).fields).toEqual({ up: 0, result: 'tls_error' });
    const trusted = await gather({ url: `${tlsBase}/`, caFile: join(certDir, 'cert.pem') });
    expect(trusted.fields).toMatchObject({ up: 1 });
  });

  it('accepts only http(s) URLs', () => {
    expect(httpConfigSchema.safeParse({ type: 'http', url: 'ftp://x' }).success).toBe(false);
  });
});
