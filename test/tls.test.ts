// MQTTS: the hub's TLS listener with a certificate, and simulated agents that verify it against a CA file;
// mTLS with the plaintext listener closed (client certificates made here by openssl); the edge's warning
// when certificate checks are off.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttLink } from '../edge/link/link.ts';
import { createLogger } from '../edge/logger.ts';
import { MemoryOutbox } from '../edge/outbox.ts';
import { Simulator } from '../edge/simulator.ts';
import { agentIdentity, telemetryTopic } from '../protocol/index.ts';
import { runProgram } from '../testkit/child-process.ts';
import { connectAs, endClient, publishQos1 } from '../testkit/mqtt-client.ts';
import { metricValue, openRaw } from '../testkit/raw-mqtt.ts';
import { startStack, type Stack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

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

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** openssl in `dir`: a certificate `name.crt`/`name.key` signed by ca.crt (self-signed when `ca` is false). */
function makeCert(dir: string, name: string, subj: string, opts: { san?: string; ca?: boolean } = {}): void {
  if (opts.ca === false) {
    openssl(dir, ['req', '-x509', ...EC_KEY, '-days', '2', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', subj]);
    return;
  }
  openssl(dir, ['req', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj]);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, opts.san === undefined ? '' : `subjectAltName=${opts.san}\n`);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, '-extfile', ext]);
}

