// MQTTS: the hub's TLS listener with a certificate, and simulated agents that verify it against a CA file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Simulator } from '../edge/simulator.ts';
import { startStack, waitUntil, type Stack } from './harness/stack.ts';

let certDir: string;
let stack: (Stack & { mqttsUrl?: string }) | undefined;

beforeAll(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'ioc-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'),
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
  ], { stdio: 'ignore' });
  stack = await startStack({ agents: 2, tls: { certFile: join(certDir, 'cert.pem'), keyFile: join(certDir, 'key.pem') } });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(certDir, { recursive: true, force: true });
});

describe('MQTTS', () => {
  it('carries agents that trust the hub certificate, and refuses to carry those that do not', async () => {
    if (stack?.mqttsUrl === undefined) throw new Error('stack without TLS');
    const [trusting, untrusting] = stack.agents;
    if (trusting === undefined || untrusting === undefined) throw new Error('agents missing');
    const good = new Simulator({ hubUrl: stack.mqttsUrl, agents: [trusting], intervalMs: 500, caFile: join(certDir, 'cert.pem') });
    const bad = new Simulator({ hubUrl: stack.mqttsUrl, agents: [untrusting], intervalMs: 500 });
    good.start();
    bad.start();
    try {
      await waitUntil('points over TLS', async () => good.stats().pointsAcked > 0, 20_000);
      expect(bad.stats().pointsAcked).toBe(0);
      expect(bad.stats().agentsConnected).toBe(0);
    } finally {
      await good.stop();
      await bad.stop();
    }
    const body = await stack.influx.query(`SELECT count(up) FROM net_probe WHERE site='${trusting.site}'`, 'ioc');
    expect(body.results[0]?.series?.[0]?.values?.[0]?.[1]).toBeGreaterThan(0);
  }, 60_000);
});
