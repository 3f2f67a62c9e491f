import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadEdgeConfig, parseEdgeConfig } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'ioc-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const samplesDir = new URL('./samples/', import.meta.url);

describe('edge config', () => {
  it.each(readdirSync(samplesDir).filter((f) => f.endsWith('.yaml')))('parses sample %s', async (file) => {
    const cfg = await loadEdgeConfig(new URL(file, samplesDir).pathname, {});
    expect(cfg.site).toMatch(/^[a-z0-9-]+$/);
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('the default agent sample has the default collectors', async () => {
    const cfg = await loadEdgeConfig(new URL('agent.yaml', samplesDir).pathname, {});
    expect(cfg.collectors.map((c) => c.type).sort()).toEqual(['dns', 'host', 'http', 'http', 'icmp', 'net_iface', 'tcp', 'uplink']);
    expect(cfg.collectors.some((c) => c.type === 'http' && c.url === 'https://dichvucong.vinhphuc.gov.vn')).toBe(true);
  });

  it('fills defaults and deep-freezes', () => {
    const cfg = parseEdgeConfig({ site: 'xa-a', agent: 'pi-1', hub: { url: 'mqtt://h:1883', token: 't' }, collectors: [{ type: 'tcp', host: 'h', port: 1 }] });
    expect(cfg).toMatchObject({
      dataDir: '/var/lib/ioc-edge',
      hub: { rejectUnauthorized: true, keepaliveS: 30, connectTimeoutMs: 10_000 },
      batch: { maxPoints: 500, flushIntervalMs: 1000 },
      link: { maxInflight: 8, reconnectMinMs: 1000, reconnectMaxMs: 60_000 },
    });
    expect(cfg.collectors[0]).toMatchObject({ intervalS: 60, timeoutMs: 5000 });
    expect(Object.isFrozen(cfg.hub)).toBe(true);
    expect(Object.isFrozen(cfg.collectors[0])).toBe(true);
  });

  it('reports every problem with its path, code E_CONFIG', async () => {
    const p = write(
      'bad.yaml',
      `site: Bad Site
agent: pi-1
hub: { url: http://x, token: t }
batch: { maxPoints: 0 }
collectors:
  - { type: host }
  - { type: dns, query: x }
  - { type: tcp, host: h, port: "80" }
  - { type: smtp }
`,
    );
    const err = await loadEdgeConfig(p, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    if (!(err instanceof ConfigError)) return;
    expect(err.code).toBe('E_CONFIG');
    const paths = err.issues.map((i) => i.split(':')[0]);
    expect(paths).toEqual(expect.arrayContaining(['site', 'hub.url', 'batch.maxPoints', 'collectors.2.port', 'collectors.3.type']));
    expect(err.issues.find((i) => i.startsWith('collectors.2.port'))).toMatch(/expected number/);
    expect(err.message).toContain('collectors.2.port');
  });

  it('rejects unknown keys (typos) and reserved site slugs', () => {
    const e = (() => {
      try {
        parseEdgeConfig({ site: 'alerts', agent: 'a', hub: { url: 'mqtt://h', token: 't', tokne: 'x' } });
      } catch (err: unknown) {
        return err;
      }
      return undefined;
    })();
    expect(e instanceof ConfigError ? e.issues.join('\n') : '').toMatch(/site: reserved[\s\S]*hub: Unrecognized key/);
  });

  it('applies env overrides', async () => {
    const p = write('env.yaml', 'site: xa-env\nagent: pi-1\n');
    const cfg = await loadEdgeConfig(p, {
      IOC_EDGE_HUB_URL: 'mqtts://hub.example:8883',
      IOC_EDGE_HUB_TOKEN: 'from-env',
      IOC_EDGE_DATA_DIR: '/tmp/x',
      IOC_EDGE_LOG_LEVEL: 'debug',
    });
    expect(cfg).toMatchObject({ hub: { url: 'mqtts://hub.example:8883', token: 'from-env' }, dataDir: '/tmp/x', logLevel: 'debug' });
    expect(typeof cfg.configRev).toBe('string');
  });

  it('fails on unreadable files and bad YAML with stable codes', async () => {
    await expect(loadEdgeConfig(join(dir, 'missing.yaml'), {})).rejects.toMatchObject({ code: 'E_CONFIG_READ' });
    await expect(loadEdgeConfig(write('broken.yaml', 'site: [unclosed\n'), {})).rejects.toMatchObject({ code: 'E_CONFIG' });
  });
});

describe('the shared schema (protocol/edge-config.ts)', () => {
  it('knows the same collector types as the agent, and refuses what the agent refuses at the top level', async () => {
    const { COLLECTOR_TYPES } = await import('./collectors/index.ts');
    const { EDGE_COLLECTOR_TYPES, edgeConfigBaseSchema } = await import('../protocol/index.ts');
    expect([...EDGE_COLLECTOR_TYPES].sort()).toEqual([...COLLECTOR_TYPES].sort());
    const bad = { site: 'xa-a', agent: 'pi-1', hub: { url: 'mqtt://h:1883', token: 't' }, batch: { maxPoints: 0 } };
    expect(edgeConfigBaseSchema.safeParse(bad).success).toBe(false);
    expect(() => parseEdgeConfig(bad)).toThrow(/batch\.maxPoints/);
  });
});
