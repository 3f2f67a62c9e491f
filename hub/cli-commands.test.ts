import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from './cli-commands.ts';

const csv = fileURLToPath(new URL('../data/vinh-phuc-communes.csv', import.meta.url));
const national = fileURLToPath(new URL('../data/vn-communes-2025.csv', import.meta.url));

function io(env: Record<string, string>): { out: string[]; err: string[]; io: Parameters<typeof runCli>[1] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env, waitForShutdown: () => Promise.resolve('SIGTERM') } };
}

describe('ioc-hub CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-hub-cli-'));
  const env = { IOC_HUB_REGISTRY_PATH: join(dir, 'registry.json') };

  it('imports sites, enrolls one agent with an edge config, and all sites into a 0600 file', async () => {
    const a = io(env);
    expect(await runCli(['sites', 'import', '--csv', csv], a.io)).toBe(0);
    expect(a.out.join('')).toContain('121 added');
    const b = io(env);
    expect(await runCli(['enroll', '--site', 'phuong-tich-son', '--agent', 'pi-1', '--hub-url', 'mqtts://hub.ioc.vn:8883'], b.io)).toBe(0);
    const [tokenLine, yamlText] = b.out.join('').split('---\n');
    const edge = parse(yamlText ?? '') as { site: string; hub: { url: string; token: string }; collectors: { type: string }[] };
    expect(edge.site).toBe('phuong-tich-son');
    expect(edge.hub).toEqual({ url: 'mqtts://hub.ioc.vn:8883', token: tokenLine?.replace('token: ', '').trim() });
    expect(edge.collectors.map((c) => c.type)).toEqual(['icmp', 'icmp', 'tcp', 'http', 'dns', 'net_iface', 'uplink', 'host']);
    const out = join(dir, 'creds.json');
    const c = io(env);
    expect(await runCli(['enroll', '--all-sites', '--limit', '5', '--out', out], c.io)).toBe(0);
    const creds = JSON.parse(readFileSync(out, 'utf8')) as { agents: { site: string; agent: string; token: string }[] };
    expect(creds.agents).toHaveLength(5);
    expect(creds.agents[0]?.agent).toBe('pi-1');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const d = io(env);
    expect(await runCli(['sites', 'list'], d.io)).toBe(0);
    expect(d.out.join('').split('\n').filter(Boolean)).toHaveLength(121);
  });

  it('imports one province of the 2025 national list with --province, and refuses the whole file without a choice', async () => {
    const penv = { IOC_HUB_REGISTRY_PATH: join(mkdtempSync(join(tmpdir(), 'ioc-hub-cli-')), 'registry.json') };
    const several = io(penv);
    expect(await runCli(['sites', 'import', '--csv', national], several.io)).toBe(1);
    expect(several.err.join('')).toMatch(/^ioc-hub: .*vn-communes-2025\.csv has 34 provinces: 01 Thành phố Hà Nội .*--province CODE\|NAME.*--all-provinces to import all 3321 communes\n$/s);
    const unknown = io(penv);
    expect(await runCli(['sites', 'import', '--csv', national, '--province', '99'], unknown.io)).toBe(1);
    expect(unknown.err.join('')).toMatch(/^ioc-hub: no province "99" in .*; it has 34 provinces: 01 Thành phố Hà Nội \(\d+\), .*25 Tỉnh Phú Thọ \(148\)/);
    const both = io(penv);
    expect(await runCli(['sites', 'import', '--csv', national, '--province', '25', '--all-provinces'], both.io)).toBe(2);
    for (const province of ['25', 'Phú Thọ']) {
      const ok = io(penv);
      expect(await runCli(['sites', 'import', '--csv', national, '--province', province], ok.io)).toBe(0);
      expect(ok.out.join('')).toMatch(/^imported \(national-2025, province 25\): \d+ added, \d+ updated, 148 sites in /);
    }
    const list = io(penv);
    expect(await runCli(['sites', 'list'], list.io)).toBe(0);
    const lines = list.out.join('').split('\n').filter(Boolean);
    expect(lines).toHaveLength(148);
    expect(lines).toContain('xa-lap-thach\tXã Lập Thạch\t\t\t');
  });

  it('exits non-zero with a message and no stack trace on bad input', async () => {
    for (const [argv, code] of [
      [['enroll', '--site', 'nowhere', '--agent', 'pi-1'], 1],
      [['enroll', '--agent', 'pi-1'], 2],
      [['frobnicate'], 2],
      [['enroll', '--nope'], 2],
      [['sites', 'import', '--csv', join(dir, 'missing.csv')], 1],
      [['enroll', '--all-sites', '--limit', 'zero', '--out', join(dir, 'x.json')], 2],
      [['start', '--config', join(dir, 'missing.yaml')], 1],
    ] as const) {
      const r = io(env);
      expect(await runCli(argv, r.io)).toBe(code);
      expect(r.err.join('')).toMatch(/^ioc-hub: /);
      expect(r.err.join('')).not.toContain('    at ');
    }
  });
});
