// docker-compose.yml checked statically (this machine runs no containers), plus `docker-compose config -q`
// when the binary is installed (Debian package docker-compose).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { parseHubConfig } from '../hub/config.ts';
import { PROJECT_ROOT } from '../testkit/child-process.ts';

const COMPOSE = join(PROJECT_ROOT, 'docker-compose.yml');
const ENV_EXAMPLE = join(PROJECT_ROOT, '.env.example');
const composeText = readFileSync(COMPOSE, 'utf8');

const serviceSchema = z.object({
  image: z.string().optional(),
  build: z.unknown().optional(),
  restart: z.enum(['always', 'unless-stopped', 'on-failure']),
  environment: z.record(z.string(), z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  ports: z.array(z.string()).optional(),
  healthcheck: z.object({ test: z.array(z.string()).min(2), interval: z.string(), timeout: z.string(), retries: z.number() }),
  depends_on: z.record(z.string(), z.object({ condition: z.enum(['service_started', 'service_healthy']) })).optional(),
});
const composeSchema = z.object({ services: z.record(z.string(), serviceSchema), volumes: z.record(z.string(), z.unknown().nullable()) });
const compose = composeSchema.parse(parse(composeText));

function envExampleKeys(): Set<string> {
  return new Set(
    readFileSync(ENV_EXAMPLE, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.slice(0, l.indexOf('='))),
  );
}

describe('docker-compose.yml', () => {
  it('runs the hub, InfluxDB, Grafana and Node-RED, each restarted and health-checked', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['grafana', 'hub', 'influxdb', 'node-red']);
  });

  it('pins every image (no latest, no bare name)', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.image === undefined) {
        expect(s.build, `${name} has neither image nor build`).toBeDefined();
        continue;
      }
      expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(s.image, name).not.toMatch(/:latest$/);
    }
    expect(compose.services.influxdb?.image).toMatch(/^influxdb:1\.8/);
    // Node-RED runs embedded in the project's image (flows/main.ts), built like the hub's.
    expect(compose.services['node-red']?.build).toBe('.');
    expect(compose.services.grafana?.image).toMatch(/^grafana\/grafana-oss:\d+\.\d+\.\d+$/);
  });

  it('mounts only host paths that exist in the repository, and declares every named volume', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0] ?? '';
        if (source.startsWith('.') || source.startsWith('/')) expect(existsSync(join(PROJECT_ROOT, source)), `${name}: ${source}`).toBe(true);
        else expect(Object.keys(compose.volumes), `${name}: volume ${source}`).toContain(source);
      }
    }
  });

  it('takes every ${VAR} from .env.example', () => {
    const keys = envExampleKeys();
    const used = [...composeText.matchAll(/\$\{(\w+)(?::?[-?][^}]*)?\}/g)].map((m) => m[1] ?? '');
    expect(used.length).toBeGreaterThan(0);
    for (const v of used) expect(keys.has(v), `${v} missing from .env.example`).toBe(true);
  });

  it('Grafana: provisioning mounted, wall as home, anonymous Viewer only', () => {
    const g = compose.services.grafana;
    expect(g?.environment).toMatchObject({
      GF_AUTH_ANONYMOUS_ENABLED: 'true',
      GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer',
      GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: '/var/lib/grafana/dashboards/ioc/wall.json',
    });
    expect(Object.keys(g?.environment ?? {}).filter((k) => k.startsWith('GF_AUTH_'))).toEqual(['GF_AUTH_ANONYMOUS_ENABLED', 'GF_AUTH_ANONYMOUS_ORG_ROLE']);
    expect(g?.volumes).toEqual(expect.arrayContaining(['./dashboards/provisioning/datasources:/etc/grafana/provisioning/datasources:ro', './dashboards/generated:/var/lib/grafana/dashboards/ioc:ro']));
    expect(existsSync(join(PROJECT_ROOT, 'dashboards', 'generated', 'wall.json'))).toBe(true);
    // Every variable the datasource file reads is set on the container.
    const ds = readFileSync(join(PROJECT_ROOT, 'dashboards', 'provisioning', 'datasources', 'influxdb.yaml'), 'utf8');
    for (const m of ds.matchAll(/\$\{(\w+)\}/g)) expect(Object.keys(g?.environment ?? {}), m[1]).toContain(m[1]);
  });

  it('InfluxDB with auth; Node-RED with ./flows and its credential secret', () => {
    expect(compose.services.influxdb?.environment?.INFLUXDB_HTTP_AUTH_ENABLED).toBe('true');
    expect(compose.services['node-red']?.volumes).toContain('./flows/samples/notify.yaml:/etc/ioc-flows/notify.yaml:ro');
    expect(compose.services['node-red']?.environment?.NODE_RED_CREDENTIAL_SECRET).toMatch(/^\$\{NODE_RED_CREDENTIAL_SECRET/);
  });

  it('the hub publishes MQTTS only, with its certificates mounted and its config listening on TLS', () => {
    const hub = compose.services.hub;
    const published = (hub?.ports ?? []).map((p) => p.split(':').at(-1));
    expect(published.sort()).toEqual(['8080', '8883']);
    expect(hub?.volumes).toEqual(expect.arrayContaining(['./tls:/etc/ioc-hub/tls:ro', './hub/samples/hub.yaml:/etc/ioc-hub/hub.yaml:ro']));
    const config = parseHubConfig(parse(readFileSync(join(PROJECT_ROOT, 'hub', 'samples', 'hub.yaml'), 'utf8')), 'hub/samples/hub.yaml');
    expect(config.mqtt.tls).toMatchObject({ port: 8883, certFile: expect.stringMatching(/^\/etc\/ioc-hub\/tls\//), keyFile: expect.stringMatching(/^\/etc\/ioc-hub\/tls\//) });
    // The plaintext listener stays for Node-RED inside the compose network: never published.
    if (config.mqtt.plain) expect(published).not.toContain(String(config.mqtt.port));
    expect(compose.services['node-red']?.environment?.IOC_HUB_MQTT_HOST).toBe('hub');
  });

  it('the hub image is multi-stage, non-root and health-checked', () => {
    const dockerfile = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM /gm)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER (?!root)\w+/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).not.toMatch(/^FROM \S+:latest/m);
  });

  it('docker-compose config -q accepts it (the real Compose parser, no engine needed)', async () => {
    // os-program: docker-compose (installed by scripts/ensure-os-packages.mjs before the suite)
    const bin = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((p) => existsSync(p));
    expect(bin, 'docker-compose is in scripts/os-packages.json: npm test installs it (apt-get install docker-compose)').toBeDefined();
    const run = promisify(execFile);
    const { stderr } = await run(bin ?? 'docker-compose', ['--env-file', ENV_EXAMPLE, '-f', COMPOSE, 'config', '-q'], { cwd: PROJECT_ROOT, timeout: 30_000 });
    expect(stderr.trim()).toBe('');
  });
});
