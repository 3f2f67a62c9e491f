import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EDGE_COMMANDS, main, type CliIo } from './cli.ts';
import { TestBroker } from '../testkit/test-broker.ts';

const dir = mkdtempSync(join(tmpdir(), 'ioc-cli-'));
let broker: TestBroker;
beforeAll(async () => {
  broker = await TestBroker.start({ tokens: new Map([['xa-cli/pi-1', 'tok'], ['xa-cli2/pi-1', 'tok2']]) });
});
afterAll(async () => {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

function io(stopAfterMs = 0): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return {
    lines,
    errors,
    out: (l) => lines.push(l),
    err: (l) => errors.push(l),
    env: {},
    untilSignal: () => new Promise((r) => setTimeout(() => r('SIGTERM'), stopAfterMs)),
  };
}

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('ioc-edge CLI', () => {
  it('check-config: OK, or every error with its path and exit 1', async () => {
    const ok = io();
    expect(await main(['check-config', new URL('./samples/agent.yaml', import.meta.url).pathname], ok)).toBe(0);
    expect(ok.lines[0]).toMatch(/^OK /);
    const bad = io();
    const file = write('bad.yaml', 'site: xa\nagent: pi\nhub: {url: mqtt://h, token: t}\ncollectors:\n  - {type: tcp, host: h}\n  - {type: http, url: nope}\n');
    expect(await main(['check-config', file], bad)).toBe(1);
    expect(bad.errors.join('\n')).toMatch(/collectors\.0\.port: .*expected number/);
    expect(bad.errors.join('\n')).toMatch(/collectors\.1\.url/);
  });

  it('usage errors exit 2 without a stack', async () => {
    const o = io();
    expect(await main(['run'], o)).toBe(2);
    expect(await main(['simulate', '--hub', 'http://x', '--credentials', 'c'], o)).toBe(2);
    expect(await main(['frobnicate'], o)).toBe(2);
    expect(await main(['run', '--nope'], o)).toBe(2);
    expect(await main(['check-config'], o)).toBe(2);
    expect(await main(['check-config', 'a.yaml', 'b.yaml'], o)).toBe(2);
    expect(await main(['simulate', '--credentials', 'c'], o)).toBe(2);
    expect(await main(['simulate', '--hub', 'mqtt://h', '--credentials', 'c', '--mode', 'fast'], o)).toBe(2);
    expect(await main(['simulate', '--hub', 'mqtt://h', '--credentials', 'c', '--sites', '0'], o)).toBe(2);
    expect(await main(['version', '--nope'], o)).toBe(2);
    expect(await main([], o)).toBe(2);
    expect(o.errors.join('\n')).not.toMatch(/\s+at /);
    expect(o.errors.join('\n')).toMatch(/^ioc-edge: run: Unknown option '--nope'\nioc-edge: run 'npx ioc-edge run --help' for its options$/m);
  });

  it('--help on every command exits 0 with its usage, options, environment, example and exit codes', async () => {
    for (const spec of EDGE_COMMANDS) {
      const o = io();
      expect(await main([spec.command, '--help'], o), spec.command).toBe(0);
      const text = o.lines.join('\n');
      expect(text).toContain(`Usage:\n  ioc-edge ${spec.command}`);
      for (const name of Object.keys(spec.options)) expect(text, `${spec.command} --${name}`).toMatch(new RegExp(`^  (-\\w, )?--${name}\\b`, 'm'));
      expect(text).toMatch(/^ {2}-h, --help/m);
      expect(text).toContain(`Examples:\n  npx ioc-edge ${spec.command}`);
      expect(text).toMatch(/Exit status:\n {2}0 .*\n {2}1 .*\n {2}2 /);
      if (spec.command !== 'version') expect(text).toMatch(/Environment:\n {2}IOC_EDGE_/);
      expect(o.errors).toEqual([]);
      const h = io();
      expect(await main([spec.command, '--nope', '-h'], h)).toBe(0);
      expect(h.lines.join('\n')).toBe(text);
    }
    const top = io();
    expect(await main(['--help'], top)).toBe(0);
    for (const spec of EDGE_COMMANDS) expect(top.lines.join('\n')).toMatch(new RegExp(`^  ${spec.command}  `, 'm'));
  });

  it('check-config never echoes the token of a file it refuses', async () => {
    const token = 'Zq3-secret-token-value-that-must-not-leak-0123';
    for (const text of [
      `token: ${token}\n---\nsite: xa\nagent: pi\nhub: {url: "mqtt://h", token: ${token}}\n`, // the old `enroll > agent.yaml`
      `site: xa\nagent: pi\nhub: {url: mqtt://h, token: ${token}\n`, // broken flow mapping
      `site: xa\nagent: pi\nhub: {url: 42, token: [${token}]}\n`, // wrong types
    ]) {
      const o = io();
      expect(await main(['check-config', write('secret.yaml', text)], o)).toBe(1);
      expect(o.errors.join('\n')).toMatch(/invalid config/);
      expect(o.errors.join('\n')).not.toContain(token);
      expect(o.lines.join('\n')).not.toContain(token);
    }
  });

  it('simulate takes the hub from IOC_EDGE_HUB_URL', async () => {
    const o = { ...io(20_000), env: { IOC_EDGE_HUB_URL: broker.url } };
    const creds = write('creds-env.json', JSON.stringify({ agents: [{ site: 'xa-cli2', agent: 'pi-1', token: 'tok2' }] }));
    expect(await main(['simulate', '--credentials', creds, '--mode', 'flood', '--flood-batches', '2', '--flood-batch-points', '5', '--start-jitter-ms', '0', '--log-level', 'silent'], o)).toBe(0);
    expect(o.lines.at(-1)).toMatch(/acked=10 .*stopped=done/);
  });

  it('run: starts the agent and stops cleanly on a signal', async () => {
    const file = write(
      'run.yaml',
      `site: xa-cli\nagent: pi-1\nhub: {url: "${broker.url}", token: tok}\ndataDir: ${join(dir, 'data')}\nlogLevel: silent\ncollectors:\n  - {type: host, intervalS: 0.1}\n`,
    );
    expect(await main(['run', '--config', file], io(800))).toBe(0);
    expect(broker.received.some((r) => r.topic === 'ioc/v1/xa-cli/pi-1/telemetry')).toBe(true);
  });

  it('simulate: flood mode runs to completion from a credentials file', async () => {
    const creds = write('creds.json', JSON.stringify({ agents: [{ site: 'xa-cli2', agent: 'pi-1', token: 'tok2' }] }));
    const o = io(20_000);
    expect(await main(['simulate', '--hub', broker.url, '--credentials', creds, '--mode', 'flood', '--flood-batches', '5', '--flood-batch-points', '10', '--start-jitter-ms', '0', '--log-level', 'silent'], o)).toBe(0);
    expect(o.lines.at(-1)).toMatch(/acked=50 .*stopped=done/);
    const bad = io();
    expect(await main(['simulate', '--hub', broker.url, '--credentials', write('bad.json', '{"agents":[]}')], bad)).toBe(1);
    expect(bad.errors[0]).toMatch(/invalid credentials/);
  });

  it('the real ioc-edge program: --help exits 0, a usage error exits 2', async () => {
    const bin = new URL('../bin/ioc-edge.js', import.meta.url).pathname;
    const exec = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile(process.execPath, [bin, ...args], { timeout: 30_000 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
      });
    const [help, usage] = await Promise.all([exec(['simulate', '--help']), exec(['run', '--nope'])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^ioc-edge simulate — [^]*--credentials FILE[^]*IOC_EDGE_HUB_URL[^]*Examples:[^]*Exit status:/);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^ioc-edge: run: Unknown option '--nope'/);
  }, 40_000);

  it('bin/ioc-edge.js launches through tsx', async () => {
    const bin = new URL('../bin/ioc-edge.js', import.meta.url).pathname;
    const sample = new URL('./samples/minimal.yaml', import.meta.url).pathname;
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(process.execPath, [bin, 'check-config', sample], { timeout: 20_000 }, (err, stdout) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout }));
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^OK /);
  });
});
