// The seam between the code and the machine it runs on: every program the code, the demo and the tests
// start is in scripts/os-packages.json (installed by the README's commands through
// scripts/ensure-os-packages.mjs) or is a Node-side program; and each listed package really ships its
// program on this machine. The scanner: scripts/lib/spawned-programs.ts. Its limits: a program name computed
// at run time (a config value, the environment, a parameter of an instance method) cannot be read, so such a
// call fails this test as "cannot tell which program" until a `// os-program: NAME` comment beside it names
// it; programs started from node_modules, from `node -e` code strings or by shell scripts are not seen.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, onPath } from '../testkit/child-process.ts';
import { problemsOf, scanNodeRedFlows, scanPackageScripts, scanSources, type SourceText, type SpawnSite } from '../testkit/spawned-programs.ts';
import { loadOsPackages } from '../scripts/os-packages.ts';

const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.demo', '.scratch', 'coverage']);
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** Every source file of the project (protocol, edge, hub, journal, flows, scripts, test, testkit, bench, dashboards, bin, the top level). */
function sourceFiles(dir = PROJECT_ROOT, out: SourceText[] = []): SourceText[] {
  for (const entry of readdirSync(dir)) {
    if (SKIP_DIRS.has(entry)) continue;
    const path = join(dir, entry);
    const st = statSync(path);
    if (st.isDirectory()) sourceFiles(path, out);
    else if (SOURCE.test(entry) && !entry.endsWith('.d.ts')) out.push({ file: relative(PROJECT_ROOT, path).split('\\').join('/'), text: readFileSync(path, 'utf8') });
  }
  return out;
}

/** The packages dpkg says own the file (trying the merged-/usr twin of each path: dpkg records /bin/ping). */
function owningPackages(path: string): string[] {
  const candidates = new Set<string>();
  for (const p of [path, realpathSync(path)]) {
    candidates.add(p);
    candidates.add(p.startsWith('/usr/') ? p.slice(4) : `/usr${p}`);
  }
  for (const c of candidates) {
    const r = spawnSync('dpkg-query', ['-S', c], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    return r.stdout
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('diversion by'))
      .flatMap((l) => (l.slice(0, l.lastIndexOf(': ')) || '').split(', '))
      .map((p) => p.replace(/:[a-z0-9]+$/, ''));
  }
  return [];
}

const list = loadOsPackages();
let sites: SpawnSite[] = [];

beforeAll(() => {
  const pkgText = readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8');
  const flowSites = readdirSync(join(PROJECT_ROOT, 'flows'))
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => scanNodeRedFlows(`flows/${f}`, readFileSync(join(PROJECT_ROOT, 'flows', f), 'utf8')));
  sites = [...scanSources(sourceFiles()), ...scanPackageScripts('package.json', pkgText), ...flowSites];
}, 60_000);

describe('OS programs', () => {
  it('every program the code, the demo and the tests start is in scripts/os-packages.json or is a Node-side program', () => {
    const npmBins = new Set(readdirSync(join(PROJECT_ROOT, 'node_modules', '.bin')));
    const problems = problemsOf(sites, { os: new Set(list.packages.map((p) => p.bin)), node: new Set(list.nodePrograms), npmBins });
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('the scan sees the spawns we know of (it is not blind)', () => {
    const at = (file: string): string[] => sites.filter((s) => s.file === file).flatMap((s) => s.programs);
    expect(at('edge/collectors/modbus.test.ts')).toContain('socat');
    expect(at('edge/collectors/icmp.ts')).toContain('ping');
    expect(at('test/tls.test.ts')).toContain('openssl');
    // influxd is named in influxd-process.ts and started through spawnGuarded's parameter
    expect(at('scripts/lib/child-process.ts')).toEqual(expect.arrayContaining(['influxd', 'node', 'setpriv']));
    expect(at('package.json')).toEqual(expect.arrayContaining(['node', 'vitest', 'tsx']));
    expect(sites.length).toBeGreaterThan(15);
  });

  it('each listed package ships its program here (dpkg -S), and every required program is installed', (ctx) => {
    const missing = list.packages.filter((p) => !p.optional && onPath(p.bin) === undefined).map((p) => `${p.bin} (${p.pkg})`);
    expect(missing, 'run: node scripts/ensure-os-packages.mjs').toEqual([]);
    if (onPath('dpkg-query') === undefined) {
      ctx.skip('no dpkg-query: not a Debian system, package names unchecked');
      return;
    }
    const wrong: string[] = [];
    for (const p of list.packages) {
      const path = onPath(p.bin);
      if (path === undefined) continue;
      const owners = owningPackages(path);
      // a program installed outside dpkg (e.g. /usr/local) says nothing about the package name
      if (owners.length > 0 && !owners.includes(p.pkg)) wrong.push(`${p.bin}: listed as package ${p.pkg}, but dpkg says ${path} belongs to ${owners.join(', ')}`);
      if (owners.length === 0 && path.startsWith('/usr/bin/')) wrong.push(`${p.bin}: ${path} belongs to no package (listed as ${p.pkg})`);
    }
    expect(wrong).toEqual([]);
  });

  it('ensure-os-packages.mjs --check names every missing required package in one apt-get line, and passes here', () => {
    const bin = mkdtempSync(join(tmpdir(), 'ioc-os-path-'));
    try {
      const apt = onPath('apt-get');
      if (apt !== undefined) symlinkSync(apt, join(bin, 'apt-get'));
      const script = join(PROJECT_ROOT, 'scripts', 'ensure-os-packages.mjs');
      const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8', env: { ...process.env, PATH: bin } });
      const pkgs = [...new Set(list.packages.filter((p) => !p.optional).map((p) => p.pkg))].join(' ');
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(apt === undefined ? `Install the Debian packages ${pkgs}` : `sudo apt-get install -y ${pkgs}`);
      for (const p of list.packages.filter((x) => !x.optional)) expect(r.stderr).toContain(`${p.bin} (package ${p.pkg})`);
      expect(execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8' })).toBe('');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('as root, ensure-os-packages.mjs installs every missing required package with one apt-get install', (ctx) => {
    if (process.getuid?.() !== 0) {
      ctx.skip('not root: the script only prints the line then');
      return;
    }
    const bin = mkdtempSync(join(tmpdir(), 'ioc-os-apt-'));
    try {
      // a fake apt-get that records its arguments and installs nothing
      const calls = join(bin, 'calls.log');
      writeFileSync(join(bin, 'apt-get'), `#!${process.execPath}\nrequire('node:fs').appendFileSync(${JSON.stringify(calls)}, process.argv.slice(2).join(' ') + '\\n');\n`, { mode: 0o755 });
      const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'ensure-os-packages.mjs')], { encoding: 'utf8', env: { ...process.env, PATH: bin } });
      const pkgs = [...new Set(list.packages.filter((p) => !p.optional).map((p) => p.pkg))].join(' ');
      expect(readFileSync(calls, 'utf8').split('\n')).toEqual(['update -qq', `install -y -qq --no-install-recommends ${pkgs}`, '']);
      // nothing was installed, and it says so
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('still missing after install: influxd');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
