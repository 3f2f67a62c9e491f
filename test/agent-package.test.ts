// The agent as a Raspberry Pi installs it: the tarball of `npm run pack:agent` built, extracted into a folder
// of its own (no project node_modules above it), its `ioc-edge check-config` run on a shipped sample, and the
// agent run from it against a real hub until its points are in InfluxDB. Compiled JavaScript only: no tsx,
// no TypeScript, no tests in the tarball.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManagedProcess } from '../testkit/child-process.ts';
import { importedPackages, packAgent, type PackResult } from '../scripts/pack-agent.ts';
import { sampleConfigFor, unitExecStart } from '../testkit/agent-sample.ts';
import { testkitFilesIn, testkitModuleNames } from '../testkit/testkit-files.ts';
import { startStack } from '../testkit/stack.ts';
import { waitUntil } from '../testkit/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ioc-agent-pkg-'));
let packed: PackResult;
let entries: string[];
let home: string;

beforeAll(() => {
  packed = packAgent({ outDir: join(dir, 'out') });
  const opt = join(dir, 'opt', 'ioc-edge');
  mkdirSync(opt, { recursive: true });
  const x = spawnSync('tar', ['-xzf', packed.tarball, '-C', opt], { encoding: 'utf8' });
  expect(x.status, x.stderr).toBe(0);
  const list = spawnSync('tar', ['-tzf', packed.tarball], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  entries = list.stdout.split('\n').filter((l) => l !== '');
  home = join(opt, `ioc-edge-agent-${packed.version}`);
}, 600_000);

afterAll(() => {
  if (process.env.IOC_KEEP_TEST_DIRS === undefined) rmSync(dir, { recursive: true, force: true });
});

describe('the agent tarball (npm run pack:agent)', () => {
  it('is one ioc-edge-agent-<version>.tar.gz of compiled JavaScript: no .ts file, no tsx, no tests', () => {
    expect(packed.tarball.endsWith(`/ioc-edge-agent-${packed.version}.tar.gz`)).toBe(true);
    const top = new Set(entries.map((e) => e.split('/')[0]));
    expect([...top]).toEqual([`ioc-edge-agent-${packed.version}`]);
    const rel = entries.map((e) => e.slice(e.indexOf('/') + 1));
    for (const f of ['bin/ioc-edge.js', 'edge/cli.js', 'edge/agent.js', 'protocol/index.js', 'journal/journal.js', 'package.json', 'edge/deploy/ioc-edge.service', 'node_modules/mqtt/package.json']) {
      expect(rel, f).toContain(f);
    }
    expect(rel.filter((e) => /\.[cm]?ts$/.test(e))).toEqual([]);
    expect(rel.filter((e) => /(^|\/)node_modules\/(tsx|esbuild|@esbuild|typescript|vitest|aedes|node-red)\//.test(e))).toEqual([]);
    const own = rel.filter((e) => !e.startsWith('node_modules/'));
    expect(own.filter((e) => /\.test\.js$|\/testing\/|outbox-contract|crash-writer/.test(e))).toEqual([]);
    // Nothing of testkit/ (the test harness, test brokers, the leak check), under any name.
    expect(testkitModuleNames().size).toBeGreaterThan(10);
    expect(testkitFilesIn(own)).toEqual([]);
    // Only the agent: nothing of the hub, the flows or the dashboards.
    expect(rel.filter((e) => /^(hub|flows|dashboards|test|testkit|bench|scripts)\//.test(e))).toEqual([]);
    // The agent's own files never mention tsx (the launcher runs edge/cli.js directly).
    for (const f of ['bin/ioc-edge.js', 'edge/cli.js', 'edge/agent.js']) expect(readFileSync(join(home, f), 'utf8')).not.toMatch(/tsx/);
  });

  it('declares exactly the production dependencies the compiled agent imports', () => {
    const raw: unknown = JSON.parse(readFileSync(join(home, 'package.json'), 'utf8'));
    expect(raw).not.toHaveProperty('devDependencies');
    const pkg = z
      .object({ name: z.string(), version: z.string(), dependencies: z.record(z.string(), z.string()), optionalDependencies: z.record(z.string(), z.string()).default({}) })
      .parse(raw);
    expect(pkg.version).toBe(packed.version);
    const imported = new Set([...importedPackages(join(home, 'edge')), ...importedPackages(join(home, 'protocol')), ...importedPackages(join(home, 'journal'))]);
    expect(Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }).sort()).toEqual([...imported].sort());
    expect(pkg.dependencies).toHaveProperty('mqtt');
    for (const d of Object.keys(pkg.dependencies)) expect(existsSync(join(home, 'node_modules', d, 'package.json')), `${d} installed`).toBe(true);
  });

  it('ships the systemd unit pointing at the launcher of the installed release', () => {
    const unit = readFileSync(join(home, 'edge', 'deploy', 'ioc-edge.service'), 'utf8');
    const workdir = /^WorkingDirectory=(.+)$/m.exec(unit)?.[1] ?? '';
    const exec = unitExecStart(unit);
    expect(exec.node).toBe('/usr/bin/node');
    // README: the release is extracted into /opt/ioc-edge and /opt/ioc-edge/current links to it.
    expect(workdir).toBe('/opt/ioc-edge/current');
    expect(exec.launcher).toBe(`${workdir}/bin/ioc-edge.js`);
    expect(existsSync(join(home, exec.launcher.slice(workdir.length + 1)))).toBe(true);
    expect(exec.args).toEqual(['run', '--config', '/etc/ioc-edge/agent.yaml']);
    // Every node flag of the unit is one this node accepts (the agent runs with them below).
    const r = spawnSync(process.execPath, [...exec.nodeFlags, '-e', '0'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(unit).not.toMatch(/tsx/);
  });

  it('check-config accepts a shipped sample, run from the extracted folder with node alone', () => {
    const r = spawnSync(process.execPath, [join(home, 'bin', 'ioc-edge.js'), 'check-config', join(home, 'edge', 'samples', 'agent.yaml')], {
      cwd: home,
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^OK /);
  });

  it('runs against a real hub with the default collectors until its points are in InfluxDB', async () => {
    const stack = await startStack({ agents: 1 });
    let agent: ManagedProcess | undefined;
    try {
      const me = stack.agents[0];
      if (me === undefined) throw new Error('no agent enrolled');
      const config = join(stack.dir, 'agent.yaml');
      writeFileSync(config, sampleConfigFor(stack.mqttUrl, me, join(home, 'edge', 'samples', 'agent.yaml'), join(stack.dir, 'agent-data')), { mode: 0o600 });
      const log = join(stack.dir, 'agent.log');
      const fd = openSync(log, 'a');
      // As the unit runs it: its node flags, the release's launcher.
      const { nodeFlags } = unitExecStart(readFileSync(join(home, 'edge', 'deploy', 'ioc-edge.service'), 'utf8'));
      const child = spawn(process.execPath, [...nodeFlags, join(home, 'bin', 'ioc-edge.js'), 'run', '--config', config], { cwd: home, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', fd, fd] });
      closeSync(fd);
      agent = new ManagedProcess('ioc-edge run (tarball)', child, log);
      const where = `"site"='${me.site}' AND "agent"='${me.agent}'`;
      try {
        await waitUntil(
          'host and net_probe points from the packaged agent',
          async () => {
            const host = await stack.influx.query(`SELECT count("cpu_pct") FROM "host" WHERE ${where}`, 'ioc');
            const probes = await stack.influx.query(`SELECT count("up") FROM "net_probe" WHERE ${where}`, 'ioc');
            const n = (b: typeof host): number => Number(b.results[0]?.series?.[0]?.values?.[0]?.[1] ?? 0);
            return n(host) > 0 && n(probes) > 0;
          },
          60_000,
          500,
        );
      } catch (err: unknown) {
        throw new Error(`no points from the packaged agent:\n${readFileSync(log, 'utf8').slice(-3000)}`, { cause: err });
      }
      expect(agent.running).toBe(true);
    } finally {
      await agent?.stop();
      await stack.stop();
    }
  }, 180_000);
});