describe('mTLS with the plaintext listener closed', () => {
  let dir: string;
  let mtls: (Stack & { mqttsUrl?: string }) | undefined;
  const tlsOf = (name: string): { ca: Buffer; cert: Buffer; key: Buffer } => ({
    ca: readFileSync(join(dir, 'ca.crt')),
    cert: readFileSync(join(dir, `${name}.crt`)),
    key: readFileSync(join(dir, `${name}.key`)),
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ioc-mtls-'));
    openssl(dir, ['req', '-x509', ...EC_KEY, '-days', '2', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=ioc-test-ca']);
    makeCert(dir, 'hub', '/CN=localhost', { san: 'DNS:localhost' });
    mtls = await startStack({ agents: 3, mqttLines: ['plain: false', 'maxConnectionsPerAddress: 8'], tls: { certFile: join(dir, 'hub.crt'), keyFile: join(dir, 'hub.key'), caFile: join(dir, 'ca.crt') } });
    const [a, b] = mtls.agents;
    if (a === undefined || b === undefined) throw new Error('agents missing');
    // CN = {site}/{agent} ('/' escaped for openssl's -subj), or a SAN URI:ioc:{site}/{agent}
    makeCert(dir, 'a', `/CN=${a.site}\\/${a.agent}`);
    makeCert(dir, 'b', `/CN=${b.agent}`, { san: `URI:ioc:${b.site}/${b.agent}` });
    makeCert(dir, 'stranger', `/CN=${a.site}\\/${a.agent}`, { ca: false });
  }, 90_000);

  afterAll(async () => {
    await mtls?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function need(): { stack: Stack & { mqttsUrl?: string }; url: string } {
    if (mtls?.mqttsUrl === undefined) throw new Error('stack without TLS');
    return { stack: mtls, url: mtls.mqttsUrl };
  }

  it('has no plaintext listener', async () => {
    const { stack } = need();
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port: stack.mqttPort });
      s.once('connect', () => {
        s.destroy();
        resolve(undefined);
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e));
    });
    expect(err?.code).toBe('ECONNREFUSED');
  });

  it('carries agents whose certificate names them, by CN or by SAN', async () => {
    const { stack, url } = need();
    for (const [name, creds] of [['a', stack.agents[0]], ['b', stack.agents[1]]] as const) {
      if (creds === undefined) throw new Error('agent missing');
      const id = agentIdentity(creds.site, creds.agent);
      const client = await connectAs(url, id, creds.token, tlsOf(name));
      const batch = { seq: 1, sentAt: Date.now(), points: [{ m: 'net_probe', t: Date.now(), tags: { target: `mtls-${name}`, method: 'tcp' }, fields: { up: 1, rtt_ms: 1 } }] };
      expect(await publishQos1(client, telemetryTopic(creds.site, creds.agent), JSON.stringify(batch))).toBe('acked');
      await endClient(client);
    }
  }, 30_000);

  it("refuses another agent's certificate (CONNACK 5), no certificate and a certificate the CA did not sign (handshake)", async () => {
    const { stack, url } = need();
    const c = stack.agents[2];
    if (c === undefined) throw new Error('agent missing');
    const id = agentIdentity(c.site, c.agent);
    const attempt = async (tls: Partial<{ ca: Buffer; cert: Buffer; key: Buffer }>, user = id, token = c.token): Promise<string> => {
      let client: MqttClient | undefined;
      try {
        client = await connectAs(url, user, token, tls);
        return 'connected';
      } catch (err: unknown) {
        return err instanceof Error ? err.message : String(err);
      } finally {
        if (client !== undefined) await endClient(client);
      }
    };
    const handshakesBefore = await metricValue(stack.httpUrl, 'ioc_hub_conn_refused_total', 'reason="tls_handshake"');
    expect(await attempt(tlsOf('a'))).toMatch(/Not authorized/i);
    expect(await metricValue(stack.httpUrl, 'ioc_hub_conn_refused_total', 'reason="cert_identity"')).toBe(1);
    expect(await attempt({ ca: tlsOf('a').ca })).not.toBe('connected');
    const a = stack.agents[0];
    if (a === undefined) throw new Error('agent missing');
    expect(await attempt({ ...tlsOf('stranger'), ca: tlsOf('a').ca }, agentIdentity(a.site, a.agent), a.token)).not.toBe('connected');
    await waitUntil('handshake refusals counted', async () => (await metricValue(stack.httpUrl, 'ioc_hub_conn_refused_total', 'reason="tls_handshake"')) >= handshakesBefore + 2, 5000, 100);
  }, 30_000);

  it('counts TLS sockets against the connection caps from TCP accept, before their handshake', async () => {
    const { stack } = need();
    const tlsPort = Number(new URL(need().url).port);
    const sockets = await Promise.all(Array.from({ length: 12 }, () => openRaw(tlsPort)));
    await new Promise((r) => setTimeout(r, 500));
    const open = sockets.filter((s) => !s.isClosed()).length;
    for (const s of sockets) s.socket.destroy();
    expect(open).toBe(8);
    expect(await metricValue(stack.httpUrl, 'ioc_hub_conn_refused_total', 'reason="max_per_address"')).toBe(4);
  });

  it('enroll prints an mqtts:// URL and the TLS files of an mTLS hub', async () => {
    const { stack, url } = need();
    const site = stack.agents[0]?.site ?? '';
    const r = await runProgram('ioc-hub', ['enroll', '--site', site, '--agent', 'pi-9', '--config', stack.hubConfig]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`url: ${url.replace('localhost', '127.0.0.1')}`);
    expect(r.stdout).not.toContain('mqtt://');
    expect(r.stdout).toMatch(/certFile: \/etc\/ioc-edge\/tls\/agent\.crt/);
  });
});

describe('edge link with certificate checks off', () => {
  it('warns at start and again every insecureWarnEveryMs', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const link = new MqttLink({
      url: 'mqtts://127.0.0.1:1', // nothing listens: only the warning matters here
      site: 'xa-a',
      agent: 'pi-1',
      token: 'x',
      outbox: new MemoryOutbox({ maxBatches: 10 }),
      rejectUnauthorized: false,
      insecureWarnEveryMs: 200,
      reconnectMinMs: 10_000,
      logger: createLogger('warn', sink),
    });
    link.start();
    await new Promise((r) => setTimeout(r, 700));
    await link.stop({ drainTimeoutMs: 0 });
    const warnings = lines.filter((l) => l.includes('TLS certificate checks are OFF'));
    expect(warnings.length).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(warnings[0] ?? '{}')).toMatchObject({ level: 40, rejectUnauthorized: false });
  });
});
