import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runProgram } from '../../testkit/child-process.ts';
import { HUB_COMMANDS, runCli } from './cli-commands.ts';

const csv = fileURLToPath(new URL('../../data/vinh-phuc-communes.csv', import.meta.url));
const national = fileURLToPath(new URL('../../data/vn-communes-2025.csv', import.meta.url));

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
    // stdout is one YAML document (so `enroll > agent.yaml` is a valid config); the token is inside it.
    const edge = parse(b.out.join('')) as { site: string; hub: { url: string; token: string }; collectors: { type: string }[] };
    expect(edge.site).toBe('phuong-tich-son');
    expect(edge.hub.url).toBe('mqtts://hub.ioc.vn:8883');
    expect(edge.hub.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(b.out.join('').split(edge.hub.token)).toHaveLength(2); // once, in hub.token
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

  it('imports an earlier registry.json, lists the fleet, rotates and revokes, each audited', async () => {
    const fdir = mkdtempSync(join(tmpdir(), 'ioc-hub-cli-'));
    const fenv = { IOC_HUB_REGISTRY_PATH: join(fdir, 'registry.db') };
    const legacy = fileURLToPath(new URL('../agents/fixtures/registry-v1.json', import.meta.url));
    const imp = io(fenv);
    expect(await runCli(['registry', 'import', legacy], imp.io)).toBe(0);
    expect(imp.out.join('')).toMatch(/2 sites and 3 agents added, 0 agents already there kept/);
    const noFile = io(fenv);
    expect(await runCli(['registry', 'import'], noFile.io)).toBe(2);
    const list = io(fenv);
    expect(await runCli(['agents', 'list', '--province', 'vinh-phuc', '--json'], list.io)).toBe(0);
    const listed = JSON.parse(list.out.join('')) as { agents: { site: string; agent: string; online: boolean; version: string | null; tokenRev: number }[] };
    expect(listed.agents.map((a) => [a.site, a.agent, a.online, a.version, a.tokenRev])).toEqual([
      ['phuong-tich-son', 'pi-1', false, null, 1],
      ['phuong-tich-son', 'pi-2', false, null, 1],
    ]);
    const rot = io(fenv);
    expect(await runCli(['agents', 'rotate', '--site', 'phuong-tich-son', '--agent', 'pi-1', '--hub-url', 'mqtt://hub:1883'], rot.io)).toBe(0);
    expect((parse(rot.out.join('')) as { hub: { token: string } }).hub.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rev = io(fenv);
    expect(await runCli(['agents', 'revoke', '--site', 'phuong-tich-son', '--agent', 'pi-2'], rev.io)).toBe(0);
    const again = io(fenv);
    expect(await runCli(['agents', 'revoke', '--site', 'phuong-tich-son', '--agent', 'pi-2'], again.io)).toBe(1);
    expect(again.err.join('')).toContain('not enrolled (or already revoked)');
    const table = io(fenv);
    expect(await runCli(['agents', 'list', '--revoked'], table.io)).toBe(0);
    const rows = table.out.join('').trim().split('\n').map((l) => l.split('\t'));
    expect(rows[0]?.slice(0, 4)).toEqual(['SITE', 'AGENT', 'ONLINE', 'LAST_SEEN']);
    expect(rows.slice(1).map((r) => r.slice(0, 3))).toEqual([
      ['phuong-tich-son', 'pi-1', 'no'],
      ['phuong-tich-son', 'pi-2', 'revoked'],
      ['xa-lap-thach', 'pi-1', 'no'],
    ]);
    const audit = readFileSync(join(fdir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { action: string; target: string }));
    expect(audit.map((e) => [e.action, e.target])).toEqual([
      ['registry.import', legacy],
      ['agent.rotate', 'phuong-tich-son/pi-1'],
      ['agent.revoke', 'phuong-tich-son/pi-2'],
    ]);
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

  it('usage errors exit 2 and runtime errors 1, with a message and no stack trace', async () => {
    for (const [argv, code] of [
      [['enroll', '--site', 'nowhere', '--agent', 'pi-1'], 1],
      [['enroll', '--agent', 'pi-1'], 2],
      [['frobnicate'], 2],
      [['enroll', '--nope'], 2],
      [['sites', 'import', '--csv', join(dir, 'missing.csv')], 1],
      [['enroll', '--all-sites', '--limit', 'zero', '--out', join(dir, 'x.json')], 2],
      [['enroll', '--all-sites'], 2],
      [['enroll', '--site', 'phuong-tich-son', '--agent', 'pi-1', '--limit', '3'], 2],
      [['enroll', '--site', 'phuong-tich-son', '--agent', 'pi-1', '--hub-url', 'http://x'], 2],
      [['sites', 'import'], 2],
      [['sites', 'import', '--site', 'x'], 2],
      [['sites'], 2],
      [['sites', 'nope'], 2],
      [['sites', 'list', 'extra'], 2],
      [['start', '--config', join(dir, 'missing.yaml')], 1],
      [['sites', 'list'], 1],
      [['alerts', 'list', '--state', 'burning'], 2],
      [['silences', 'add', '--site', 'x'], 2],
      [['alerts', 'ack'], 2],
      [['services', 'token', '--name', 'Bad Name'], 2],
      [['alerts', 'list', '--url', 'http://127.0.0.1:9'], 1],
    ] as const) {
      const r = io(argv[0] === 'sites' && argv[1] === 'list' && argv.length === 2 ? { IOC_HUB_CONFIG: join(dir, 'missing.yaml') } : env);
      expect(await runCli(argv, r.io), argv.join(' ')).toBe(code);
      expect(r.err.join('')).toMatch(/^ioc-hub: /);
      expect(r.err.join('')).not.toContain('    at ');
    }
  });

  it('enroll --out writes a 0600 agent.yaml and prints no token; the config comes from IOC_HUB_CONFIG', async () => {
    const hubYaml = join(dir, 'hub.yaml');
    writeFileSync(hubYaml, `registry:\n  path: ${env.IOC_HUB_REGISTRY_PATH}\nmqtt:\n  host: 127.0.0.1\n  port: 18830\n`);
    const out = join(dir, 'agent.yaml');
    writeFileSync(out, 'old', { mode: 0o644 }); // an existing file is made private too
    const r = io({ IOC_HUB_CONFIG: hubYaml });
    expect(await runCli(['enroll', '--site', 'phuong-tich-son', '--agent', 'pi-2', '--out', out], r.io)).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const doc = parse(readFileSync(out, 'utf8')) as { site: string; agent: string; hub: { url: string; token: string } };
    expect(doc).toMatchObject({ site: 'phuong-tich-son', agent: 'pi-2', hub: { url: 'mqtt://127.0.0.1:18830' } });
    expect(r.out.join('')).toContain(out);
    expect(r.out.join('')).not.toContain(doc.hub.token);
  });

  it('--help on every command and group exits 0 with its usage, options, environment, example and exit codes', async () => {
    for (const spec of HUB_COMMANDS) {
      const r = io(env);
      expect(await runCli([...spec.command.split(' '), '--help'], r.io), spec.command).toBe(0);
      const text = r.out.join('');
      expect(text).toContain(`Usage:\n  ioc-hub ${spec.command}`);
      for (const name of Object.keys(spec.options)) expect(text, `${spec.command} --${name}`).toMatch(new RegExp(`^  (-\\w, )?--${name}\\b`, 'm'));
      expect(text).toContain(`Examples:\n  npx ioc-hub ${spec.command}`);
      expect(text).toMatch(/Exit status:\n {2}0 .*\n {2}1 .*\n {2}2 /);
      if (Object.keys(spec.options).some((o) => o === 'config' || o === 'url')) expect(text).toMatch(/Environment:\n {2}IOC_HUB_/);
      expect(r.err).toEqual([]);
      // -h is --help, also after other options
      const h = io(env);
      expect(await runCli([...spec.command.split(' '), '--bogus', '-h'], h.io)).toBe(0);
      expect(h.out.join('')).toBe(text);
    }
    const top = io(env);
    expect(await runCli(['--help'], top.io)).toBe(0);
    for (const spec of HUB_COMMANDS) expect(top.out.join('')).toMatch(new RegExp(`^  ${spec.command}  `, 'm'));
    for (const group of ['sites', 'alerts', 'silences', 'services']) {
      const g = io(env);
      expect(await runCli([group, '--help'], g.io), group).toBe(0);
      expect(g.out.join('')).toContain(`  ${group} `);
    }
    const viaHelp = io(env);
    expect(await runCli(['help', 'sites', 'import'], viaHelp.io)).toBe(0);
    expect(viaHelp.out.join('')).toContain('Usage:\n  ioc-hub sites import');
    const none = io(env);
    expect(await runCli([], none.io)).toBe(2);
    expect(none.err.join('')).toContain('Commands:');
  });

  it('the real ioc-hub program: --help exits 0 on stdout, a usage error exits 2 on stderr', async () => {
    const [help, group, usage, badValue] = await Promise.all([
      runProgram('ioc-hub', ['silences', 'add', '--help']),
      runProgram('ioc-hub', ['sites', '--help']),
      runProgram('ioc-hub', ['enroll', '--nope']),
      runProgram('ioc-hub', ['alerts', 'list', '--state', 'burning']),
    ]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^ioc-hub silences add — [^]*Options:[^]*--duration DURATION[^]*Environment:[^]*IOC_HUB_API_TOKEN[^]*Examples:[^]*Exit status:/);
    expect(help.stderr).toBe('');
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('ioc-hub sites import --csv FILE');
    expect(usage.code).toBe(2);
    expect(usage.stdout).toBe('');
    expect(usage.stderr).toBe("ioc-hub: enroll: Unknown option '--nope'\nioc-hub: run 'npx ioc-hub enroll --help' for its options\n");
    expect(badValue.code).toBe(2);
  }, 60_000);
});
