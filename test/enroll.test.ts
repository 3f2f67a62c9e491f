// Enrollment across the boundary: the config `ioc-hub enroll` prints (or writes with --out) is one `ioc-edge` accepts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runProgram } from '../testkit/child-process.ts';
import { sitesImportArgs } from '../testkit/stack.ts';

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
  it('prints a config that ioc-edge check-config accepts as it is (enroll > agent.yaml), with the default probes', async () => {
    const r = await runProgram('ioc-hub', ['enroll', '--site', 'xa-lap-thach', '--agent', 'pi-1', '--hub-url', 'mqtts://hub.example.vn:8883', '--config', hubConfig]);
    expect(r.code, r.stderr).toBe(0);
    const agentYaml = join(dir, 'agent.yaml');
    writeFileSync(agentYaml, r.stdout); // exactly what `> agent.yaml` stores
    const doc = parse(r.stdout) as { site: string; hub: { url: string; token: string }; collectors: { type: string; name?: string }[] };
    expect(doc.site).toBe('xa-lap-thach');
    expect(doc.hub.url).toBe('mqtts://hub.example.vn:8883');
    expect(doc.hub.token.length).toBeGreaterThanOrEqual(32);
    expect(doc.collectors.map((c) => c.name ?? c.type)).toEqual(['gateway', 'hub', 'hub-mqtt', 'portal', 'dns-portal', 'net_iface', 'uplink', 'host']);
    const check = await runProgram('ioc-edge', ['check-config', agentYaml]);
    expect(check.code, `${check.stdout}${check.stderr}`).toBe(0);
    expect(check.stdout).toMatch(/^OK .*site=xa-lap-thach agent=pi-1 collectors=8/);
  });

  it('enroll | check-config - passes, through a real pipe', async () => {
    const node = JSON.stringify(process.execPath);
    const bin = (name: string): string => JSON.stringify(join(PROJECT_ROOT, 'bin', `${name}.js`));
    // os-program: sh, node (the command line is built from process.execPath)
    const r = spawnSync('sh', ['-c', `${node} ${bin('ioc-hub')} enroll --site xa-lap-thach --agent pi-4 --config ${JSON.stringify(hubConfig)} | ${node} ${bin('ioc-edge')} check-config -`], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^OK -: site=xa-lap-thach agent=pi-4 collectors=8/);
  }, 60_000);

  it('enroll --out FILE writes a config check-config accepts, mode 0600, and prints no token', async () => {
    const out = join(dir, 'agent-out.yaml');
    const r = await runProgram('ioc-hub', ['enroll', '--site', 'xa-lap-thach', '--agent', 'pi-2', '--out', out], { env: { IOC_HUB_CONFIG: hubConfig } });
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const token = (parse(readFileSync(out, 'utf8')) as { hub: { token: string } }).hub.token;
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(r.stdout + r.stderr).not.toContain(token);
    const check = await runProgram('ioc-edge', ['check-config', out]);
    expect(check.code, `${check.stdout}${check.stderr}`).toBe(0);
  });

  it('check-config refuses a broken config without echoing its token', async () => {
    const out = join(dir, 'agent-broken.yaml');
    const r = await runProgram('ioc-hub', ['enroll', '--site', 'xa-lap-thach', '--agent', 'pi-3', '--out', out, '--config', hubConfig]);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    const token = (parse(text) as { hub: { token: string } }).hub.token;
    // what the old `enroll > agent.yaml` gave: a token line, then `---`
    writeFileSync(out, `token: ${token}\n---\n${text}`);
    const check = await runProgram('ioc-edge', ['check-config', out]);
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/invalid config .*multiple documents/s);
    expect(check.stdout + check.stderr).not.toContain(token);
  });

  it('refuses an unknown site with a clear message and no stack trace', async () => {
    const r = await runProgram('ioc-hub', ['enroll', '--site', 'no-such-commune', '--agent', 'pi-1', '--config', hubConfig]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no-such-commune/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
