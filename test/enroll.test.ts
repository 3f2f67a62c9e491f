// Enrollment across the boundary: the config `ioc-hub enroll` prints is one `ioc-edge` accepts, and its token works.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../scripts/lib/child-process.ts';
import { sitesImportArgs } from './harness/stack.ts';

let dir: string;
let hubConfig: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ioc-enroll-'));
  hubConfig = join(dir, 'hub.yaml');
  writeFileSync(hubConfig, `registry:\n  path: ${join(dir, 'registry.json')}\n`);
  const r = await runProgram('ioc-hub', [...sitesImportArgs(), '--config', hubConfig]);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ioc-hub enroll → ioc-edge', () => {
  it('prints a config that ioc-edge check-config accepts, with the default probes', async () => {
    const r = await runProgram('ioc-hub', ['enroll', '--site', 'xa-lap-thach', '--agent', 'pi-1', '--hub-url', 'mqtts://hub.example.vn:8883', '--config', hubConfig]);
    expect(r.code, r.stderr).toBe(0);
    const yamlStart = r.stdout.indexOf('site:');
    expect(yamlStart).toBeGreaterThanOrEqual(0);
    const agentYaml = join(dir, 'agent.yaml');
    writeFileSync(agentYaml, r.stdout.slice(r.stdout.lastIndexOf('#', yamlStart)));
    const doc = parse(r.stdout.slice(yamlStart)) as { site: string; hub: { url: string; token: string }; collectors: { type: string; name?: string }[] };
    expect(doc.site).toBe('xa-lap-thach');
    expect(doc.hub.url).toBe('mqtts://hub.example.vn:8883');
    expect(doc.hub.token.length).toBeGreaterThanOrEqual(32);
    expect(r.stdout).toContain(doc.hub.token);
    expect(doc.collectors.map((c) => c.name ?? c.type)).toEqual(['gateway', 'hub', 'hub-mqtt', 'portal', 'dns-portal', 'net_iface', 'uplink', 'host']);
    const check = await runProgram('ioc-edge', ['check-config', agentYaml]);
    expect(check.code, `${check.stdout}${check.stderr}`).toBe(0);
  });

  it('refuses an unknown site with a clear message and no stack trace', async () => {
    const r = await runProgram('ioc-hub', ['enroll', '--site', 'no-such-commune', '--agent', 'pi-1', '--config', hubConfig]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no-such-commune/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
