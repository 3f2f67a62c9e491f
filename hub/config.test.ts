import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LIMITS, MAX_TOPIC_DEPTH } from '../protocol/index.ts';
import { loadHubConfig, parseHubConfig } from './config.ts';
import { HubError } from './errors.ts';
import { defaultRegistryPath } from './state-dir.ts';

const samplesDir = fileURLToPath(new URL('./samples/', import.meta.url));

function yamlFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'ioc-hub-config-')), 'hub.yaml');
  writeFileSync(path, text);
  return path;
}

describe('hub config', () => {
  it('refuses mqtt.plain: false without a TLS listener', () => {
    expect(() => parseHubConfig({ mqtt: { plain: false } })).toThrow(/mqtt\.plain/);
    expect(parseHubConfig({ mqtt: { plain: false, tls: { certFile: 'c.pem', keyFile: 'k.pem' } } }).mqtt.plain).toBe(false);
  });

  it('has a default for everything', () => {
    const cfg = loadHubConfig({ env: {} });
    expect(cfg.mqtt).toEqual({
      host: '0.0.0.0',
      port: 1883,
      plain: true,
      connectTimeoutMs: 10_000,
      maxConnections: 10_000,
      maxConnectionsPerAddress: 1000,
      maxPreConnectPacketBytes: 4096,
      authFailures: { burst: 20, perMinute: 20 },
      flapping: { maxConnects: 60, maxTakeovers: 5, windowMs: 60_000, banMs: 300_000 },
      takeoverIdleMs: 45_000,
    });
    expect(cfg.http).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(cfg.influx).toMatchObject({ url: 'http://127.0.0.1:8086', database: 'ioc', retention: '90d', batchSize: 5000, flushIntervalMs: 100, maxInflightWrites: 2, timeoutMs: 10000 });
    expect(cfg.limits).toEqual({ maxPayloadBytes: LIMITS.maxPayloadBytes, maxTopicDepth: MAX_TOPIC_DEPTH, maxPendingPoints: 200000, maxFutureMs: 600_000 });
    expect(cfg.registry.path).toBe(defaultRegistryPath());
    expect(cfg.registry.path).not.toContain(process.cwd());
    expect(cfg.log.level).toBe('info');
  });

  it('is deep-frozen', () => {
    const cfg = loadHubConfig({ env: {} });
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.influx)).toBe(true);
  });

  it('parses every sample in hub/samples', () => {
    const files = readdirSync(samplesDir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(() => loadHubConfig({ path: join(samplesDir, f), env: {} })).not.toThrow();
  });

  it('applies env overrides over the file', () => {
    const path = yamlFile('mqtt:\n  port: 1999\ninflux:\n  url: http://db:8086\n');
    const cfg = loadHubConfig({
      path,
      env: { IOC_HUB_MQTT_PORT: '2883', IOC_HUB_HTTP_PORT: '0', IOC_HUB_INFLUX_PASSWORD: 's3cret', IOC_HUB_INFLUX_USERNAME: 'hub', IOC_HUB_REGISTRY_PATH: '/tmp/r.json', IOC_HUB_LOG_LEVEL: 'debug' },
    });
    expect(cfg.mqtt.port).toBe(2883);
    expect(cfg.http.port).toBe(0);
    expect(cfg.influx.url).toBe('http://db:8086');
    expect(cfg.influx.username).toBe('hub');
    expect(cfg.influx.password).toBe('s3cret');
    expect(cfg.registry.path).toBe('/tmp/r.json');
    expect(cfg.log.level).toBe('debug');
  });

  it('reports every problem with its path and code E_CONFIG', () => {
    const path = yamlFile('mqtt:\n  port: 70000\n  tls: { port: 8883 }\ninflux:\n  batchSize: 0\n  bogus: 1\n');
    let caught: unknown;
    try {
      loadHubConfig({ path, env: { IOC_HUB_LOG_LEVEL: 'loud' } });
    } catch (err: unknown) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(HubError);
    const err = caught as HubError;
    expect(err.code).toBe('E_CONFIG');
    for (const p of ['mqtt.port', 'mqtt.tls.certFile', 'influx.batchSize', 'log.level']) expect(err.message).toContain(p);
    expect(err.message).toContain('bogus');
  });

  it('rejects a non-numeric port from env', () => {
    expect(() => loadHubConfig({ env: { IOC_HUB_HTTP_PORT: 'eighty' } })).toThrow(/http\.port/);
  });

  it('rejects unreadable and non-YAML files', () => {
    expect(() => loadHubConfig({ path: '/nonexistent/hub.yaml', env: {} })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => loadHubConfig({ path: yamlFile('mqtt: [1, 2\n'), env: {} })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => loadHubConfig({ path: yamlFile('- 1\n- 2\n'), env: {} })).toThrow(/expected a mapping/);
  });

  it('accepts a TLS listener with defaults', () => {
    const cfg = parseHubConfig({ mqtt: { tls: { certFile: 'c.pem', keyFile: 'k.pem' } } });
    expect(cfg.mqtt.tls).toEqual({ port: 8883, certFile: 'c.pem', keyFile: 'k.pem' });
  });
});
